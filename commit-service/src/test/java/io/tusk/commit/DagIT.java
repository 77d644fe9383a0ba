package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Output;
import io.tusk.schemas.Seal;
import io.tusk.schemas.SealRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Pipeline inputs against the real broker: the derived repo a pipeline input creates, and the
 * output commits sealed from {@code tusk.seal-requests} (once per upstream job) that start the
 * downstream pipeline's jobs with the upstream global ID.
 */
class DagIT extends CommitServiceItBase {

  @Test
  void shouldCreateTheDerivedRepoWhenAPipelineReadsAnotherPipelinesOutputs() throws Exception {
    // Given an upstream pipeline of parallelism 2
    String repo = createRepo(1, 1);
    String upstream = "it-up-" + suffix();
    assertThat(post("/pipelines", pipelineBody(upstream, repo).put("parallelism", 2)).statusCode())
        .isEqualTo(201);

    // When a pipeline reads its outputs keyed by PERSON_ID
    String downstream = "it-down-" + suffix();
    HttpResponse<Buffer> created = post("/pipelines", derivedPipelineBody(downstream, upstream));

    // Then it reads the derived repo <upstream>-by-person_id
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String derived = upstream + "-by-person_id";
    JsonObject spec = created.bodyAsJsonObject();
    assertThat(spec.getString("inputRepo")).isEqualTo(derived);
    assertThat(spec.getString("inputPipeline")).isEqualTo(upstream);
    assertThat(spec.getString("inputMemberKey")).isEqualTo("PERSON_ID");

    // And the derived repo holds the upstream outputs: format OUTPUT, one table keyed as asked
    JsonObject repoSpec = get("/repos/" + derived).bodyAsJsonObject();
    assertThat(repoSpec.getString("format")).isEqualTo("OUTPUT");
    assertThat(repoSpec.getString("updatesTopic")).isEqualTo(TopicNames.output(upstream));
    assertThat(repoSpec.getString("sourcePipeline")).isEqualTo(upstream);
    assertThat(repoSpec.getInteger("updatePartitions")).isEqualTo(2);
    JsonObject table = repoSpec.getJsonArray("tables").getJsonObject(0);
    assertThat(table.getString("name")).isEqualTo("output");
    assertThat(table.getJsonArray("columns").getList())
        .containsExactly("member", "PERSON_ID", "data");
    assertThat(table.getJsonArray("rowKey").getList()).containsExactly("member");
    assertThat(table.getString("memberKey")).isEqualTo("PERSON_ID");

    // And it has member-side topics but no updates topic of its own
    assertTopic(TopicNames.byMember(derived), 2, "delete", null);
    assertTopic(TopicNames.members(derived), 2, "compact", null);
    assertTopic(TopicNames.rejected(derived), 2, "delete", "-1");
    assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
        .doesNotContain(TopicNames.updates(derived));

    // And a second reader reuses it; a name clash with the derived repo is a conflict
    String second = "it-down2-" + suffix();
    assertThat(post("/pipelines", derivedPipelineBody(second, upstream)).statusCode())
        .isEqualTo(201);
    assertError(post("/pipelines", pipelineBody(derived, repo)), 409, "repo '" + derived + "'");
    assertError(post("/repos", repoBody(derived)), 409, "already exists");
    String clash = "it-clash-" + suffix();
    assertThat(post("/repos", repoBody(clash + "-by-k")).statusCode()).isEqualTo(201);
    assertThat(post("/pipelines", pipelineBody(clash, repo)).statusCode()).isEqualTo(201);
    assertError(
        post(
            "/pipelines",
            pipelineBody("it-x-" + suffix(), repo)
                .put("input", new JsonObject().put("pipeline", clash).put("memberKey", "K"))),
        409,
        "does not hold the outputs of pipeline '" + clash + "'");

    // And the upstream pipeline cannot be deleted while others read it; the derived repo takes
    // no manual commits and no trigger
    assertError(delete("/pipelines/" + upstream), 409, "read the outputs of '" + upstream + "'");
    assertError(post("/repos/" + derived + "/commits", null), 409, "holds the outputs");
    assertError(
        put("/repos/" + derived + "/trigger", new JsonObject().put("everyRows", 1)),
        409,
        "holds the outputs");
  }

