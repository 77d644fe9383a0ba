package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobState;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * History against the real broker: commit lists carry the jobs that ran on each commit (from {@code
 * tusk.jobs}) and the rejected and changed counts; a commit's rejected rows are read from {@code
 * <repo>.rejected} by source offset, paged, with row bytes only on request.
 */
class HistoryIT extends CommitServiceItBase {

  @Test
  void shouldListJobsAndCountsWhenCommitsAreListed() throws Exception {
    // Given a commit with one pipeline job, not started yet
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject sealed = seal(repo, null);
    String commitId = sealed.getString("id");
    String jobId = sealed.getJsonArray("jobs").getJsonObject(0).getString("jobId");
    JsonObject pending = sealed.getJsonArray("jobs").getJsonObject(0);
    assertThat(pending.containsKey("state")).isTrue();
    assertThat(pending.getValue("state")).isNull();
    assertThat(sealed.getValue("rejected")).isNull();

    // When the job runs, a re-run of it is started, and the commit completes with stats
    Job running = JobsIT.job(jobId, pipeline, repo, commitId, JobState.RUNNING, 1);
    JobsIT.writeJob(running);
    Job rerun =
        Job.newBuilder(JobsIT.job(Ids.newId(), pipeline, repo, commitId, JobState.SUCCESS, 0))
            .setKind(JobKind.RERUN)
            .setMode(JobMode.REPROCESS)
            .setRerunOf(jobId)
            .setCreatedAt(running.getCreatedAt() + 1)
            .build();
    JobsIT.writeJob(rerun);
    Commit commit =
        Commit.newBuilder(storedCommit(commitId))
            .setStats(new CommitStats(9L, 2L, 5L, 4L, 1L))
            .build();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-aggregator-" + suffix(), null))) {
      producer
          .send(
              new ProducerRecord<>(
                  topics.commits.name(),
                  topics.commits.key(commitId),
                  topics.commits.value(commit)))
          .get(30, TimeUnit.SECONDS);
    }

    // Then the list shows both jobs with their state and counts, and the commit's counts
    JsonObject listed =
        eventually(
            () -> get("/repos/" + repo + "/commits").bodyAsJsonArray().getJsonObject(0),
            c -> c.getJsonArray("jobs").size() == 2 && "complete".equals(c.getString("state")),
            "jobs and stats of " + commitId);
    JsonArray jobs = listed.getJsonArray("jobs");
    JsonObject first = jobs.getJsonObject(0);
    assertThat(first.getString("jobId")).isEqualTo(jobId);
    assertThat(first.getString("pipeline")).isEqualTo(pipeline);
    assertThat(first.getString("state")).isEqualTo("RUNNING");
    assertThat(first.getLong("processed")).isEqualTo(4);
    assertThat(first.getLong("skipped")).isZero();
    assertThat(first.getLong("failed")).isEqualTo(1);
    JsonObject second = jobs.getJsonObject(1);
    assertThat(second.getString("jobId")).isEqualTo(rerun.getId());
    assertThat(second.getString("kind")).isEqualTo("RERUN");
    assertThat(second.getString("mode")).isEqualTo("REPROCESS");
    assertThat(second.getString("rerunOf")).isEqualTo(jobId);
    assertThat(second.getString("state")).isEqualTo("SUCCESS");
    assertThat(listed.getLong("rejected")).isEqualTo(2);
    assertThat(listed.getLong("changedMembers")).isEqualTo(4);

