package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Seal;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import io.tusk.testfixtures.TopicReader;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What every integration test of the commit service shares: one service per test class on the real
 * broker and registry (started once per JVM by {@link LocalStackExtension}), with authentication on
 * (the test key set of {@link TestAuth}), an HTTP client sending the admin's token, and helpers to
 * create repos, call the API, read topics and wait on conditions.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
abstract class CommitServiceItBase {
  static final Duration DEADLINE = Duration.ofSeconds(90);
  static final List<String> COLUMNS =
      List.of("CONDITION_ERA_ID", "PERSON_ID", "CONDITION_CONCEPT_ID");

  static LocalStack localStack;
  static KafkaSettings settings;
  static Topics topics;
  static Admin admin;
  static CommitService service;
  static Vertx vertx;
  static WebClient client;

  /** A stand-in for the partition service's HTTP API: answers with {@link #partitionHandler}. */
  static HttpServer partitionServer;

  /** The one executable the tests' commit service lets non-admins' pipelines run. */
  static final String ALLOWED_COMMAND = "python3";

  static volatile Handler<HttpServerRequest> partitionHandler =
      request -> request.response().setStatusCode(404).end();

  @BeforeAll
  static void start(LocalStack stack) throws Exception {
    String instance = "commit-service-it-" + suffix();
    vertx = Vertx.vertx();
    partitionServer =
        await(
            vertx
                .createHttpServer()
                .requestHandler(request -> partitionHandler.handle(request))
                .listen(0, "127.0.0.1"));
    localStack = stack;
    CommitServiceConfig config = config(instance, Map.of());
    settings = config.kafka().withInstanceId(instance + "-test");
    topics = new Topics(settings.registryClient());
    admin = Admin.create(settings.admin("commit-service-it-admin"));
    service = CommitService.start(config);
    client = clientOf(service.port(), TestAuth.ADMIN);
  }

