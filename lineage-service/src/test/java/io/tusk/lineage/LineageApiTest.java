package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.completedCommit;
import static io.tusk.lineage.Fixtures.inputRef;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.output;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.security.RoleBindings;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Output;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API over the real topology's stores (TopologyTestDriver), without a broker. */
@ExtendWith(VertxExtension.class)
class LineageApiTest {
  private static final List<String> JOB_FIELDS =
      List.of(
          "id",
          "pipeline",
          "repo",
          "commitId",
          "globalId",
          "state",
          "total",
          "toProcess",
          "processed",
          "skipped",
          "failed",
          "recovered",
          "createdAt",
          "finishedAt",
          "kind",
          "mode",
          "rerunOf",
          "sequence",
          "specHash",
          "identical",
          "different",
          "error",
          "outputCommit",
          "outputCommits",
          "durationMs");
  private static final List<String> OUTPUT_FIELDS =
      List.of(
          "pipeline",
          "member",
          "jobId",
          "commitId",
          "globalId",
          "datumHash",
          "contentType",
          "outputHash",
          "inputCount",
          "removed",
          "timestamp",
          "position",
          "data",
          "inputs");

  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  private TopologyTestDriver driver;
  private volatile boolean storesQueryable = true;
  private final FakeCatalog catalog = new FakeCatalog();
  private final RowReader rows = (topic, partition, offset) -> null;
  private HttpServer server;
  private WebClient client;