  @Test
  void shouldSealTheDerivedRepoOncePerRoundWhenAnUpstreamJobEnds() throws Exception {
    // Given an upstream pipeline, a downstream one reading its outputs, and one upstream output
    String repo = createRepo(1, 1);
    String upstream = "it-up-" + suffix();
    assertThat(post("/pipelines", pipelineBody(upstream, repo).put("parallelism", 1)).statusCode())
        .isEqualTo(201);
    String downstream = "it-down-" + suffix();
    assertThat(post("/pipelines", derivedPipelineBody(downstream, upstream)).statusCode())
        .isEqualTo(201);
    String derived = upstream + "-by-person_id";
    String job = Ids.newId();
    String globalId = Ids.newId();
    writeOutput(upstream, job, globalId);

    // When the upstream job's seal request arrives twice, then that of its first restart round
    // twice, then one of a second job
    String secondJob = Ids.newId();
    writeSealRequest(upstream, repo, job, 0, globalId);
    writeSealRequest(upstream, repo, job, 0, globalId);
    writeSealRequest(upstream, repo, job, 1, globalId);
    writeSealRequest(upstream, repo, job, 1, globalId);
    writeSealRequest(upstream, repo, secondJob, 0, Ids.newId());

    // Then the derived repo has exactly three output commits, one per job round
    JsonArray commits =
        eventually(
            () -> get("/repos/" + derived + "/commits").bodyAsJsonArray(),
            list -> list.size() >= 3,
            "three output commits of " + derived);
    assertThat(commits).hasSize(3);
    JsonObject first = commits.getJsonObject(2);
    assertThat(first.getString("sourceJob")).isEqualTo(job);
    assertThat(first.getInteger("sourceRound")).isZero();
    JsonObject restart = commits.getJsonObject(1);
    assertThat(restart.getString("sourceJob")).isEqualTo(job);
    assertThat(restart.getInteger("sourceRound")).isEqualTo(1);
    assertThat(restart.getString("globalId")).isEqualTo(globalId);
    assertThat(commits.getJsonObject(0).getString("sourceJob")).isEqualTo(secondJob);

    // And the first covers the output, carries the upstream global ID and starts the downstream job
    assertThat(first.getString("globalId")).isEqualTo(globalId);
    assertThat(first.getString("branch")).isEqualTo("master");
    assertThat(first.getLong("rowCount")).isEqualTo(1);
    JsonArray jobs = first.getJsonArray("jobs");
    assertThat(jobs).hasSize(1);
    assertThat(jobs.getJsonObject(0).getString("pipeline")).isEqualTo(downstream);
    assertThat(jobs.getJsonObject(0).getString("mode")).isEqualTo("INCREMENTAL");
    assertThat(get("/repos/" + derived + "/branches/master").bodyAsJsonObject().getString("head"))
        .isEqualTo(commits.getJsonObject(0).getString("id"));

    // And the member side got the seal with the downstream job
    List<MemberEvent> events = byMemberEvents(derived, 1).get(0);
    assertThat(events).hasSize(3);
    Seal seal = (Seal) events.get(0).getEvent();
    assertThat(seal.getCommit().getId()).isEqualTo(first.getString("id"));
    assertThat(seal.getCommit().getJobs().get(0).getPipeline()).isEqualTo(downstream);
    assertThat(seal.getCommit().getJobs().get(0).getMode()).isEqualTo(JobMode.INCREMENTAL);

    Seal restartSeal = (Seal) events.get(1).getEvent();
    assertThat(restartSeal.getCommit().getSourceRound()).isEqualTo(1);

    // And after sealing, the ends of the upstream job rounds were announced on the input repo with
    // their rounds, letting the upstream pipeline's next job (or queued restart) start
    List<String> announced =
        eventually(
            () ->
                byMemberEvents(repo, 1).get(0).stream()
                    .filter(e -> e.getEvent() instanceof JobDone)
                    .map(e -> (JobDone) e.getEvent())
                    .map(done -> done.getJobId() + "/" + done.getRound())
                    .distinct()
                    .toList(),
            ids -> ids.size() >= 3,
            "job ends announced on " + repo);
    assertThat(announced).containsExactlyInAnyOrder(job + "/0", job + "/1", secondJob + "/0");
  }