    // And the commit alone reads the same
    assertThat(get("/repos/" + repo + "/commits/" + commitId).bodyAsJsonObject()).isEqualTo(listed);
  }

  @Test
  void shouldListACommitsRejectedRowsBySourceOffsetWhenAsked() throws Exception {
    // Given commit 1 over 90 rows of partition 0 and 10 of partition 1, commit 2 over 30 more of
    // partition 0, and rejects (as the rekeyer writes them) of every 3rd row of partition 0 and
    // row 4 of partition 1
    String repo = createRepo(2, 1);
    produceRows(repo, 0, 90);
    produceRows(repo, 1, 10);
    JsonObject first = seal(repo, null);
    produceRows(repo, 0, 30);
    JsonObject second = seal(repo, null);
    List<Long> rejectedOffsets = new ArrayList<>();
    for (long offset = 0; offset < 120; offset += 3) {
      rejectedOffsets.add(offset);
    }
    writeRejects(repo, 0, rejectedOffsets);
    writeRejects(repo, 1, List.of(4L));

    // When the rejected rows of commit 1 are listed
    JsonObject page =
        get("/repos/" + repo + "/rejected?commit=" + first.getString("id")).bodyAsJsonObject();

    // Then they are the 30 of partition 0 below offset 90, then the one of partition 1
    assertThat(page.getString("commit")).isEqualTo(first.getString("id"));
    JsonArray rows = page.getJsonArray("rows");
    assertThat(rows).hasSize(31);
    assertThat(rows.getJsonObject(0).getInteger("partition")).isZero();
    assertThat(rows.getJsonObject(0).getLong("offset")).isZero();
    assertThat(rows.getJsonObject(29).getLong("offset")).isEqualTo(87);
    JsonObject last = rows.getJsonObject(30);
    assertThat(last.getInteger("partition")).isEqualTo(1);
    assertThat(last.getLong("offset")).isEqualTo(4);
    assertThat(last.getString("reason")).isEqualTo("UNPARSEABLE");
    assertThat(last.getString("detail")).isEqualTo("3 values, 2 columns");
    assertThat(last.getString("table")).isEqualTo("CONDITION_ERA");
    assertThat(last.containsKey("content")).isFalse();
    assertThat(page.getValue("next")).isNull();

    // And commit 2's are found by binary search, with their bytes when asked, in pages
    String second2 = "/repos/" + repo + "/rejected?commit=" + second.getString("id");
    JsonObject firstPage = get(second2 + "&limit=4&content=true").bodyAsJsonObject();
    JsonArray secondRows = firstPage.getJsonArray("rows");
    assertThat(secondRows.stream().map(r -> ((JsonObject) r).getLong("offset")))
        .containsExactly(90L, 93L, 96L, 99L);
    assertThat(
            new String(
                Base64.getDecoder().decode(secondRows.getJsonObject(0).getString("content")),
                StandardCharsets.UTF_8))
        .isEqualTo("bad row 90");
    assertThat(firstPage.getString("next")).isEqualTo("0:99");
    JsonObject rest = get(second2 + "&after=0:99").bodyAsJsonObject();
    assertThat(rest.getJsonArray("rows").stream().map(r -> ((JsonObject) r).getLong("offset")))
        .containsExactly(102L, 105L, 108L, 111L, 114L, 117L);
    assertThat(rest.getValue("next")).isNull();

    // And without a commit, the newest commit's are listed
    JsonObject newest = get("/repos/" + repo + "/rejected?limit=1").bodyAsJsonObject();
    assertThat(newest.getString("commit")).isEqualTo(second.getString("id"));

    // And bad parameters are 400s, unknown commits 404s
    String other = createRepo(1, 1);
    String otherCommit = seal(other, null).getString("id");
    assertError(get("/repos/" + createRepo(1, 1) + "/rejected"), 404, "has no commit yet");
    assertError(get("/repos/" + repo + "/rejected?commit=" + Ids.newId()), 404, "no commit");
    assertError(get("/repos/" + repo + "/rejected?commit=" + otherCommit), 400, "commit of repo");
    assertError(get(second2 + "&after=x"), 400, "after must be <partition>:<offset>");
    assertError(get(second2 + "&limit=0"), 400, "limit");
  }

  private static void produceRows(String repo, int partition, int count) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-loader-" + suffix(), null))) {
      for (int i = 0; i < count; i++) {
        producer.send(row(TopicNames.updates(repo), partition, i));
      }
      producer.flush();
    }
  }

  /** Rejects of source rows at {@code offsets} of {@code partition}, as the rekeyer writes them. */
  @Test
  void shouldBoundRawCopiesByTheRepoRetentionAndSayWhereRejectedRowsExpired() throws Exception {
    // Given a repo kept forever with a commit over 6 rows of which 3 were rejected
    String repo = createRepo(1, 1);
    assertTopic(TopicNames.updates(repo), 1, "delete", "-1");
    produceRows(repo, 0, 6);
    JsonObject commit = seal(repo, null);
    writeRejects(repo, 0, List.of(1L, 3L, 5L));
    String path = "/repos/" + repo + "/rejected?commit=" + commit.getString("id");
    JsonObject before = get(path).bodyAsJsonObject();
    assertThat(before.getJsonArray("rows")).hasSize(3);
    assertThat(before.getJsonArray("expiredPartitions")).isEmpty();

    // When its owner sets a raw retention of one second
    HttpResponse<Buffer> set =
        put("/repos/" + repo + "/retention", new JsonObject().put("rawRetention", "1s"));
    assertThat(set.statusCode()).as(set.bodyAsString()).isEqualTo(200);
    assertThat(set.bodyAsJsonObject().getLong("rawRetentionMs")).isEqualTo(1000);

    // Then the raw topics keep records one second, the members topic stays compacted
    assertTopic(TopicNames.updates(repo), 1, "delete", "1000");
    assertTopic(TopicNames.rejected(repo), 1, "delete", "1000");
    assertTopic(TopicNames.byMember(repo), 1, "delete", "1000");
    assertTopic(TopicNames.members(repo), 1, "compact", null);

    // And once retention ran, the commit's rejected rows are said to have expired, not left out
    JsonObject after =
        eventually(
            () -> get(path).bodyAsJsonObject(),
            page -> !page.getJsonArray("expiredPartitions").isEmpty(),
            "the rejected rows expired");
    assertThat(after.getJsonArray("rows")).isEmpty();
    assertThat(after.getJsonArray("expiredPartitions").getList()).containsExactly(0);

    // And bad values are 400s naming the field
    assertError(
        put("/repos/" + repo + "/retention", new JsonObject().put("rawRetention", "a week")),
        400,
        "rawRetention");
    assertError(put("/repos/" + repo + "/retention", new JsonObject()), 400, "rawRetention");
  }

  private static void writeRejects(String repo, int partition, List<Long> offsets)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-rekeyer-" + suffix(), null))) {
      for (long offset : offsets) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.REJECT_REASON, Headers.bytes("UNPARSEABLE"));
        headers.add(Headers.REJECT_DETAIL, Headers.bytes("3 values, 2 columns"));
        headers.add(Headers.SOURCE_TOPIC, Headers.bytes(TopicNames.updates(repo)));
        headers.add(Headers.SOURCE_PARTITION, Headers.bytes(Integer.toString(partition)));
        headers.add(Headers.SOURCE_OFFSET, Headers.bytes(Long.toString(offset)));
        headers.add(Headers.TABLE, Headers.bytes("CONDITION_ERA"));
        producer.send(
            new ProducerRecord<byte[], byte[]>(
                TopicNames.rejected(repo),
                partition,
                (byte[]) null,
                ("bad row " + offset).getBytes(StandardCharsets.UTF_8),
                headers));
      }
      producer.flush();
    }
  }
}