  @BeforeEach
  void setUp(Vertx vertx, @TempDir Path stateDir) throws Exception {
    driver =
        new TopologyTestDriver(
            LineageService.buildTopology(topics), TestStreams.properties(stateDir));
    StoreLocator stores = new DriverStores(driver, () -> storesQueryable);
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                LineageApi.router(
                        vertx,
                        stores,
                        catalog,
                        rows,
                        TestSecurity.of(
                            vertx, RoleBindings.inMemory(), new CopyOnWriteArrayList<>()),
                        null)
                    .router())
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    client = TestSecurity.client(vertx, TestAuth.ADMIN);
  }

  @AfterEach
  void tearDown() {
    driver.close();
  }

  @Test
  void shouldAnswerJobWithLatestStateWhenJobIsIndexed() throws Exception {
    // Given a job that ran and succeeded
    String jobId = Ids.newId();
    String commitId = Ids.newId();
    pipe(topics.jobs, jobId, job(jobId, commitId, "risk", JobState.RUNNING, 1));
    pipe(topics.jobs, jobId, job(jobId, commitId, "risk", JobState.SUCCESS, 3));

    // When it is asked for
    HttpResponse<Buffer> response = get("/jobs/" + jobId);

    // Then the latest version is answered with every field of a job
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.fieldNames()).containsExactlyInAnyOrderElementsOf(JOB_FIELDS);
    assertThat(body.getString("state")).isEqualTo("SUCCESS");
    assertThat(body.getLong("processed")).isEqualTo(3L);
    assertThat(body.getLong("finishedAt")).isEqualTo(Fixtures.T0 + 900);
  }

  @Test
  void shouldAnswerCommitWithItsJobsWhenBothAreIndexed() throws Exception {
    // Given a completed commit and the two jobs it triggered
    String commitId = Ids.newId();
    String riskJob = Ids.newId();
    String costJob = Ids.newId();
    Commit sealed = sealedCommit(commitId, "claims", riskJob, "risk");
    pipe(topics.commits, commitId, sealed);
    pipe(topics.commits, commitId, completedCommit(sealed));
    pipe(topics.jobs, riskJob, job(riskJob, commitId, "risk", JobState.SUCCESS, 3));
    pipe(topics.jobs, costJob, job(costJob, commitId, "cost", JobState.RUNNING, 1));

    // When the commit is asked for
    HttpResponse<Buffer> response = get("/commits/" + commitId);

    // Then the commit comes with its stats and its jobs, by pipeline
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("commit", "jobs");
    JsonObject commit = body.getJsonObject("commit");
    assertThat(commit.getString("id")).isEqualTo(commitId);
    assertThat(commit.getJsonObject("stats").getLong("rows")).isEqualTo(40L);
    assertThat(commit.getJsonArray("endOffsets").getJsonObject(0).getLong("offset")).isEqualTo(42L);
    JsonArray jobs = body.getJsonArray("jobs");
    assertThat(jobs).hasSize(2);
    assertThat(jobs.getJsonObject(0).getString("pipeline")).isEqualTo("cost");
    assertThat(jobs.getJsonObject(1).getString("id")).isEqualTo(riskJob);
    assertThat(jobs.getJsonObject(1).fieldNames())
        .containsExactlyInAnyOrderElementsOf(JOB_FIELDS.subList(0, 22));
  }

  @Test
  void shouldAnswerLatestOutputWithParsedDataWhenContentTypeIsJson() throws Exception {
    // Given two outputs of member 1001, the second one in JSON
    String jobId = Ids.newId();
    String commitId = Ids.newId();
    pipe(
        topics.output("risk"),
        "1001",
        output("risk", "1001", Ids.newId(), Ids.newId(), "text/plain", "old", List.of()));
    pipe(
        topics.output("risk"),
        "1001",
        output(
            "risk",
            "1001",
            jobId,
            commitId,
            "application/json; charset=utf-8",
            "{\"score\":0.7}",
            List.of(inputRef("claims.updates", 1, 12L, "DRUG_ERA"))));

    // When the output is asked for
    HttpResponse<Buffer> response = get("/pipelines/risk/outputs/1001");

    // Then the latest one is answered with its data as JSON and its input rows
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.fieldNames()).containsExactlyElementsOf(OUTPUT_FIELDS);
    assertThat(body.getString("jobId")).isEqualTo(jobId);
    assertThat(body.getJsonObject("data")).isEqualTo(new JsonObject().put("score", 0.7));
    assertThat(body.getJsonArray("inputs"))
        .containsExactly(
            new JsonObject()
                .put("topic", "claims.updates")
                .put("partition", 1)
                .put("offset", 12)
                .put("table", "DRUG_ERA"));
  }

  @Test
  void shouldAnswerDataAsTextWhenContentTypeIsNotJson() throws Exception {
    // Given a plain-text output
    pipe(
        topics.output("risk"),
        "1001",
        output("risk", "1001", Ids.newId(), Ids.newId(), "text/csv", "a,b\n1,2", List.of()));

    // When it is asked for
    JsonObject body = get("/pipelines/risk/outputs/1001").bodyAsJsonObject();

    // Then its data is the UTF-8 text
    assertThat(body.getString("data")).isEqualTo("a,b\n1,2");
  }

  @Test
  void shouldAnswerLineageChainWhenOutputJobAndCommitAreIndexed() throws Exception {
    // Given a commit, its job and an output of that job from two input rows
    catalog.repo("claims");
    String commitId = Ids.newId();
    String jobId = Ids.newId();
    Commit sealed = sealedCommit(commitId, "claims", jobId, "risk");
    pipe(topics.commits, commitId, completedCommit(sealed));
    pipe(topics.jobs, jobId, job(jobId, commitId, "risk", JobState.SUCCESS, 3));
    Output output =
        output(
            "risk",
            "1001",
            jobId,
            commitId,
            "application/json",
            "{}",
            List.of(
                inputRef("claims.updates", 0, 3L, "CONDITION_ERA"),
                inputRef("claims.updates", 2, 9L, "DRUG_ERA")));
    pipe(topics.output("risk"), "1001", output);

    // When its lineage is asked for
    HttpResponse<Buffer> response = get("/pipelines/risk/outputs/1001/lineage");

    // Then it leads from the output to the datum, job, commit, repo and input rows
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.fieldNames())
        .containsExactly(
            "output",
            "datum",
            "job",
            "commit",
            "repo",
            "repoDeleted",
            "inputRows",
            "inputRowCount");
    assertThat(body.getBoolean("repoDeleted")).isFalse();
    assertThat(body.getJsonObject("output").fieldNames())
        .containsExactlyElementsOf(OUTPUT_FIELDS.subList(0, 12));
    assertThat(body.getJsonObject("datum"))
        .isEqualTo(
            new JsonObject()
                .put("hash", output.getDatumHash())
                .put("member", "1001")
                .put("pipeline", "risk"));
    assertThat(body.getJsonObject("job").getString("id")).isEqualTo(jobId);
    assertThat(body.getJsonObject("commit").getString("id")).isEqualTo(commitId);
    assertThat(body.getString("repo")).isEqualTo("claims");
    assertThat(body.getJsonArray("inputRows")).hasSize(2);
    assertThat(body.getJsonArray("inputRows").getJsonObject(1).getLong("offset")).isEqualTo(9L);
    assertThat(body.getInteger("inputRowCount")).isEqualTo(2);
  }

  @Test
  void shouldAnswerNullJobAndCommitWhenOnlyOutputIsIndexed() throws Exception {
    // Given an output whose job and commit are not indexed yet
    pipe(
        topics.output("risk"),
        "1001",
        output("risk", "1001", Ids.newId(), Ids.newId(), "text/plain", "x", List.of()));

    // When its lineage is asked for
    JsonObject body = get("/pipelines/risk/outputs/1001/lineage").bodyAsJsonObject();

    // Then job, commit and repo are null rather than missing
    assertThat(body.containsKey("job")).isTrue();
    assertThat(body.getValue("job")).isNull();
    assertThat(body.getValue("commit")).isNull();
    assertThat(body.getValue("repo")).isNull();
    assertThat(body.getInteger("inputRowCount")).isZero();
  }

  @Test
  void shouldAnswer404JsonWhenJobIsUnknown() throws Exception {
    // Given no jobs

    // When an unknown job is asked for
    HttpResponse<Buffer> response = get("/jobs/" + Ids.newId());

    // Then 404 with a JSON error
    assertError(response, 404, "not_found", "no job");
  }

  @Test
  void shouldAnswer404JsonWhenCommitOrOutputIsUnknown() throws Exception {
    // Given nothing indexed

    // When an unknown commit, output or lineage is asked for / Then 404 JSON
    assertError(get("/commits/" + Ids.newId()), 404, "not_found", "no commit");
    assertError(get("/pipelines/risk/outputs/1001"), 404, "not_found", "no output");
    assertError(get("/pipelines/risk/outputs/1001/lineage"), 404, "not_found", "no output");
  }

  @Test
  void shouldAnswer400NamingParameterWhenIdIsMalformed() throws Exception {
    // Given IDs that are not 32 lower-case hex characters

    // When they are asked for / Then 400 naming the parameter
    assertError(get("/jobs/not-an-id"), 400, "bad_request", "'id'");
    assertError(get("/commits/" + Ids.newId().toUpperCase()), 400, "bad_request", "'id'");
  }

  @Test
  void shouldAnswer400NamingParameterWhenPipelineOrMemberIsInvalid() throws Exception {
    // Given an invalid pipeline name and a member key that is too long
    String longMember = "m".repeat(LineageApi.MAX_MEMBER_LENGTH + 1);

    // When they are asked for / Then 400 naming the parameter
    assertError(get("/pipelines/Risk_Model!/outputs/1001"), 400, "bad_request", "'pipeline'");
    assertError(get("/pipelines/tusk/outputs/1001/lineage"), 400, "bad_request", "'pipeline'");
    assertError(get("/pipelines/risk/outputs/" + longMember), 400, "bad_request", "'member'");
  }

  @Test
  void shouldAcceptMemberOfMaximumLength() throws Exception {
    // Given a member key of exactly the maximum length
    String member = "m".repeat(LineageApi.MAX_MEMBER_LENGTH);

    // When its output is asked for / Then it is looked up (404), not rejected (400)
    assertError(get("/pipelines/risk/outputs/" + member), 404, "not_found", "no output");
  }

  @Test
  void shouldAnswer503WithRetryAfterWhenStoresAreNotQueryable() throws Exception {
    // Given stores that are rebalancing
    storesQueryable = false;

    // When a job is asked for
    HttpResponse<Buffer> response = get("/jobs/" + Ids.newId());

    // Then 503 JSON tells the client to retry
    assertError(response, 503, "unavailable", "not queryable");
    assertThat(response.getHeader("Retry-After")).isEqualTo("1");
  }

  @Test
  void shouldAnswer404JsonWhenPathIsUnknown() throws Exception {
    // When an unknown path is asked for / Then 404 JSON
    assertError(get("/nothing/here"), 404, "not_found", "no such endpoint");
  }

  private <V> void pipe(Topic<String, V> topic, String key, V value) {
    driver
        .createInputTopic(
            topic.name(), topic.keySerde().serializer(), topic.valueSerde().serializer())
        .pipeInput(key, value);
  }

  private HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(server.actualPort(), "127.0.0.1", path).send().await(10, TimeUnit.SECONDS);
  }

  private static void assertError(
      HttpResponse<Buffer> response, int status, String error, String messagePart) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.getString("error")).isEqualTo(error);
    assertThat(body.getString("message")).contains(messagePart);
  }
}
