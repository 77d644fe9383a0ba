package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.completedCommit;
import static io.tusk.lineage.Fixtures.inputRef;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.output;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobState;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lineage service on the real broker and registry: records as Tusk's writers produce them, some
 * before and some after the service starts, are answered over HTTP.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LineageServiceIT {
  private static final Logger log = LoggerFactory.getLogger(LineageServiceIT.class);
  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final int LATENCY_SAMPLES = 500;
  private static final int WARM_UP_REQUESTS = 200;
  private static final int FRESHNESS_SAMPLES = 20;
  private static final Duration FRESHNESS_POLL = Duration.ofMillis(5);

  private final String suffix = Ids.newId().substring(0, 8);
  private final String repo = "lin-it-" + suffix;
  private final String pipeline = "lin-it-" + suffix + "-risk";
  private final String commitId = Ids.newId();
  private final String jobId = Ids.newId();
  private final String earlierJobId = Ids.newId();

  private KafkaSettings settings;
  private Topics topics;
  private KafkaProducer<byte[], byte[]> producer;
  private LineageService service;
  private Vertx vertx;
  private WebClient client;
  private HttpServer openLineageEndpoint;
  private final List<JsonObject> runEvents = new CopyOnWriteArrayList<>();
  private final String eventsTopic = "lin-it-" + suffix + ".openlineage";
  private Commit sealed;

  /** {@code env} with the token keys and internal secret of the test key set. */
  private static Map<String, String> withAuth(Map<String, String> env) {
    Map<String, String> all = new java.util.HashMap<>(TestSecurity.env());
    all.putAll(env);
    return all;
  }

  @BeforeAll
  void startService(LocalStack stack) throws Exception {
    settings = KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "lineage-it");
    topics = new Topics(settings.registryClient());
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
      admin.createPipelineTopics(pipelineSpec(pipeline));
    }
    producer = new KafkaProducer<>(settings.producer("lineage-it-" + suffix, null));

    // Before the service starts: the sealed commit, the running job and two versions of an output.
    sealed = sealedCommit(commitId, repo, jobId, pipeline);
    send(topics.commits, commitId, sealed);
    send(topics.jobs, jobId, job(jobId, commitId, pipeline, JobState.RUNNING, 1));
    send(
        topics.output(pipeline),
        "1001",
        output(pipeline, "1001", earlierJobId, Ids.newId(), "text/plain", "low", List.of()));
    send(
        topics.output(pipeline),
        "1001",
        output(
            pipeline,
            "1001",
            jobId,
            commitId,
            "application/json",
            "{\"risk\":\"high\",\"score\":0.91}",
            List.of(
                inputRef(TopicNames.updates(repo), 0, 3L, "CONDITION_ERA"),
                inputRef(TopicNames.updates(repo), 1, 8L, "DRUG_ERA"))));

    // An OpenLineage endpoint that takes every event.
    vertx = Vertx.vertx();
    openLineageEndpoint =
        vertx
            .createHttpServer()
            .requestHandler(
                request ->
                    request
                        .body()
                        .onSuccess(
                            body -> {
                              runEvents.add(body.toJsonObject());
                              request.response().setStatusCode(201).end();
                            }))
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    service =
        LineageService.start(
            LineageServiceConfig.from(
                withAuth(
                    Map.of(
                        "TUSK_BOOTSTRAP_SERVERS",
                        stack.bootstrapServers(),
                        "TUSK_REGISTRY_URL",
                        stack.registryUrl(),
                        "TUSK_SYSTEM_PARTITIONS",
                        "3",
                        "TUSK_INSTANCE_ID",
                        "lineage-it",
                        "TUSK_STATE_DIR",
                        Path.of("target", "lineage-it-state-" + suffix).toString(),
                        "TUSK_HTTP_HOST",
                        "127.0.0.1",
                        "TUSK_HTTP_PORT",
                        "0",
                        "TUSK_OPENLINEAGE_URL",
                        "http://127.0.0.1:" + openLineageEndpoint.actualPort(),
                        "TUSK_OPENLINEAGE_TOPIC",
                        eventsTopic))));
    client = TestSecurity.client(vertx, TestAuth.ADMIN);

    // After it started: the commit completes and the job succeeds.
    send(topics.commits, commitId, completedCommit(sealed));
    send(topics.jobs, jobId, job(jobId, commitId, pipeline, JobState.SUCCESS, 3));
  }

  @AfterAll
  void stopService() {
    if (client != null) {
      client.close();
    }
    if (vertx != null) {
      vertx.close().await();
    }
    if (service != null) {
      service.close();
    }
    if (producer != null) {
      producer.close();
    }
  }

  @Test
  void shouldAnswerJobWithItsStateAfterTheUpdate() throws Exception {
    // Given a job written RUNNING, then SUCCESS after the service started

    // When it is asked for / Then the final state is answered with every field
    JsonObject job = awaitJson("/jobs/" + jobId, body -> "SUCCESS".equals(body.getString("state")));
    assertThat(job.getString("id")).isEqualTo(jobId);
    assertThat(job.getString("pipeline")).isEqualTo(pipeline);
    assertThat(job.getString("commitId")).isEqualTo(commitId);
    assertThat(job.getLong("processed")).isEqualTo(3L);
    assertThat(job.getLong("skipped")).isEqualTo(7L);
    assertThat(job.getLong("finishedAt")).isEqualTo(Fixtures.T0 + 900);
  }

  @Test
  void shouldAnswerCommitWithStatsAndTheJobsItTriggered() throws Exception {
    // Given a commit written sealed, then complete, and its job

    // When it is asked for / Then it has its stats and its one job, in its final state
    JsonObject body =
        awaitJson(
            "/commits/" + commitId,
            b ->
                b.getJsonObject("commit").getValue("stats") != null
                    && b.getJsonArray("jobs").size() == 1
                    && "SUCCESS"
                        .equals(b.getJsonArray("jobs").getJsonObject(0).getString("state")));
    JsonObject commit = body.getJsonObject("commit");
    assertThat(commit.getString("repo")).isEqualTo(repo);
    assertThat(commit.getJsonObject("stats").getLong("changedMembers")).isEqualTo(3L);
    assertThat(commit.getJsonArray("jobs").getJsonObject(0).getString("jobId")).isEqualTo(jobId);
    assertThat(body.getJsonArray("jobs").getJsonObject(0).getString("id")).isEqualTo(jobId);
  }

  @Test
  void shouldAnswerLatestOutputWithItsProvenance() throws Exception {
    // Given two outputs of member 1001, the later one from the job

    // When the output is asked for / Then the later one is answered with data and input rows
    JsonObject body =
        awaitJson(
            "/pipelines/" + pipeline + "/outputs/1001", b -> jobId.equals(b.getString("jobId")));
    assertThat(body.getString("pipeline")).isEqualTo(pipeline);
    assertThat(body.getString("member")).isEqualTo("1001");
    assertThat(body.getString("commitId")).isEqualTo(commitId);
    assertThat(body.getString("globalId")).isEqualTo(commitId);
    assertThat(body.getJsonObject("data"))
        .isEqualTo(new JsonObject().put("risk", "high").put("score", 0.91));
    assertThat(body.getJsonArray("inputs")).hasSize(2);
    assertThat(body.getJsonArray("inputs").getJsonObject(1))
        .isEqualTo(
            new JsonObject()
                .put("topic", TopicNames.updates(repo))
                .put("partition", 1)
                .put("offset", 8)
                .put("table", "DRUG_ERA"));
  }

  @Test
  void shouldAnswerLineageFromOutputToInputRows() throws Exception {
    // Given the output, its job and its commit, all indexed

    // When its lineage is asked for / Then the chain leads to the commit and the input rows
    JsonObject body =
        awaitJson(
            "/pipelines/" + pipeline + "/outputs/1001/lineage",
            b ->
                jobId.equals(b.getJsonObject("output").getString("jobId"))
                    && b.getValue("job") != null
                    && "SUCCESS".equals(b.getJsonObject("job").getString("state"))
                    && b.getValue("commit") != null
                    && b.getJsonObject("commit").getValue("stats") != null);
    assertThat(body.getJsonObject("output").containsKey("data")).isFalse();
    assertThat(body.getJsonObject("datum").getString("member")).isEqualTo("1001");
    assertThat(body.getJsonObject("datum").getString("pipeline")).isEqualTo(pipeline);
    assertThat(body.getJsonObject("commit").getString("id")).isEqualTo(commitId);
    assertThat(body.getString("repo")).isEqualTo(repo);
    assertThat(body.getInteger("inputRowCount")).isEqualTo(2);
    assertThat(body.getJsonArray("inputRows").getJsonObject(0).getString("table"))
        .isEqualTo("CONDITION_ERA");
  }

  @Test
  void shouldAnswer404JsonWhenJobIsUnknown() throws Exception {
    // When a job nobody wrote is asked for / Then 404 JSON
    HttpResponse<Buffer> response = get("/jobs/" + Ids.newId());
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.bodyAsJsonObject().getString("error")).isEqualTo("not_found");
  }

  @Test
  void shouldAnswer400JsonWhenIdIsMalformed() throws Exception {
    // When a malformed ID is asked for / Then 400 JSON naming the parameter
    HttpResponse<Buffer> response = get("/commits/xyz");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getString("error")).isEqualTo("bad_request");
    assertThat(response.bodyAsJsonObject().getString("message")).contains("'id'");
  }

  @Test
  void shouldIndexOutputsOfPipelineCreatedAfterStart() throws Exception {
    // Given a pipeline whose output topic is created after the service started
    String late = "lin-it-" + suffix + "-late";
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.createPipelineTopics(pipelineSpec(late));
    }

    // When it writes an output
    send(
        topics.output(late),
        "2002",
        output(late, "2002", jobId, commitId, "text/plain", "fine", List.of()));

    // Then the output is found by pattern and answered
    JsonObject body = awaitJson("/pipelines/" + late + "/outputs/2002", b -> true);
    assertThat(body.getString("data")).isEqualTo("fine");
    assertThat(body.getString("pipeline")).isEqualTo(late);
  }

  @Test
  void shouldExposeHealthWithStreamsAndMetricsWithConsumerLag() throws Exception {
    // Given a running service

    // When health and metrics are asked for / Then Streams is UP and its lag is exported
    JsonObject health = awaitJson("/health", b -> "UP".equals(b.getString("status")));
    assertThat(health.getJsonObject("checks").getString("lineage-streams")).isEqualTo("UP");
    HttpResponse<Buffer> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.bodyAsString()).contains("kafka_stream_").contains("records_lag");
    // And so is its RocksDB memory: the bound (512 MiB by default) and what the cache holds
    assertThat(metrics.bodyAsString())
        .containsPattern("(?m)^tusk_rocksdb_memory_capacity_bytes(\\{[^}]*\\})? 5\\.36870912E8$")
        .containsPattern("(?m)^tusk_rocksdb_memory_usage_bytes(\\{[^}]*\\})? [0-9.E]+$");
  }

  @Test
  void shouldAnswerLookupsQuicklyWhenIndexed() throws Exception {
    // Given an indexed job and output
    awaitJson("/jobs/" + jobId, b -> "SUCCESS".equals(b.getString("state")));
    awaitJson("/pipelines/" + pipeline + "/outputs/1001/lineage", b -> b.getValue("job") != null);

    // When each is looked up many times, one request at a time, after a warm-up
    timeLookups("/jobs/" + jobId, WARM_UP_REQUESTS);
    timeLookups("/pipelines/" + pipeline + "/outputs/1001/lineage", WARM_UP_REQUESTS);
    List<Long> jobMicros = timeLookups("/jobs/" + jobId, LATENCY_SAMPLES);
    List<Long> lineageMicros =
        timeLookups("/pipelines/" + pipeline + "/outputs/1001/lineage", LATENCY_SAMPLES);

    // Then every lookup succeeded (timings are logged for the report)
    log.info(
        "Lookup latency over {} sequential requests: GET /jobs/<id> p50 {} us, p99 {} us;"
            + " GET .../lineage p50 {} us, p99 {} us",
        LATENCY_SAMPLES,
        percentile(jobMicros, 50),
        percentile(jobMicros, 99),
        percentile(lineageMicros, 50),
        percentile(lineageMicros, 99));
    assertThat(jobMicros).hasSize(LATENCY_SAMPLES);
    assertThat(lineageMicros).hasSize(LATENCY_SAMPLES);
  }

  @Test
  void shouldIndexNewRecordsWithinTheDeadlineWhenServiceIsRunning() throws Exception {
    // Given a running service
    awaitJson("/jobs/" + jobId, b -> true);

    // When new jobs and outputs are written one at a time
    List<Long> jobMillis = new ArrayList<>();
    List<Long> outputMillis = new ArrayList<>();
    for (int i = 0; i < FRESHNESS_SAMPLES; i++) {
      String newJob = Ids.newId();
      jobMillis.add(
          millisUntilVisible(
              () -> send(topics.jobs, newJob, job(newJob, commitId, pipeline, JobState.RUNNING, 0)),
              "/jobs/" + newJob));
      String member = "fresh-" + i;
      outputMillis.add(
          millisUntilVisible(
              () ->
                  send(
                      topics.output(pipeline),
                      member,
                      output(pipeline, member, jobId, commitId, "text/plain", "x", List.of())),
              "/pipelines/" + pipeline + "/outputs/" + member));
    }

    // Then each became queryable (produce-to-query times are logged for the report)
    log.info(
        "Produce-to-queryable over {} records: job p50 {} ms, max {} ms;"
            + " output (repartitioned) p50 {} ms, max {} ms",
        FRESHNESS_SAMPLES,
        percentile(jobMillis, 50),
        percentile(jobMillis, 100),
        percentile(outputMillis, 50),
        percentile(outputMillis, 100));
    assertThat(jobMillis).hasSize(FRESHNESS_SAMPLES);
    assertThat(outputMillis).hasSize(FRESHNESS_SAMPLES);
  }

  @Test
  void shouldEmitStartThenCompleteOnceToEndpointAndTopicWhenJobSucceeds() throws Exception {
    // Given the job written RUNNING before the service started, then SUCCESS
    String runId = OpenLineageEvents.runId(jobId);

    // When the service has indexed it / Then the endpoint got START then COMPLETE, valid, once each
    Await.until(
        "two events of run " + runId, DEADLINE, POLL_INTERVAL, () -> eventsOf(runId).size() >= 2);
    List<JsonObject> events = eventsOf(runId);
    assertThat(events)
        .extracting(e -> e.getString("eventType"))
        .containsExactly("START", "COMPLETE");
    events.forEach(OpenLineageTest::assertValidRunEvent);
    assertThat(events.get(1).getJsonArray("inputs").getJsonObject(0).getString("namespace"))
        .isEqualTo("kafka://" + settings.bootstrapServers().split(",")[0]);
    // And the events topic has both, keyed by the run ID
    List<String> keys = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("lin-it-events-" + suffix, null))) {
      Consumers.assignFromBeginning(consumer, eventsTopic, Duration.ofSeconds(30));
      Await.until(
          "two events of run " + runId + " on " + eventsTopic,
          DEADLINE,
          Await.NO_PAUSE,
          () -> {
            consumer
                .poll(Duration.ofMillis(200))
                .forEach(r -> keys.add(new String(r.key(), StandardCharsets.UTF_8)));
            return keys.stream().filter(runId::equals).count() >= 2;
          });
    }
    assertThat(keys).filteredOn(runId::equals).hasSize(2);
  }

  private List<JsonObject> eventsOf(String runId) {
    return runEvents.stream()
        .filter(e -> runId.equals(e.getJsonObject("run").getString("runId")))
        .toList();
  }

  /** Time from sending until {@code path} answers 200, polling every few milliseconds. */
  private long millisUntilVisible(Action send, String path) throws Exception {
    long start = System.nanoTime();
    send.run();
    Await.until(
        "GET " + path + " answers 200",
        DEADLINE,
        FRESHNESS_POLL,
        () -> get(path).statusCode() == 200);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /** Something that sends a record. */
  @FunctionalInterface
  private interface Action {
    void run() throws Exception;
  }

  private List<Long> timeLookups(String path, int requests) throws Exception {
    List<Long> micros = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      long start = System.nanoTime();
      HttpResponse<Buffer> response = get(path);
      long elapsed = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
      assertThat(response.statusCode()).isEqualTo(200);
      micros.add(elapsed);
    }
    return micros;
  }

  private static long percentile(List<Long> values, int percent) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int index = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, index));
  }

  private <V> void send(Topic<String, V> topic, String key, V value) throws Exception {
    producer
        .send(new ProducerRecord<>(topic.name(), topic.key(key), topic.value(value)))
        .get(30, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(service.port(), "127.0.0.1", path).send().await(30, TimeUnit.SECONDS);
  }

  /** Polls {@code path} until it answers 200 with a body that satisfies {@code done}. */
  private JsonObject awaitJson(String path, Predicate<JsonObject> done) {
    return Await.until(
            "GET " + path + " answers as expected",
            DEADLINE,
            POLL_INTERVAL,
            () -> HttpAnswer.of(get(path)),
            answer -> answer.okAnd(done))
        .json();
  }

  private static PipelineSpec pipelineSpec(String name) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo("unused")
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("unused").build())
        .setParallelism(2)
        .setSpecHash("spec-hash")
        .setCreatedAt(Fixtures.T0)
        .build();
  }
}
