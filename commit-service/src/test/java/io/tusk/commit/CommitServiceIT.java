package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.RepoSpec;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The commit service against the real broker and registry: repos and their topics, sealing at the
 * last stable offsets, one chain of commits under concurrent seals, seals on every by-member
 * partition, pipelines and their jobs, and the state a commit gets when the partition service
 * writes it back with stats.
 */
/**
 * The commit service against the real broker and registry: repos and their topics, sealing at the
 * last stable offsets, one chain of commits under concurrent seals, seals on every by-member
 * partition, pipelines and their jobs, and the state a commit gets when the partition service
 * writes it back with stats.
 */
class CommitServiceIT extends CommitServiceItBase {
  @Test
  void shouldCreateTopicsWithTheirPoliciesWhenARepoIsCreated() throws Exception {
    // Given a repo of 2 update partitions and 3 member partitions
    String repo = "it-repo-" + suffix();
    JsonObject body = repoBody(repo).put("partitions", 2).put("memberPartitions", 3);
    body.getJsonArray("tables").getJsonObject(0).put("rowKey", new JsonArray().add(COLUMNS.get(0)));

    // When it is created
    HttpResponse<Buffer> created = post("/repos", body);

    // Then the answer is the spec
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.getHeader("Location")).isEqualTo("/repos/" + repo);
    JsonObject spec = created.bodyAsJsonObject();
    assertThat(spec.getString("name")).isEqualTo(repo);
    assertThat(spec.getString("format")).isEqualTo("CSV");
    assertThat(spec.getString("defaultTable")).isEqualTo("CONDITION_ERA");
    assertThat(spec.getInteger("updatePartitions")).isEqualTo(2);
    assertThat(spec.getInteger("memberPartitions")).isEqualTo(3);
    assertThat(spec.getLong("createdAt")).isPositive();
    JsonObject table = spec.getJsonArray("tables").getJsonObject(0);
    assertThat(table.getJsonArray("columns").getList()).isEqualTo(COLUMNS);
    assertThat(table.getString("memberKey")).isEqualTo("PERSON_ID");
    assertThat(table.getJsonArray("rowKey").getList()).containsExactly("CONDITION_ERA_ID");

    // And its topics exist with their partition counts and cleanup policies
    assertTopic(TopicNames.updates(repo), 2, "delete", "-1");
    assertTopic(TopicNames.rejected(repo), 2, "delete", "-1");
    assertTopic(TopicNames.byMember(repo), 3, "delete", null);
    assertTopic(TopicNames.members(repo), 3, "compact", null);

    // And it can be read back, alone and in the list
    assertThat(get("/repos/" + repo).bodyAsJsonObject()).isEqualTo(spec);
    JsonArray all = get("/repos").bodyAsJsonArray();
    assertThat(all.stream().map(r -> ((JsonObject) r).getString("name"))).contains(repo);

    // And the spec is in tusk.repos for every other service
    try (CompactedTopicView<RepoSpec> view =
        CompactedTopicView.start(
            settings.withInstanceId("it-repos-" + suffix()), topics.repos, DEADLINE)) {
      RepoSpec stored = eventually(() -> view.get(repo).orElse(null), r -> r != null, "repo");
      assertThat(stored.getMemberPartitions()).isEqualTo(3);
    }

