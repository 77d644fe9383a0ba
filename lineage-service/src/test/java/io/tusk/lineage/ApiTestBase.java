package io.tusk.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.security.RoleBindings;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.AuditEvent;
import io.tusk.schemas.JobState;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API over the real topology's stores (TopologyTestDriver), without a broker, with
 * authentication on (the test key set; role bindings in memory); {@link #get} calls as the admin.
 */
@ExtendWith(VertxExtension.class)
abstract class ApiTestBase {
  final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  final FakeCatalog catalog = new FakeCatalog();
  final Map<String, RowReader.StoredRow> rowValues = new ConcurrentHashMap<>();
  final RoleBindings bindings = RoleBindings.inMemory();
  final List<AuditEvent> audited = new CopyOnWriteArrayList<>();
  TopologyTestDriver driver;
  SecuredRouter routes;
  private HttpServer server;
  private Vertx vertx;
  private WebClient client;
  private final Map<String, TestInputTopic<String, ?>> inputs = new ConcurrentHashMap<>();

  @BeforeEach
  void startApi(Vertx vertx, @TempDir Path stateDir) throws Exception {
    driver =
        new TopologyTestDriver(
            LineageService.buildTopology(topics), TestStreams.properties(stateDir));
    RowReader rows =
        (topic, partition, offset) -> rowValues.get(OutputEvent.position(topic, partition, offset));
    this.vertx = vertx;
    routes =
        LineageApi.router(
            vertx,
            new DriverStores(driver, () -> true),
            catalog,
            rows,
            TestSecurity.of(vertx, bindings, audited),
            null);
    server =
        vertx
            .createHttpServer()
            .requestHandler(routes.router())
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    client = TestSecurity.client(vertx, TestAuth.ADMIN);
  }

  @AfterEach
  void stopDriver() {
    driver.close();
  }

  /** Writes a record to {@code topic}, as its writer would. */
  <V> void pipe(Topic<String, V> topic, String key, V value) {
    input(topic).pipeInput(key, value);
  }

  /** Writes a record with headers and a timestamp. */
  <V> void pipe(Topic<String, V> topic, String key, V value, RecordHeaders headers, long time) {
    input(topic).pipeInput(new TestRecord<>(key, value, headers, time));
  }

  @SuppressWarnings("unchecked")
  private <V> TestInputTopic<String, V> input(Topic<String, V> topic) {
    return (TestInputTopic<String, V>)
        inputs.computeIfAbsent(
            topic.name(),
            name ->
                driver.createInputTopic(
                    name, topic.keySerde().serializer(), topic.valueSerde().serializer()));
  }

  /** The port the API listens on (loopback). */
  /**
   * The second stage of the two-pipeline DAG several tests share: {@code summary} reads {@code
   * risk-by-provider}, risk's outputs sealed as output commit {@code outputCommitId} at the end of
   * {@code riskJob}; its job writes one output (member p7) from risk's output record at {@code
   * risk.output} offset 0.
   */
  void writeSummaryStage(
      String outputCommitId, String riskJob, String globalId, String summaryJob) {
    pipe(
        topics.commits,
        outputCommitId,
        Fixtures.outputCommit(outputCommitId, "risk-by-provider", riskJob, globalId, 1));
    pipe(
        topics.jobs,
        summaryJob,
        Fixtures.job(
            summaryJob, outputCommitId, globalId, "summary", Fixtures.T0 + 2, JobState.SUCCESS));
    pipe(
        topics.output("summary"),
        "p7",
        Fixtures.output(
            "summary",
            "p7",
            summaryJob,
            outputCommitId,
            "application/json",
            "{\"members\":1}",
            List.of(Fixtures.inputRef("risk.output", 0, 0L, "output"))),
        new RecordHeaders(),
        Fixtures.T0 + 200);
  }

  int port() {
    return server.actualPort();
  }

  /** GETs {@code path} as the admin. */
  HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(server.actualPort(), "127.0.0.1", path).send().await(10, TimeUnit.SECONDS);
  }

  /** GETs {@code path} as {@code subject} (null: without a token). */
  HttpResponse<Buffer> getAs(String subject, String path) throws Exception {
    WebClient as = subject == null ? WebClient.create(vertx) : TestSecurity.client(vertx, subject);
    return as.get(server.actualPort(), "127.0.0.1", path).send().await(10, TimeUnit.SECONDS);
  }

  /** GETs {@code path}, expecting 200 JSON. */
  JsonObject json(String path) throws Exception {
    HttpResponse<Buffer> response = get(path);
    assertThat(response.statusCode())
        .as("GET %s: %s", path, response.bodyAsString())
        .isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  static void assertError(
      HttpResponse<Buffer> response, int status, String error, String messagePart) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.getString("error")).isEqualTo(error);
    assertThat(body.getString("message")).contains(messagePart);
  }
}