  @Test
  void shouldGiveADerivedRepoTheConfiguredMemberPartitionsWhenTheDeploymentSetsThem()
      throws Exception {
    // Given a commit service configured with 3 member partitions for every repo
    replaceService(Map.of("TUSK_MEMBER_PARTITIONS", "3"));
    try {
      // When a repo, an upstream pipeline with 2 output partitions and a downstream pipeline
      // reading its outputs are created
      String repo = "it-repo-" + suffix();
      String upstream = "it-up-" + suffix();
      String downstream = "it-down-" + suffix();
      assertThat(post("/repos", repoBody(repo)).statusCode()).isEqualTo(201);
      assertThat(
              post("/pipelines", pipelineBody(upstream, repo).put("parallelism", 2)).statusCode())
          .isEqualTo(201);
      HttpResponse<Buffer> created = post("/pipelines", derivedPipelineBody(downstream, upstream));
      assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);

      // Then the derived repo reads the 2 output partitions into the deployment's 3 member
      // partitions, like every other repo
      String derived = upstream + "-by-person_id";
      JsonObject spec = get("/repos/" + derived).bodyAsJsonObject();
      assertThat(spec.getInteger("updatePartitions")).isEqualTo(2);
      assertThat(spec.getInteger("memberPartitions")).isEqualTo(3);
      assertThat(get("/repos/" + repo).bodyAsJsonObject().getInteger("memberPartitions"))
          .isEqualTo(3);
      assertTopic(TopicNames.byMember(derived), 3, "delete", null);
    } finally {
      replaceService(Map.of());
    }
  }

  private static JsonObject derivedPipelineBody(String name, String upstream) {
    return new JsonObject()
        .put("name", name)
        .put("input", new JsonObject().put("pipeline", upstream).put("memberKey", "PERSON_ID"))
        .put("transform", new JsonObject().put("java", "risk-score"));
  }

  /** One output of the upstream pipeline, as the datum processor writes it. */
  private static void writeOutput(String pipeline, String job, String globalId) throws Exception {
    byte[] data = "{\"PERSON_ID\": \"p7\", \"risk\": 3}".getBytes(StandardCharsets.UTF_8);
    Output output =
        Output.newBuilder()
            .setPipeline(pipeline)
            .setMember("m1")
            .setJobId(job)
            .setCommitId(globalId)
            .setGlobalId(globalId)
            .setDatumHash("d")
            .setContentType("application/json")
            .setData(ByteBuffer.wrap(data))
            .setOutputHash("h")
            .setInputs(List.of())
            .build();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-processor-" + suffix(), null))) {
      producer
          .send(
              new ProducerRecord<>(
                  TopicNames.output(pipeline),
                  topics.output(pipeline).key("m1"),
                  topics.output(pipeline).value(output)))
          .get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * A seal request as the job tracker writes it; all go to partition 0 so they are read in the
   * order written.
   */
  private static void writeSealRequest(
      String pipeline, String repo, String job, int round, String globalId) throws Exception {
    SealRequest request =
        SealRequest.newBuilder()
            .setRepo(repo)
            .setPipeline(pipeline)
            .setJobId(job)
            .setGlobalId(globalId)
            .setRound(round)
            .setRequestedAt(System.currentTimeMillis())
            .build();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-tracker-" + suffix(), null))) {
      producer
          .send(
              new ProducerRecord<>(
                  topics.sealRequests.name(),
                  0,
                  topics.sealRequests.key(job),
                  topics.sealRequests.value(request)))
          .get(30, TimeUnit.SECONDS);
    }
  }
}