    // And creating it again is a conflict
    HttpResponse<Buffer> again = post("/repos", repoBody(repo));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getString("error")).isEqualTo("conflict");
    assertThat(again.bodyAsJsonObject().getString("message")).contains(repo);
  }

  @Test
  void shouldAnswerJsonErrorsNamingTheFieldWhenRequestsAreBad() throws Exception {
    // Given an existing repo
    String repo = createRepo(1, 1);

    // Then invalid bodies are 400s naming the field
    assertError(post("/repos", repoBody("Not Valid")), 400, "name 'Not Valid' must be");
    assertError(post("/repos", repoBody("it-x").put("partitions", 0)), 400, "partitions");
    JsonObject noMember = repoBody("it-x");
    noMember.getJsonArray("tables").getJsonObject(0).put("memberKey", "MEMBER");
    assertError(post("/repos", noMember), 400, "tables[0].memberKey 'MEMBER'");
    assertError(post("/repos", new JsonObject().put("name", "it-x")), 400, "tables is required");
    assertError(post("/pipelines", pipelineBody("it-p", "it-no-such-repo")), 400, "input.repo");
    JsonObject noTransform = pipelineBody("it-p", repo);
    noTransform.remove("transform");
    assertError(post("/pipelines", noTransform), 400, "transform is required");

    // And a body that is not JSON is a 400 too
    HttpResponse<Buffer> malformed =
        await(
            client
                .post("/repos")
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"name\": ")));
    assertError(malformed, 400, "");

    // And bad parameters are 400s naming them
    assertError(get("/repos/" + repo + "/commits?limit=0"), 400, "limit");
    assertError(get("/repos/" + repo + "/commits?before=x"), 400, "before");
    assertError(get("/commits/not-an-id"), 400, "id must be");

    // And unknown things are 404s
    assertError(get("/commits/" + Ids.newId()), 404, "no commit");
    assertError(get("/repos/" + repo + "/commits/" + Ids.newId()), 404, "no commit");
    assertError(get("/repos/it-no-such-repo"), 404, "no repo");
    assertError(post("/repos/it-no-such-repo/commits", new JsonObject()), 404, "no repo");
    assertError(get("/pipelines/it-no-such-pipeline"), 404, "no pipeline");
    assertError(get("/no/such/path"), 404, "no such endpoint");
  }

  @Test
  void shouldCountRowsPastTheHeadAndDatumsNotConsumedWhenStatusAsks() throws Exception {
    // Given a repo with 5 rows on 2 partitions, none committed yet
    String repo = createRepo(2, 3);
    String updates = TopicNames.updates(repo);
    String head;
    try (KafkaProducer<byte[], byte[]> plain =
        new KafkaProducer<>(settings.producer("it-waiting-" + repo, null))) {
      for (int i = 0; i < 5; i++) {
        plain.send(row(updates, i < 3 ? 0 : 1, i)).get(30, TimeUnit.SECONDS);
      }

      // Then every row is waiting on master, which has no head
      JsonObject none = get("/repos/" + repo + "/waiting").bodyAsJsonObject();
      assertThat(none.getLong("waitingRows")).as(none.encode()).isEqualTo(5);
      assertThat(none.getValue("head")).isNull();

      // When they are committed and 3 more rows come (1 on partition 0, 2 on partition 1)
      head = seal(repo, null).getString("id");
      for (int i = 5; i < 8; i++) {
        plain.send(row(updates, i == 5 ? 0 : 1, i)).get(30, TimeUnit.SECONDS);
      }
    }

    // Then those 3 are waiting, per partition past the head's end offsets
    JsonObject waiting = get("/repos/" + repo + "/waiting?branch=master").bodyAsJsonObject();
    assertThat(waiting.getString("head")).isEqualTo(head);
    assertThat(waiting.getLong("waitingRows")).isEqualTo(3);
    JsonArray partitions = waiting.getJsonArray("partitions");
    assertThat(partitions.getJsonObject(0).getLong("committed")).isEqualTo(3);
    assertThat(partitions.getJsonObject(0).getLong("waiting")).isEqualTo(1);
    assertThat(partitions.getJsonObject(1).getLong("end")).isEqualTo(4);
    assertThat(partitions.getJsonObject(1).getLong("waiting")).isEqualTo(2);
    assertError(get("/repos/" + repo + "/waiting?branch=nope"), 404, "nope");

    // Given a pipeline with 4 datums on partition 0 of its datum topic, 1 consumed by its group
    String pipeline = "it-lag-" + suffix();
    HttpResponse<Buffer> created =
        post("/pipelines", pipelineBody(pipeline, repo).put("parallelism", 2));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String datums = TopicNames.datums(pipeline);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-lag-" + pipeline, null))) {
      for (int i = 0; i < 4; i++) {
        producer
            .send(new ProducerRecord<>(datums, 0, null, new byte[] {1}))
            .get(30, TimeUnit.SECONDS);
      }
    }
    admin
        .alterConsumerGroupOffsets(
            TopicNames.processorGroup(pipeline),
            Map.of(new TopicPartition(datums, 0), new OffsetAndMetadata(1)))
        .all()
        .get(30, TimeUnit.SECONDS);

    // Then its lag is the 3 datums not consumed, on partition 0
    JsonObject lag = get("/pipelines/" + pipeline + "/lag").bodyAsJsonObject();
    assertThat(lag.getLong("lag")).as(lag.encode()).isEqualTo(3);
    assertThat(lag.getJsonArray("partitions")).hasSize(2);
    assertThat(lag.getJsonArray("partitions").getJsonObject(0).getLong("consumed")).isEqualTo(1);
    assertThat(lag.getString("group")).isEqualTo("tusk-processor-" + pipeline);
    assertError(get("/pipelines/it-no-such-" + suffix() + "/lag"), 404, "it-no-such-");
  }

  @Test
  void shouldSealAtTheLastStableOffsetsWhenATransactionIsStillOpen() throws Exception {
    // Given 10 rows on 2 partitions from a plain producer
    String repo = createRepo(2, 3);
    String updates = TopicNames.updates(repo);
    try (KafkaProducer<byte[], byte[]> plain =
        new KafkaProducer<>(settings.producer("it-plain-" + repo, null))) {
      for (int i = 0; i < 10; i++) {
        plain.send(row(updates, i < 6 ? 0 : 1, i)).get(30, TimeUnit.SECONDS);
      }
    }

    // And 3 more rows in a transaction that stays open
    JsonObject first;
    try (KafkaProducer<byte[], byte[]> transactional =
        new KafkaProducer<>(settings.producer("it-tx-" + repo, "it-tx-" + repo))) {
      transactional.initTransactions();
      transactional.beginTransaction();
      transactional.send(row(updates, 0, 10));
      transactional.send(row(updates, 0, 11));
      transactional.send(row(updates, 1, 12));
      transactional.flush();
      assertThat(offsets(updates, 2, IsolationLevel.READ_UNCOMMITTED))
          .as("the open transaction's rows are in the log")
          .containsExactly(8L, 5L);

      // When the repo is sealed
      HttpResponse<Buffer> response = post("/repos/" + repo + "/commits", new JsonObject());

      // Then the commit ends at the last stable offsets: the open transaction's rows are out
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
      first = response.bodyAsJsonObject();
      assertThat(response.getHeader("Location"))
          .isEqualTo("/repos/" + repo + "/commits/" + first.getString("id"));
      assertThat(endOffsets(first))
          .containsExactlyElementsOf(offsets(updates, 2, IsolationLevel.READ_COMMITTED))
          .containsExactly(6L, 4L);
      assertThat(startOffsets(first)).containsExactly(0L, 0L);
      assertThat(first.getLong("rowCount")).isEqualTo(10);
      assertThat(first.getLong("sequence")).isEqualTo(1);
      assertThat(first.getString("parent")).isNull();
      assertThat(first.getString("repo")).isEqualTo(repo);
      assertThat(first.getString("globalId")).isEqualTo(first.getString("id"));
      assertThat(first.getString("state")).isEqualTo("sealed");
      assertThat(first.getJsonArray("jobs")).isEmpty();
      assertThat(first.containsKey("stats")).isTrue();
      assertThat(first.getValue("stats")).isNull();
      transactional.commitTransaction();
    }

    // When the repo is sealed again after the transaction committed
    HttpResponse<Buffer> sealedAgain = post("/repos/" + repo + "/commits", new JsonObject());

    // Then the second commit follows the first, up to the new last stable offsets
    assertThat(sealedAgain.statusCode()).as(sealedAgain.bodyAsString()).isEqualTo(201);
    JsonObject second = sealedAgain.bodyAsJsonObject();
    assertThat(second.getString("parent")).isEqualTo(first.getString("id"));
    assertThat(second.getLong("sequence")).isEqualTo(2);
    assertThat(startOffsets(second)).isEqualTo(endOffsets(first));
    List<Long> stable = offsets(updates, 2, IsolationLevel.READ_COMMITTED);
    assertThat(endOffsets(second)).isEqualTo(stable);
    assertThat(stable.get(0)).isGreaterThan(8);
    // 3 rows plus a commit marker in each of the 2 partitions
    assertThat(second.getLong("rowCount")).isEqualTo(5);

    // And the list is newest first, and pages
    assertThat(ids(get("/repos/" + repo + "/commits")))
        .containsExactly(second.getString("id"), first.getString("id"));
    assertThat(ids(get("/repos/" + repo + "/commits?limit=1")))
        .containsExactly(second.getString("id"));
    assertThat(ids(get("/repos/" + repo + "/commits?before=2")))
        .containsExactly(first.getString("id"));

    // And each commit reads back the same by repo and by ID
    HttpResponse<Buffer> byRepo = get("/repos/" + repo + "/commits/" + first.getString("id"));
    assertThat(byRepo.bodyAsJsonObject()).isEqualTo(first);
    assertThat(get("/commits/" + second.getString("id")).bodyAsJsonObject()).isEqualTo(second);

    // And every by-member partition got exactly one seal per commit
    assertOneSealPerPartition(repo, 3, Set.of(first.getString("id"), second.getString("id")));
  }

  @Test
  void shouldSealOncePerIdempotencyKeyAlsoOnAnotherInstance() throws Exception {
    // Given a repo with a row, sealed with an idempotency key
    String repo = createRepo(1, 2);
    try (KafkaProducer<byte[], byte[]> plain =
        new KafkaProducer<>(settings.producer("it-plain-" + repo, null))) {
      plain.send(row(TopicNames.updates(repo), 0, 1)).get(30, TimeUnit.SECONDS);
    }
    String key = "seal-" + suffix();
    HttpResponse<Buffer> first = sealWithKey(client, repo, key);
    assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(201);
    String id = first.bodyAsJsonObject().getString("id");

    // When the request is repeated / Then it is answered 200 with the same commit, nothing sealed
    HttpResponse<Buffer> again = sealWithKey(client, repo, key);
    assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(200);
    assertThat(again.bodyAsJsonObject().getString("id")).isEqualTo(id);
    assertThat(ids(get("/repos/" + repo + "/commits"))).containsExactly(id);

    // And another key seals the next commit
    HttpResponse<Buffer> other = sealWithKey(client, repo, key + "-b");
    assertThat(other.statusCode()).isEqualTo(201);
    assertThat(other.bodyAsJsonObject().getString("parent")).isEqualTo(id);

    // And a service started later (as after a restart) knows the key from the commits topic
    try (CommitService restarted = CommitService.start(config("restarted-" + suffix(), Map.of()))) {
      WebClient second = clientOf(restarted.port(), TestAuth.ADMIN);
      HttpResponse<Buffer> afterRestart =
          eventually(
              () -> {
                try {
                  return sealWithKey(second, repo, key);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              r -> r.statusCode() == 200,
              "the repeated seal answered from the other instance's index");
      assertThat(afterRestart.bodyAsJsonObject().getString("id")).isEqualTo(id);
      second.close();
    }
    assertThat(ids(get("/repos/" + repo + "/commits"))).hasSize(2);

    // And a malformed key is a 400 naming the header
    assertError(sealWithKey(client, repo, "no spaces allowed"), 400, "Idempotency-Key");
  }

  @Test
  void shouldFormASingleChainWhenSealsRunConcurrently() throws Exception {
    // Given a repo with a row
    String repo = createRepo(1, 2);
    try (KafkaProducer<byte[], byte[]> plain =
        new KafkaProducer<>(settings.producer("it-plain-" + repo, null))) {
      plain.send(row(TopicNames.updates(repo), 0, 1)).get(30, TimeUnit.SECONDS);
    }

    // When 5 seals are requested at once
    List<Future<HttpResponse<Buffer>>> requests = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      requests.add(client.post("/repos/" + repo + "/commits").sendJsonObject(new JsonObject()));
    }
    List<JsonObject> commits = new ArrayList<>();
    for (Future<HttpResponse<Buffer>> request : requests) {
      HttpResponse<Buffer> response = await(request);
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
      commits.add(response.bodyAsJsonObject());
    }

    // Then they form one chain: sequences 1..5, each the parent of the next
    commits.sort((a, b) -> Long.compare(a.getLong("sequence"), b.getLong("sequence")));
    assertThat(commits).extracting(c -> c.getLong("sequence")).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(commits.get(0).getString("parent")).isNull();
    for (int i = 1; i < commits.size(); i++) {
      assertThat(commits.get(i).getString("parent")).isEqualTo(commits.get(i - 1).getString("id"));
      assertThat(startOffsets(commits.get(i))).isEqualTo(endOffsets(commits.get(i - 1)));
    }
    assertThat(commits.get(0).getLong("rowCount")).isEqualTo(1);

    // And the list shows the same chain newest first
    List<String> newestFirst = new ArrayList<>();
    for (int i = commits.size() - 1; i >= 0; i--) {
      newestFirst.add(commits.get(i).getString("id"));
    }
    assertThat(ids(get("/repos/" + repo + "/commits"))).isEqualTo(newestFirst);

    // And every by-member partition got exactly one seal per commit
    assertOneSealPerPartition(repo, 2, new HashSet<>(newestFirst));
  }

  @Test
  void shouldGiveTheNextCommitAJobWhenAPipelineReadsTheRepo() throws Exception {
    // Given a repo
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();

    // When a pipeline on it is created
    HttpResponse<Buffer> created =
        post("/pipelines", pipelineBody(pipeline, repo).put("parallelism", 2));

    // Then the answer is its spec with its spec hash, and no job (the repo has no commit yet)
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.getHeader("Location")).isEqualTo("/pipelines/" + pipeline);
    JsonObject spec = created.bodyAsJsonObject();
    assertThat(spec.containsKey("job")).isTrue();
    assertThat(spec.remove("job")).isNull();
    assertThat(spec.getString("name")).isEqualTo(pipeline);
    assertThat(spec.getString("inputRepo")).isEqualTo(repo);
    assertThat(spec.getJsonObject("transform").getString("kind")).isEqualTo("JAVA");
    assertThat(spec.getJsonObject("transform").getString("name")).isEqualTo("gibleed-insights");
    assertThat(spec.getInteger("parallelism")).isEqualTo(2);
    String specHash = spec.getString("specHash");
    assertThat(specHash).hasSize(64);

    // And its topics exist, it reads back, and a second one of that name is a conflict
    assertTopic(TopicNames.datums(pipeline), 2, "delete", null);
    assertTopic(TopicNames.output(pipeline), 2, "compact", null);
    assertTopic(TopicNames.failed(pipeline), 2, "delete", null);
    assertThat(get("/pipelines/" + pipeline).bodyAsJsonObject()).isEqualTo(spec);
    assertThat(
            get("/pipelines").bodyAsJsonArray().stream()
                .map(p -> ((JsonObject) p).getString("name")))
        .contains(pipeline);
    assertError(post("/pipelines", pipelineBody(pipeline, repo)), 409, pipeline);

    // When the repo is sealed
    JsonObject commit = post("/repos/" + repo + "/commits", new JsonObject()).bodyAsJsonObject();

    // Then the commit carries one job for the pipeline
    JsonArray jobs = commit.getJsonArray("jobs");
    assertThat(jobs).hasSize(1);
    JsonObject job = jobs.getJsonObject(0);
    assertThat(job.getString("pipeline")).isEqualTo(pipeline);
    assertThat(job.getString("specHash")).isEqualTo(specHash);
    assertThat(Ids.isValid(job.getString("jobId"))).isTrue();
  }

  @Test
  void shouldShowCompleteWhenTheCommitIsWrittenBackWithStats() throws Exception {
    // Given a sealed commit
    String repo = createRepo(1, 1);
    JsonObject sealedCommit =
        post("/repos/" + repo + "/commits", new JsonObject()).bodyAsJsonObject();
    String id = sealedCommit.getString("id");
    assertThat(sealedCommit.getString("state")).isEqualTo("sealed");

    // When the partition service writes it back with stats
    Commit commit = storedCommit(id);
    commit.setStats(new CommitStats(7L, 1L, 3L, 3L, System.currentTimeMillis()));
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-aggregator-" + repo, null))) {
      producer
          .send(
              new ProducerRecord<>(
                  topics.commits.name(), topics.commits.key(id), topics.commits.value(commit)))
          .get(30, TimeUnit.SECONDS);
    }

    // Then it shows as complete with its stats, alone and in the list
    JsonObject complete =
        eventually(
            () -> get("/repos/" + repo + "/commits/" + id).bodyAsJsonObject(),
            c -> "complete".equals(c.getString("state")),
            "commit " + id + " complete");
    assertThat(complete.getJsonObject("stats").getLong("rows")).isEqualTo(7);
    assertThat(complete.getJsonObject("stats").getLong("rejected")).isEqualTo(1);
    JsonObject listed = get("/repos/" + repo + "/commits").bodyAsJsonArray().getJsonObject(0);
    assertThat(listed.getString("state")).isEqualTo("complete");
  }

  @Test
  void shouldReportHealthAndMetricsWhenRunning() throws Exception {
    // When health and metrics are asked
    HttpResponse<Buffer> health = get("/health");
    HttpResponse<Buffer> metrics = get("/metrics");

    // Then the views and feeds are up and the service's metrics are exposed
    assertThat(health.statusCode()).as(health.bodyAsString()).isEqualTo(200);
    assertThat(health.bodyAsJsonObject().getJsonObject("checks").getMap())
        .containsEntry("repos-view", "UP")
        .containsEntry("pipelines-view", "UP")
        .containsEntry("commits-feed", "UP")
        .containsEntry("jobs-feed", "UP");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.bodyAsString()).contains("tusk_commits_sealed");
  }
}
