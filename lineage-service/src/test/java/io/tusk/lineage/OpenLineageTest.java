package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.job;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tusk.common.Ids;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.testfixtures.Await;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenLineage run events from job changes, received by a real HTTP endpoint started here, checked
 * against what the OpenLineage 2-0-2 spec requires of a RunEvent.
 */
@ExtendWith(VertxExtension.class)
class OpenLineageTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(20);
  private static final String EVENTS_TOPIC = "tusk.openlineage-test";

  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();
  private final AtomicBoolean endpointDown = new AtomicBoolean();
  private final AtomicInteger refused = new AtomicInteger();
  private final PrometheusMeterRegistry metrics =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private HttpServer endpoint;
  private OpenLineageEmitter emitter;
  private TopologyTestDriver driver;

  @BeforeEach
  void startEndpoint(Vertx vertx) throws Exception {
    // A Marquez-like endpoint: 201 for each event, or 503 while "down".
    endpoint =
        vertx
            .createHttpServer()
            .requestHandler(
                request -> {
                  if (!request.method().name().equals("POST")
                      || !request.path().equals("/api/v1/lineage")) {
                    request.response().setStatusCode(404).end();
                  } else if (endpointDown.get()) {
                    refused.incrementAndGet();
                    request.response().setStatusCode(503).end();
                  } else {
                    request
                        .body()
                        .onSuccess(
                            body -> {
                              received.add(body.toJsonObject());
                              request.response().setStatusCode(201).end();
                            });
                  }
                })
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    emitter = new OpenLineageEmitter("http://127.0.0.1:" + endpoint.actualPort() + "/", 3, metrics);
  }

  @AfterEach
  void stop() {
    if (driver != null) {
      driver.close();
    }
    emitter.close();
  }

  @Test
  void shouldSendValidStartThenCompleteOrFailOncePerJobWhenJobsChangeState(@TempDir Path dir)
      throws Exception {
    // Given the indexes with OpenLineage events to the endpoint and to a topic
    OpenLineageSettings settings =
        new OpenLineageSettings(
            "unused", "tusk-test", EVENTS_TOPIC, 3, "broker-1:9092,broker-2:9092");
    driver =
        new TopologyTestDriver(
            LineageTopology.build(
                topics, 3, new OpenLineage(settings, emitter, repo -> repo + ".updates")),
            TestStreams.properties(dir));
    TestInputTopic<String, Job> jobs =
        driver.createInputTopic(
            topics.jobs.name(),
            topics.jobs.keySerde().serializer(),
            topics.jobs.valueSerde().serializer());
    String ok = Ids.newId();
    String bad = Ids.newId();

    // When a job runs (reported twice), succeeds and is reported again, and another one fails
    jobs.pipeInput(ok, job(ok, Ids.newId(), "risk", JobState.RUNNING, 1));
    jobs.pipeInput(ok, job(ok, Ids.newId(), "risk", JobState.RUNNING, 2));
    Job succeeded = job(ok, Ids.newId(), "risk", JobState.SUCCESS, 3);
    jobs.pipeInput(ok, succeeded);
    jobs.pipeInput(ok, succeeded);
    Job failed =
        Job.newBuilder(job(bad, Ids.newId(), "cost", JobState.FAILURE, 2))
            .setFailed(1)
            .setError("1 of 3 datums failed")
            .build();
    jobs.pipeInput(bad, failed);

    // Then the endpoint receives START and COMPLETE of one, START and FAIL of the other, once each
    // (the backlog holds 3: the punctuation offers the fourth again once there is room)
    Await.until(
        "four events received",
        DEADLINE,
        POLL_INTERVAL,
        () -> {
          driver.advanceWallClockTime(Duration.ofSeconds(1));
          return received.size() >= 4;
        });
    assertThat(received).hasSize(4);
    assertThat(received)
        .extracting(e -> e.getString("eventType") + " " + e.getJsonObject("job").getString("name"))
        .containsExactly("START risk", "COMPLETE risk", "START cost", "FAIL cost");
    received.forEach(OpenLineageTest::assertValidRunEvent);
    // And each run is the job, its datasets the input repo's topic and the output topic
    JsonObject complete = received.get(1);
    assertThat(complete.getJsonObject("run").getString("runId"))
        .isEqualTo(OpenLineageEvents.runId(ok))
        .isEqualTo(
            new UUID(
                    Long.parseUnsignedLong(ok.substring(0, 16), 16),
                    Long.parseUnsignedLong(ok.substring(16), 16))
                .toString());
    JsonObject input = complete.getJsonArray("inputs").getJsonObject(0);
    assertThat(input.getString("namespace")).isEqualTo("kafka://broker-1:9092");
    assertThat(input.getString("name")).isEqualTo("claims.updates");
    assertThat(input.getJsonObject("facets").getJsonObject("version").getString("datasetVersion"))
        .isEqualTo(succeeded.getCommitId());
    assertThat(complete.getJsonArray("outputs").getJsonObject(0).getString("name"))
        .isEqualTo("risk.output");
    assertThat(complete.getJsonObject("job").getString("namespace")).isEqualTo("tusk-test");
    JsonObject counts =
        complete.getJsonObject("run").getJsonObject("facets").getJsonObject("tusk_job");
    assertThat(counts.getLong("processed")).isEqualTo(3L);
    assertThat(counts.getLong("skipped")).isEqualTo(7L);
    assertThat(
            received
                .get(3)
                .getJsonObject("run")
                .getJsonObject("facets")
                .getJsonObject("errorMessage")
                .getString("message"))
        .isEqualTo("1 of 3 datums failed");
    // And the same events went to the topic, keyed by run ID
    TestOutputTopic<String, String> topic =
        driver.createOutputTopic(
            EVENTS_TOPIC, Serdes.String().deserializer(), Serdes.String().deserializer());
    assertThat(topic.readKeyValuesToList())
        .extracting(kv -> kv.key)
        .containsExactly(
            OpenLineageEvents.runId(ok),
            OpenLineageEvents.runId(ok),
            OpenLineageEvents.runId(bad),
            OpenLineageEvents.runId(bad));

    // When the punctuation records the acknowledgements / Then every event is marked sent
    driver.advanceWallClockTime(Duration.ofSeconds(2));
    KeyValueStore<String, String> store = driver.getKeyValueStore(LineageStores.OPENLINEAGE_STORE);
    assertThat(store.get(StoreKeys.join(ok, "COMPLETE"))).isEqualTo(OpenLineageProcessor.SENT);
    assertThat(store.get(StoreKeys.join(bad, "FAIL"))).isEqualTo(OpenLineageProcessor.SENT);
  }

  @Test
  void shouldGrowBacklogWhileEndpointIsDownAndDrainItAfter() throws Exception {
    // Given an endpoint that is down
    endpointDown.set(true);

    // When events are offered / Then the backlog metric grows with each, and nothing is lost
    for (int i = 1; i <= 3; i++) {
      String key = "job-" + i;
      assertThat(
              emitter.offer(
                  new RunEventSink.PendingEvent(
                      key, new JsonObject().put("n", i).encode(), () -> {})))
          .isTrue();
      assertThat(emitter.backlog()).isEqualTo(i);
    }
    Await.until("the endpoint refused retries", DEADLINE, POLL_INTERVAL, () -> refused.get() >= 2);
    assertThat(scrapedBacklog()).isEqualTo(3.0);
    // And a full backlog refuses more, so the processor keeps the event pending in its store
    assertThat(emitter.offer(new RunEventSink.PendingEvent("job-4", "{}", () -> {}))).isFalse();

    // When the endpoint comes back / Then the backlog drains, in order, each event once
    endpointDown.set(false);
    Await.until("the backlog drained", DEADLINE, POLL_INTERVAL, () -> emitter.backlog() == 0);
    assertThat(scrapedBacklog()).isZero();
    assertThat(received).extracting(e -> e.getInteger("n")).containsExactly(1, 2, 3);
    assertThat(metrics.scrape()).contains("tusk_openlineage_send_failures_total");
  }

  private double scrapedBacklog() {
    return metrics
        .scrape()
        .lines()
        .filter(line -> line.startsWith("tusk_openlineage_backlog"))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElseThrow();
  }

  /** What the OpenLineage spec (2-0-2, RunEvent) requires, and facets' _producer and _schemaURL. */
  static void assertValidRunEvent(JsonObject event) {
    assertThat(event.getString("eventType"))
        .isIn("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER");
    assertThat(OffsetDateTime.parse(event.getString("eventTime"))).isNotNull();
    String runId = event.getJsonObject("run").getString("runId");
    assertThat(UUID.fromString(runId).toString()).isEqualTo(runId);
    assertThat(event.getJsonObject("job").getString("namespace")).isNotBlank();
    assertThat(event.getJsonObject("job").getString("name")).isNotBlank();
    assertUri(event.getString("producer"));
    assertThat(event.getString("schemaURL")).endsWith("OpenLineage.json#/$defs/RunEvent");
    assertUri(event.getString("schemaURL"));
    assertFacets(event.getJsonObject("run").getJsonObject("facets"));
    assertFacets(event.getJsonObject("job").getJsonObject("facets"));
    for (String side : List.of("inputs", "outputs")) {
      JsonArray datasets = event.getJsonArray(side);
      assertThat(datasets).isNotEmpty();
      for (Object dataset : datasets) {
        JsonObject d = (JsonObject) dataset;
        assertThat(d.getString("namespace")).isNotBlank();
        assertThat(d.getString("name")).isNotBlank();
        assertFacets(d.getJsonObject("facets"));
      }
    }
  }

  private static void assertFacets(JsonObject facets) {
    if (facets == null) {
      return;
    }
    for (String name : facets.fieldNames()) {
      JsonObject facet = facets.getJsonObject(name);
      assertUri(facet.getString("_producer"));
      assertUri(facet.getString("_schemaURL"));
    }
  }

  private static void assertUri(String value) {
    assertThat(value).isNotBlank();
    assertThat(URI.create(value).getScheme()).isIn("http", "https");
  }
}
