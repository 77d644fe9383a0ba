package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.T0;
import static io.tusk.lineage.Fixtures.datumResult;
import static io.tusk.lineage.Fixtures.inputRef;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.output;
import static io.tusk.lineage.Fixtures.outputCommit;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.security.InternalListener;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.JobState;
import io.tusk.schemas.RepoSpec;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two lineage-service instances share the indexes (one application ID, partitions split between
 * them): every endpoint answers the same on both, reading the other instance's partitions through
 * it. A small DAG of real records: repo -> pipeline risk -> derived repo -> pipeline summary.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LineageScaleOutIT {
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final int MEMBERS = 12;

  private final String suffix = Ids.newId().substring(0, 8);
  private final String repo = "so-" + suffix;
  private final String risk = "so-" + suffix + "-risk";
  private final String summary = "so-" + suffix + "-sum";
  private final String derived = risk + "-by-provider";
  private final String commitId = Ids.newId();
  private final String riskJob = Ids.newId();
  private final String summaryJob = Ids.newId();
  private final String outputCommitId = Ids.newId();
  private final List<Long> sourceOffsets = new ArrayList<>();

  private Topics topics;
  private KafkaProducer<byte[], byte[]> producer;
  private final List<LineageService> services = new ArrayList<>();
  private Vertx vertx;
  private WebClient client;

  @BeforeAll
  void startTwoInstances(LocalStack stack) throws Exception {
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "scale-out-it");
    topics = new Topics(settings.registryClient());
    RepoSpec source = FakeCatalog.repoSpec(repo, null);
    RepoSpec derivedRepo = FakeCatalog.repoSpec(derived, risk);
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
      admin.createRepoTopics(source);
      admin.createPipelineTopics(FakeCatalog.pipelineSpec(risk, repo));
      admin.createPipelineTopics(FakeCatalog.pipelineSpec(summary, derived));
    }
    producer = new KafkaProducer<>(settings.producer("scale-out-it-" + suffix, null));
    writeDag(source, derivedRepo);

    for (int i = 0; i < 2; i++) {
      Map<String, String> env = new HashMap<>();
      env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
      env.put("TUSK_REGISTRY_URL", stack.registryUrl());
      env.put("TUSK_SYSTEM_PARTITIONS", "3");
      env.put("TUSK_INSTANCE_ID", "scale-out-" + i);
      env.put("TUSK_STATE_DIR", Path.of("target", "scale-out-" + suffix + "-" + i).toString());
      env.put("TUSK_HTTP_HOST", "127.0.0.1");
      env.put("TUSK_HTTP_PORT", "0");
      env.putAll(TestSecurity.env());
      services.add(LineageService.start(LineageServiceConfig.from(env)));
    }
    vertx = Vertx.vertx();
    client = TestSecurity.client(vertx, TestAuth.ADMIN);
  }

  @AfterAll
  void stopInstances() {
    if (client != null) {
      client.close();
    }
    if (vertx != null) {
      vertx.close().await();
    }
    services.forEach(LineageService::close);
    if (producer != null) {
      producer.close();
    }
  }

  @Test
  @Order(1)
  void shouldAnswerEveryEndpointTheSameOnBothInstances() throws Exception {
    // Given two instances that split the partitions, and the DAG indexed
    String member = "m0";
    String source = TopicNames.updates(repo);
    Map<String, Predicate<JsonObject>> endpoints = new java.util.LinkedHashMap<>();
    endpoints.put("/jobs/" + riskJob, b -> outputCommitId.equals(b.getString("outputCommit")));
    // A job ID prefix has no routing key: the jobs store of every instance is scanned.
    String riskPrefix = riskJob.substring(0, 8);
    endpoints.put("/jobs/" + riskPrefix, b -> outputCommitId.equals(b.getString("outputCommit")));
    endpoints.put(
        "/jobs/" + riskPrefix + "/datums?state=failed", b -> b.getJsonArray("datums").size() == 1);
    endpoints.put("/jobs?pipeline=" + risk, b -> b.getJsonArray("jobs").size() == 1);
    endpoints.put(
        "/jobs/" + riskJob + "/datums?state=failed", b -> b.getJsonArray("datums").size() == 1);
    endpoints.put("/jobs/" + riskJob + "/datums?limit=5", b -> b.getString("next") != null);
    endpoints.put(
        "/jobs/" + riskJob + "/datums/m1/logs", b -> "failed log".equals(b.getString("log")));
    endpoints.put("/jobs/" + riskJob + "/logs", b -> b.getJsonArray("logs").size() == MEMBERS);
    endpoints.put("/commits/" + commitId, b -> b.getJsonArray("jobs").size() == 1);
    endpoints.put(
        "/global/" + commitId,
        b -> b.getJsonArray("jobs").size() == 2 && b.getJsonArray("commits").size() == 2);
    endpoints.put(
        "/repos",
        b ->
            b.getJsonArray("repos").stream()
                .anyMatch(r -> derived.equals(((JsonObject) r).getString("name"))));
    endpoints.put(
        "/pipelines",
        b ->
            b.getJsonArray("pipelines").stream()
                .anyMatch(p -> summary.equals(((JsonObject) p).getString("name"))));
    endpoints.put("/repos/" + repo + "/commits", b -> b.getJsonArray("commits").size() == 1);
    endpoints.put(
        "/pipelines/" + risk + "/outputs/" + member, b -> riskJob.equals(b.getString("jobId")));
    endpoints.put(
        "/pipelines/" + risk + "/outputs/" + member + "/lineage", b -> b.getValue("job") != null);
    endpoints.put(
        "/pipelines/" + risk + "/outputs/" + member + "/history",
        b -> b.getJsonArray("outputs").size() == 1);
    endpoints.put(
        "/pipelines/" + risk + "/outputs/" + member + "/changes", b -> b.getValue("from") == null);
    endpoints.put(
        "/pipelines/" + summary + "/outputs/p0/provenance?content=true",
        b ->
            b.getJsonArray("inputs").size() == MEMBERS / 2
                && b.getJsonArray("inputs").stream()
                    .allMatch(
                        r ->
                            ((JsonObject) r).getJsonObject("upstream") != null
                                && ((JsonObject) r)
                                        .getJsonObject("upstream")
                                        .getJsonArray("inputs")
                                        .getJsonObject(0)
                                        .getJsonObject("content")
                                    != null));
    endpoints.put(
        "/repos/" + repo + "/members/" + member + "/subvenance",
        b -> b.getJsonArray("outputs").size() == 2);
    endpoints.put(
        "/rows/" + source + "/0/" + sourceOffsets.get(0) + "/subvenance",
        b -> b.getJsonArray("outputs").size() == 2);

    for (var endpoint : endpoints.entrySet()) {
      // When each instance is asked
      JsonObject first = await(services.get(0), endpoint.getKey(), endpoint.getValue());
      JsonObject second = await(services.get(1), endpoint.getKey(), endpoint.getValue());

      // Then both give the same answer
      assertThat(second).as("GET %s on both instances", endpoint.getKey()).isEqualTo(first);
    }
    // And a job named by a prefix is answered as by its full ID
    for (LineageService service : services) {
      assertThat(await(service, "/jobs/" + riskPrefix, b -> true))
          .isEqualTo(await(service, "/jobs/" + riskJob, b -> true));
    }
    // And the source row's content was read from Kafka
    JsonObject provenance =
        await(
            services.get(0),
            "/pipelines/" + summary + "/outputs/p0/provenance?content=true",
            b -> true);
    JsonObject sourceRow =
        provenance
            .getJsonArray("inputs")
            .getJsonObject(0)
            .getJsonObject("upstream")
            .getJsonArray("inputs")
            .getJsonObject(0);
    assertThat(sourceRow.getJsonObject("content").getString("value")).startsWith("m0,");
    // And each instance read keys the other owns, through it
    for (LineageService service : services) {
      assertThat(remoteReads(service))
          .as("remote reads of %s", service.advertisedUrl())
          .isPositive();
    }
  }

  @Test
  @Order(2)
  void shouldAnswer404And400JsonOnBothInstances() throws Exception {
    for (LineageService service : services) {
      // When unknown or malformed things are asked for / Then JSON errors, not forwarding failures
      HttpResponse<Buffer> unknown = get(service, "/jobs/" + Ids.newId());
      assertThat(unknown.statusCode()).isIn(404, 503);
      HttpResponse<Buffer> malformed = get(service, "/jobs/nope");
      assertThat(malformed.statusCode()).isEqualTo(400);
      assertThat(malformed.bodyAsJsonObject().getString("message")).contains("'id'");
    }
  }

  @Test
  @Order(3)
  void shouldServeStoreReadsOnlyOnTheInternalListenerWithTheSecret() throws Exception {
    LineageService service = services.get(0);
    String read = "/internal/stores/" + LineageStores.JOBS_STORE + "/get?key=YQ";
    // The public port does not know the internal endpoints
    assertThat(get(service, read).statusCode()).isEqualTo(404);
    // The internal listener refuses a caller without the secret, or with a wrong one
    WebClient plain = WebClient.create(vertx);
    HttpResponse<Buffer> none =
        plain.get(service.internalPort(), "127.0.0.1", read).send().await(30, TimeUnit.SECONDS);
    assertThat(none.statusCode()).isEqualTo(401);
    HttpResponse<Buffer> wrong =
        plain
            .get(service.internalPort(), "127.0.0.1", read)
            .putHeader(InternalListener.SECRET_HEADER, "not-the-secret-at-all")
            .send()
            .await(30, TimeUnit.SECONDS);
    assertThat(wrong.statusCode()).isEqualTo(401);
    // and answers an instance presenting it (204: no such key, or 503 while not the owner)
    HttpResponse<Buffer> instance =
        plain
            .get(service.internalPort(), "127.0.0.1", read)
            .putHeader(InternalListener.SECRET_HEADER, TestAuth.shared().keys().internalSecret())
            .send()
            .await(30, TimeUnit.SECONDS);
    assertThat(instance.statusCode()).isIn(204, 503);
    // and the instances advertise the internal listener to each other
    assertThat(service.advertisedUrl()).endsWith(":" + service.internalPort());
  }

  @Test
  @Order(4)
  void shouldAnswerOrAskToRetryWhileAnInstanceLeavesThenAnswerAlone() throws Exception {
    // Given both instances answer
    String path = "/pipelines/" + summary + "/outputs/p1/provenance";
    await(services.get(0), path, b -> true);

    // When the second instance stops (it leaves the group, its tasks move to the first)
    LineageService leaving = services.remove(1);
    leaving.close();

    // Then every answer meanwhile is 200 or 503 with Retry-After, until the first answers alone
    AtomicInteger unavailable = new AtomicInteger();
    Await.until(
        "the first instance answers alone",
        DEADLINE,
        POLL_INTERVAL,
        () -> {
          HttpResponse<Buffer> response = get(services.get(0), path);
          if (response.statusCode() == 200
              && response.bodyAsJsonObject().getJsonArray("inputs").stream()
                  .allMatch(r -> ((JsonObject) r).getJsonObject("upstream") != null)
              && remoteFree(services.get(0), path)) {
            return true;
          }
          if (response.statusCode() == 503) {
            assertThat(response.getHeader("Retry-After")).isEqualTo("1");
            unavailable.incrementAndGet();
          } else {
            assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
          }
          return false;
        });
    // And the global view is complete from the single instance
    JsonObject global =
        await(services.get(0), "/global/" + commitId, b -> b.getJsonArray("jobs").size() == 2);
    assertThat(global.getJsonArray("commits")).hasSize(2);
    org.slf4j.LoggerFactory.getLogger(LineageScaleOutIT.class)
        .info(
            "While the second instance left: {} answers were 503 with Retry-After",
            unavailable.get());
  }

  /** True if answering {@code path} read nothing from another instance (it owns everything). */
  private boolean remoteFree(LineageService service, String path) throws Exception {
    long before = remoteReads(service);
    get(service, path);
    return remoteReads(service) == before;
  }

  private void writeDag(RepoSpec source, RepoSpec derivedRepo) throws Exception {
    send(topics.repos, repo, source);
    send(topics.repos, derived, derivedRepo);
    send(topics.pipelines, risk, FakeCatalog.pipelineSpec(risk, repo));
    send(topics.pipelines, summary, FakeCatalog.pipelineSpec(summary, derived));
    Commit commit = Commit.newBuilder(sealedCommit(commitId, repo, riskJob, risk)).build();
    send(topics.commits, commitId, commit);
    send(topics.jobs, riskJob, job(riskJob, commitId, commitId, risk, T0, JobState.SUCCESS));
    send(
        topics.commits,
        outputCommitId,
        outputCommit(outputCommitId, derived, riskJob, commitId, 1));
    send(
        topics.jobs,
        summaryJob,
        job(summaryJob, outputCommitId, commitId, summary, T0 + 10, JobState.SUCCESS));
    // One source row per member, partition 0 of the updates topic, and risk's output from it.
    Map<String, List<io.tusk.schemas.InputRef>> byProvider = new HashMap<>();
    for (int m = 0; m < MEMBERS; m++) {
      String member = "m" + m;
      RecordMetadata row =
          producer
              .send(
                  new ProducerRecord<>(
                      TopicNames.updates(repo),
                      0,
                      null,
                      (member + ",C" + m + ",2020-01-01").getBytes(StandardCharsets.UTF_8)))
              .get(30, TimeUnit.SECONDS);
      sourceOffsets.add(row.offset());
      send(
          topics.datumResults,
          riskJob,
          datumResult(
              riskJob,
              member,
              m == 1 ? DatumState.FAILED : DatumState.SUCCESS,
              m == 1 ? "failed log" : "log " + m,
              false));
      RecordMetadata out =
          send(
              topics.output(risk),
              member,
              output(
                  risk,
                  member,
                  riskJob,
                  commitId,
                  "application/json",
                  "{\"provider\":\"p" + (m % 2) + "\"}",
                  List.of(inputRef(TopicNames.updates(repo), 0, row.offset(), "T"))));
      byProvider
          .computeIfAbsent("p" + (m % 2), p -> new ArrayList<>())
          .add(inputRef(TopicNames.output(risk), out.partition(), out.offset(), "output"));
    }
    for (var provider : byProvider.entrySet()) {
      send(
          topics.output(summary),
          provider.getKey(),
          output(
              summary,
              provider.getKey(),
              summaryJob,
              outputCommitId,
              "application/json",
              "{\"members\":" + provider.getValue().size() + "}",
              provider.getValue()));
    }
  }

  private <V> RecordMetadata send(Topic<String, V> topic, String key, V value) throws Exception {
    return producer
        .send(new ProducerRecord<>(topic.name(), topic.key(key), topic.value(value)))
        .get(30, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> get(LineageService service, String path) throws Exception {
    return client.get(service.port(), "127.0.0.1", path).send().await(30, TimeUnit.SECONDS);
  }

  /**
   * Polls {@code path} on {@code service} until it answers 200 with a body satisfying {@code done}.
   */
  private JsonObject await(LineageService service, String path, Predicate<JsonObject> done) {
    return Await.until(
            "GET " + path + " on " + service.advertisedUrl() + " answers as expected",
            DEADLINE,
            POLL_INTERVAL,
            () -> HttpAnswer.of(get(service, path)),
            answer -> answer.okAnd(done))
        .json();
  }

  private long remoteReads(LineageService service) throws Exception {
    String metrics = get(service, "/metrics").bodyAsString();
    return metrics
        .lines()
        .filter(line -> line.startsWith("tusk_lineage_remote_reads_total"))
        .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
        .sum();
  }
}
