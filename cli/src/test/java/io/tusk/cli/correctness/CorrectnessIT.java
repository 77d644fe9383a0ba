package io.tusk.cli.correctness;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import io.tusk.cli.bench.NoopTransform;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The six wrong-but-successful results of issue 8, each reproduced the way a user met it, through
 * the HTTP API of the real services: a seal on another branch, a pipeline update, a delete flowing
 * down the DAG, a member of 20,000 rows, a rewind and a reprocess of an older job.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CorrectnessIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final String TABLE = "EVENTS";
  private static final String SUMMARY = "member-summary";

  private TuskServices services;
  private TuskClient client;
  private KafkaSettings settings;
  private KafkaProducer<byte[], byte[]> producer;
  private long eventId;

  @BeforeAll
  void startServices(LocalStack stack) throws Exception {
    Path home = Files.createTempDirectory(Paths.get("target"), "correctness-it-");
    services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1);
    client = services.client();
    settings = KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "correctness-it");
    producer = new KafkaProducer<>(settings.producer("correctness-it-producer", null));
  }

  @AfterAll
  void stopServices() {
    if (producer != null) {
      producer.close();
    }
    if (services != null) {
      services.close();
    }
  }

  private static String name(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A repo of one EVENTS table keyed by EVENT_ID, members by MEMBER_ID, deletes by OP. */
  private String repo(String prefix) {
    String repo = name(prefix);
    ObjectNode spec = TuskClient.object().put("name", repo).put("format", "csv");
    spec.put("partitions", 2);
    ObjectNode table =
        spec.putArray("tables").addObject().put("name", TABLE).put("memberKey", "MEMBER_ID");
    for (String column :
        List.of("EVENT_ID", "MEMBER_ID", "KIND", "CODE", "EVENT_DATE", "AMOUNT", "OP")) {
      table.withArray("columns").add(column);
    }
    table.putArray("rowKey").add("EVENT_ID");
    table.put("opColumn", "OP");
    client.createRepo(spec);
    return repo;
  }

  private String pipeline(String prefix, String repo, String branch, String transform) {
    String name = name(prefix);
    ObjectNode spec = TuskClient.object().put("name", name).put("parallelism", 1);
    spec.putObject("input").put("repo", repo).put("branch", branch);
    spec.putObject("transform").put("java", transform);
    client.createPipeline(spec);
    return name;
  }

  /** Produces events (CSV) keyed by member; returns their event IDs. */
  private List<Long> produce(String repo, String member, String date, int count, String op)
      throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long id = ++eventId;
      ids.add(id);
      sent.add(send(repo, id, member, date, op));
    }
    for (Future<RecordMetadata> f : sent) {
      f.get(30, TimeUnit.SECONDS);
    }
    return ids;
  }

  private Future<RecordMetadata> send(String repo, long id, String member, String date, String op) {
    String line = id + "," + member + ",claim,code-" + "x".repeat(40) + "," + date + ",1.50," + op;
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(
            TopicNames.updates(repo),
            member.getBytes(StandardCharsets.UTF_8),
            line.getBytes(StandardCharsets.UTF_8));
    record.headers().add(new RecordHeader(Headers.TABLE, Headers.bytes(TABLE)));
    return producer.send(record);
  }

  /** Deletes events by ID (op D rows naming the member). */
  private void delete(String repo, String member, List<Long> ids) throws Exception {
    for (long id : ids) {
      send(repo, id, member, "2024-01-01", "D").get(30, TimeUnit.SECONDS);
    }
  }

  private JsonNode seal(String repo, String branch) {
    return client.commitSend(
        "POST", "/repos/" + repo + "/commits?branch=" + branch, TuskClient.object());
  }

  /** The job of {@code pipeline} on a commit, once it ended. */
  private JsonNode jobOf(JsonNode commit, String pipeline) {
    for (JsonNode job : commit.path("jobs")) {
      if (job.path("pipeline").asText().equals(pipeline)) {
        return client.awaitJobEnd(job.path("jobId").asText(), TIMEOUT);
      }
    }
    throw new AssertionError("no job of " + pipeline + " on commit " + commit);
  }

  private JsonNode awaitJob(String jobId) {
    return client.awaitJobEnd(jobId, TIMEOUT);
  }

  /**
   * The pipeline's output of a member made by {@code jobId}, once the lineage service has it: its
   * data, or null when that job removed the member's output.
   */
  private JsonNode output(String pipeline, String member, String jobId) {
    JsonNode history =
        TuskClient.await(
            () -> client.outputHistory(pipeline, member, null, null),
            h -> version(h, jobId) != null,
            TIMEOUT,
            "output of " + pipeline + "/" + member + " by job " + jobId);
    if (version(history, jobId).path("removed").asBoolean()) {
      return null;
    }
    return client.output(pipeline, member).path("data");
  }

  private static JsonNode version(JsonNode history, String jobId) {
    for (JsonNode version : history.path("outputs")) {
      if (version.path("jobId").asText().equals(jobId)) {
        return version;
      }
    }
    return null;
  }

  private static void assertProcessed(JsonNode job, long processed, long skipped) {
    assertThat(job.path("state").asText()).as(job.toString()).isEqualTo("SUCCESS");
    assertThat(job.path("processed").asLong()).as(job.toString()).isEqualTo(processed);
    assertThat(job.path("skipped").asLong()).as(job.toString()).isEqualTo(skipped);
  }

  @Test
  void shouldProcessAMemberChangedOnAnotherBranchWhenTheFollowedBranchIsSealed() throws Exception {
    // Given master sealed with M1 and M2, processed by a pipeline on master
    String repo = repo("c-branch");
    String p = pipeline("c-branch-p", repo, "master", RowCount.class.getName());
    produce(repo, "M1", "2024-01-02", 1, "");
    produce(repo, "M2", "2024-01-02", 1, "");
    assertProcessed(jobOf(seal(repo, "master"), p), 2, 0);

    // When a row of M1 is sealed on dev, then a row of M2 on master
    produce(repo, "M1", "2024-01-03", 1, "");
    seal(repo, "dev");
    produce(repo, "M2", "2024-01-03", 1, "");
    JsonNode job = jobOf(seal(repo, "master"), p);

    // Then master's job processes both, and M1's output counts the two rows master's head holds
    assertProcessed(job, 2, 0);
    assertThat(output(p, "M1", job.path("id").asText()).path(TABLE).asInt()).isEqualTo(2);
  }

  @Test
  void shouldRunTheNewTransformWhenAPipelineIsUpdatedOrCreatedAgain() throws Exception {
    // Given a pipeline whose transform counts rows, over M1 and M2
    String repo = repo("c-update");
    String p = pipeline("c-update-p", repo, "master", RowCount.class.getName());
    produce(repo, "M1", "2024-01-02", 2, "");
    produce(repo, "M2", "2024-01-02", 1, "");
    assertProcessed(jobOf(seal(repo, "master"), p), 2, 0);

    // When its transform is updated to another one
    ObjectNode update = TuskClient.object().put("name", p).put("parallelism", 1);
    update.putObject("input").put("repo", repo);
    update.putObject("transform").put("java", NoopTransform.class.getName());
    JsonNode updated = client.commitSend("PUT", "/pipelines/" + p, update);
    JsonNode job = awaitJob(updated.path("job").path("jobId").asText());

    // Then every output comes from the new transform, under the new spec hash
    assertProcessed(job, 2, 0);
    String jobId = job.path("id").asText();
    assertThat(output(p, "M1", jobId).toString()).isEqualTo("{\"member\":\"M1\"}");
    assertThat(client.output(p, "M1").path("datumHash").asText())
        .isNotEqualTo(
            client
                .outputHistory(p, "M1", 2, null)
                .path("outputs")
                .get(1)
                .path("datumHash")
                .asText());

    // When it is deleted and created again under its name with the row-count transform
    client.commitSend("DELETE", "/pipelines/" + p, null);
    ObjectNode again = TuskClient.object().put("name", p).put("parallelism", 1);
    again.putObject("input").put("repo", repo);
    again.putObject("transform").put("java", RowCount.class.getName());
    JsonNode created = client.createPipeline(again);
    JsonNode recreated = awaitJob(created.path("job").path("jobId").asText());

    // Then its outputs come from that transform again
    assertProcessed(recreated, 2, 0);
    assertThat(output(p, "M1", recreated.path("id").asText()).path(TABLE).asInt()).isEqualTo(2);
  }

  @Test
  void shouldRemoveADeletedMemberFromEveryDownstreamResult() throws Exception {
    // Given a pipeline per member and a downstream one per first event date, over M1 and M2
    String repo = repo("c-dag");
    String p = pipeline("c-dag-p", repo, "master", SUMMARY);
    String q = name("c-dag-q");
    ObjectNode spec = TuskClient.object().put("name", q).put("parallelism", 1);
    spec.putObject("input").put("pipeline", p).put("memberKey", "first");
    spec.putObject("transform").put("java", RowCount.class.getName());
    client.createPipeline(spec);
    List<Long> m1 = produce(repo, "M1", "2024-01-02", 2, "");
    produce(repo, "M2", "2024-01-02", 1, "");
    JsonNode commit1 = seal(repo, "master");
    assertProcessed(jobOf(commit1, p), 2, 0);
    JsonNode group = awaitGroup(commit1, q);
    assertThat(output(q, "2024-01-02", group.path("id").asText()).path("output").asInt())
        .isEqualTo(2);

    // When every row of M1 is deleted
    delete(repo, "M1", m1);
    JsonNode commit2 = seal(repo, "master");

    // Then M1's output is removed, and its group is computed again without it
    JsonNode job = jobOf(commit2, p);
    assertProcessed(job, 1, 1);
    assertThat(output(p, "M1", job.path("id").asText())).isNull();
    JsonNode downstream = awaitGroup(commit2, q);
    assertThat(downstream.path("processed").asLong()).isEqualTo(1);
    assertThat(output(q, "2024-01-02", downstream.path("id").asText()).path("output").asInt())
        .isEqualTo(1);
  }

  /** The downstream pipeline's job of the global ID of a source commit. */
  private JsonNode awaitGroup(JsonNode sourceCommit, String pipeline) {
    String globalId = sourceCommit.path("globalId").asText();
    JsonNode global =
        TuskClient.await(
            () -> client.global(globalId),
            g -> !g.path("state").asText().equals("running"),
            TIMEOUT,
            "global ID " + globalId + " to end");
    for (JsonNode job : global.path("jobs")) {
      if (job.path("pipeline").asText().equals(pipeline)) {
        return job;
      }
    }
    throw new AssertionError("no job of " + pipeline + " in " + global);
  }

  @Test
  void shouldProcessAMemberOfTwentyThousandRowsWithoutStoppingThePartitionService()
      throws Exception {
    // Given a member of 20,000 rows of about 100 bytes (2 MB as one object), and a small one
    String repo = repo("c-big");
    String p = pipeline("c-big-p", repo, "master", RowCount.class.getName());
    produce(repo, "BIG", "2024-01-02", 20_000, "");
    produce(repo, "SMALL", "2024-01-02", 1, "");

    // When it is committed
    JsonNode job = jobOf(seal(repo, "master"), p);

    // Then the job succeeds with all its rows, and the partition service stays healthy
    assertProcessed(job, 2, 0);
    assertThat(output(p, "BIG", job.path("id").asText()).path(TABLE).asInt()).isEqualTo(20_000);
    HttpResponse<String> health =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + services.partitionPort() + "/health"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);

    // And a correction of one of its rows is a new version of all of them
    produce(repo, "OTHER", "2024-01-02", 1, "");
    JsonNode next = jobOf(seal(repo, "master"), p);
    assertProcessed(next, 1, 2);
    JsonNode member = client.commitGet("/repos/" + repo + "/members/BIG");
    assertThat(member.path("rows")).hasSize(20_000);
  }

  @Test
  void shouldRemoveOutputsOfMembersAbsentAtTheNewHeadWhenMasterIsRewound() throws Exception {
    // Given M1 in commit 1 and M2 created in commit 2, both processed
    String repo = repo("c-rewind");
    String p = pipeline("c-rewind-p", repo, "master", RowCount.class.getName());
    produce(repo, "M1", "2024-01-02", 1, "");
    JsonNode commit1 = seal(repo, "master");
    assertProcessed(jobOf(commit1, p), 1, 0);
    produce(repo, "M2", "2024-01-02", 1, "");
    assertProcessed(jobOf(seal(repo, "master"), p), 1, 1);

    // When master is moved back to commit 1
    ObjectNode move = TuskClient.object().put("head", commit1.path("id").asText());
    JsonNode moved = client.commitSend("PUT", "/repos/" + repo + "/branches/master", move);
    JsonNode job = awaitJob(moved.path("jobs").get(0).path("jobId").asText());

    // Then M2's output is removed and M1's stays
    assertProcessed(job, 1, 1);
    assertThat(output(p, "M2", job.path("id").asText())).isNull();
    assertThat(client.output(p, "M1").path("data").path(TABLE).asInt()).isEqualTo(1);
  }

  @Test
  void shouldLeaveTheCurrentOutputsAloneWhenAnOlderJobIsReprocessed() throws Exception {
    // Given commit 1 (M1 one row, M2) and commit 2 (M1 gains a row), both processed
    String repo = repo("c-rerun");
    String p = pipeline("c-rerun-p", repo, "master", RowCount.class.getName());
    produce(repo, "M1", "2024-01-02", 1, "");
    produce(repo, "M2", "2024-01-02", 1, "");
    JsonNode job1 = jobOf(seal(repo, "master"), p);
    produce(repo, "M1", "2024-01-03", 1, "");
    JsonNode job2 = jobOf(seal(repo, "master"), p);
    assertThat(output(p, "M1", job2.path("id").asText()).path(TABLE).asInt()).isEqualTo(2);

    // When job 1 is re-run with reprocess
    JsonNode rerun =
        client.commitSend(
            "POST", "/jobs/" + job1.path("id").asText() + "/rerun?reprocess=true", null);
    JsonNode check = awaitJob(rerun.path("jobId").asText());

    // Then it reports identical outputs, and M1's current output still has master's two rows
    assertProcessed(check, 2, 0);
    assertThat(check.path("identical").asLong()).isEqualTo(2);
    assertThat(client.output(p, "M1").path("jobId").asText()).isEqualTo(job2.path("id").asText());
    assertThat(client.output(p, "M1").path("data").path(TABLE).asInt()).isEqualTo(2);
    assertThat(client.outputHistory(p, "M1", null, null).path("outputs")).hasSize(2);
  }
}