  /**
   * A client of a commit service on {@code port} that sends a bearer token of {@code subject} with
   * every request (the tests' admin for most of them).
   */
  static WebClient clientOf(int port, String subject) {
    WebClient plain =
        WebClient.create(
            vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    return WebClientSession.create(plain)
        .addHeader("Authorization", TestAuth.shared().bearer(subject));
  }

  /**
   * The configuration of a commit service on the test's broker and registry, forwarding member
   * queries to {@link #partitionServer}, with {@code extra} environment keys on top.
   */
  static CommitServiceConfig config(String instance, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_PARTITION_URL", "http://127.0.0.1:" + partitionServer.actualPort());
    env.put("TUSK_BOOTSTRAP_SERVERS", localStack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", localStack.registryUrl());
    env.put("TUSK_INSTANCE_ID", instance);
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.putAll(TestAuth.shared().env());
    env.put("TUSK_ALLOWED_COMMANDS", ALLOWED_COMMAND);
    env.putAll(extra);
    return CommitServiceConfig.from(env);
  }

  /**
   * Stops the class's service and starts another in its place with {@code extra} environment keys
   * ({@link #client} then talks to it). Instances of one deployment share the configuration that
   * shapes writes (the leader makes them all), so a test of another configuration replaces the
   * service instead of starting a second one beside it.
   */
  static void replaceService(Map<String, String> extra) throws Exception {
    service.close();
    client.close();
    service = CommitService.start(config("commit-service-it-" + suffix(), extra));
    client = clientOf(service.port(), TestAuth.ADMIN);
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (service != null) {
      service.close();
    }
    if (admin != null) {
      admin.close();
    }
  }

  // ---- helpers

  /** The commit as stored in {@code tusk.commits}, as the partition service would read it. */
  static Commit storedCommit(String id) {
    try (CompactedTopicView<Commit> view =
        CompactedTopicView.start(
            settings.withInstanceId("it-commits-" + suffix()), topics.commits, DEADLINE)) {
      return eventually(() -> view.get(id).orElse(null), c -> c != null, "commit " + id);
    }
  }

  /**
   * Completes a sealed commit as the partition service does (writes it back to {@code tusk.commits}
   * with its stats) and waits until the service sees it complete.
   */
  static void complete(String id) throws Exception {
    Commit sealed = storedCommit(id);
    Commit complete =
        Commit.newBuilder(sealed)
            .setStats(
                CommitStats.newBuilder()
                    .setRows(0)
                    .setRejected(0)
                    .setMembers(0)
                    .setChangedMembers(0)
                    .setCompletedAt(System.currentTimeMillis())
                    .build())
            .build();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-partition-" + suffix(), null))) {
      producer
          .send(
              new ProducerRecord<>(
                  topics.commits.name(), topics.commits.key(id), topics.commits.value(complete)))
          .get(30, TimeUnit.SECONDS);
    }
    eventually(
        () -> get("/commits/" + id).bodyAsJsonObject().getString("state"),
        "complete"::equals,
        "commit " + id + " complete");
  }

  static String createRepo(int partitions, int memberPartitions) throws Exception {
    String repo = "it-repo-" + suffix();
    HttpResponse<Buffer> created =
        post(
            "/repos",
            repoBody(repo).put("partitions", partitions).put("memberPartitions", memberPartitions));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return repo;
  }

  static JsonObject repoBody(String name) {
    return new JsonObject()
        .put("name", name)
        .put(
            "tables",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "CONDITION_ERA")
                        .put("columns", new JsonArray(COLUMNS))
                        .put("memberKey", "PERSON_ID")));
  }

  static JsonObject pipelineBody(String name, String repo) {
    return new JsonObject()
        .put("name", name)
        .put("input", new JsonObject().put("repo", repo))
        .put("transform", new JsonObject().put("java", "gibleed-insights"));
  }

  static ProducerRecord<byte[], byte[]> row(String topic, int partition, int i) {
    String line = i + "," + (100 + i % 4) + "," + (200 + i);
    return new ProducerRecord<>(topic, partition, null, line.getBytes(StandardCharsets.UTF_8));
  }

  /** POSTs {@code body} as JSON ({@code null}: no body). */
  static HttpResponse<Buffer> post(String path, JsonObject body) throws Exception {
    return await(body == null ? client.post(path).send() : client.post(path).sendJsonObject(body));
  }

  static HttpResponse<Buffer> get(String path) {
    try {
      return await(client.get(path).send());
    } catch (Exception e) {
      throw new IllegalStateException("GET " + path + " failed", e);
    }
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static void assertError(HttpResponse<Buffer> response, int status, String message) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    JsonObject error = response.bodyAsJsonObject();
    assertThat(error.getString("error")).isNotBlank();
    assertThat(error.getString("message")).contains(message);
  }

  static List<String> ids(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonArray().stream().map(c -> ((JsonObject) c).getString("id")).toList();
  }

  static List<Long> startOffsets(JsonObject commit) {
    return offsetsOf(commit.getJsonArray("startOffsets"));
  }

  static List<Long> endOffsets(JsonObject commit) {
    return offsetsOf(commit.getJsonArray("endOffsets"));
  }

  /** Offsets by partition (the arrays are sorted by partition, which is checked). */
  static List<Long> offsetsOf(JsonArray offsets) {
    List<Long> result = new ArrayList<>();
    for (int p = 0; p < offsets.size(); p++) {
      assertThat(offsets.getJsonObject(p).getInteger("partition")).isEqualTo(p);
      result.add(offsets.getJsonObject(p).getLong("offset"));
    }
    return result;
  }

  /** The end offsets of a topic's partitions as seen with {@code isolation}. */
  static List<Long> offsets(String topic, int partitions, IsolationLevel isolation)
      throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    var result =
        admin
            .listOffsets(request, new ListOffsetsOptions(isolation))
            .all()
            .get(30, TimeUnit.SECONDS);
    List<Long> offsets = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      offsets.add(result.get(new TopicPartition(topic, p)).offset());
    }
    return offsets;
  }

  static void assertTopic(String topic, int partitions, String cleanup, String retention)
      throws Exception {
    int actual =
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get(30, TimeUnit.SECONDS)
            .get(topic)
            .partitions()
            .size();
    assertThat(actual).as("partitions of %s", topic).isEqualTo(partitions);
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config =
        admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
    assertThat(config.get("cleanup.policy").value()).as("cleanup of %s", topic).isEqualTo(cleanup);
    if (retention != null) {
      assertThat(config.get("retention.ms").value())
          .as("retention of %s", topic)
          .isEqualTo(retention);
    }
  }

  /** Reads all of {@code <repo>.by-member} and checks each commit sealed once per partition. */
  static void assertOneSealPerPartition(String repo, int partitions, Set<String> commits) {
    Map<String, List<Integer>> sealsByCommit = new HashMap<>();
    byMemberEvents(repo, partitions)
        .forEach(
            (partition, events) -> {
              for (MemberEvent event : events) {
                assertThat(event.getEvent()).isInstanceOf(Seal.class);
                Seal seal = (Seal) event.getEvent();
                assertThat(seal.getMemberPartitions()).isEqualTo(partitions);
                sealsByCommit
                    .computeIfAbsent(seal.getCommit().getId(), id -> new ArrayList<>())
                    .add(partition);
              }
            });
    assertThat(sealsByCommit.keySet()).isEqualTo(commits);
    List<Integer> everyPartition = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      everyPartition.add(p);
    }
    sealsByCommit.forEach(
        (id, sealedPartitions) ->
            assertThat(sealedPartitions)
                .as("partitions sealed for %s", id)
                .containsExactlyInAnyOrderElementsOf(everyPartition));
  }

  /** Every committed event of {@code <repo>.by-member}, by partition, in offset order. */
  static Map<Integer, List<MemberEvent>> byMemberEvents(String repo, int partitions) {
    String topic = TopicNames.byMember(repo);
    Map<Integer, List<MemberEvent>> events = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("it-by-member-" + suffix(), null))) {
      List<TopicPartition> assigned = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        assigned.add(new TopicPartition(topic, p));
        events.put(p, new ArrayList<>());
      }
      consumer.assign(assigned);
      consumer.seekToBeginning(assigned);
      for (ConsumerRecord<byte[], byte[]> record : TopicReader.readToEnd(consumer, DEADLINE)) {
        events.get(record.partition()).add(topics.byMember(repo).readValue(record.value()));
      }
    }
    return events;
  }

  /** Seals a commit of {@code repo} on {@code branch} and returns it. */
  static JsonObject seal(String repo, String branch) throws Exception {
    HttpResponse<Buffer> response =
        post("/repos/" + repo + "/commits" + (branch == null ? "" : "?branch=" + branch), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  /** Seals a commit of {@code repo} through {@code on} with an {@code Idempotency-Key}. */
  static HttpResponse<Buffer> sealWithKey(WebClient on, String repo, String key) throws Exception {
    return await(
        on.post("/repos/" + repo + "/commits")
            .putHeader("Idempotency-Key", key)
            .sendJsonObject(new JsonObject()));
  }

  /** Sends a text body with a content type, e.g. a YAML pipeline spec. */
  static HttpResponse<Buffer> send(HttpMethod method, String path, String contentType, String body)
      throws Exception {
    return await(
        client
            .request(method, path)
            .putHeader("Content-Type", contentType)
            .sendBuffer(Buffer.buffer(body)));
  }

  static HttpResponse<Buffer> put(String path, JsonObject body) throws Exception {
    return await(client.put(path).sendJsonObject(body));
  }

  static HttpResponse<Buffer> delete(String path) throws Exception {
    return await(client.delete(path).send());
  }

  /** Polls {@code probe} until {@code done} holds, failing after {@link #DEADLINE}. */
  static <T> T eventually(Supplier<T> probe, Predicate<T> done, String what) {
    return Await.until(what, DEADLINE, probe::get, done);
  }

  static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
