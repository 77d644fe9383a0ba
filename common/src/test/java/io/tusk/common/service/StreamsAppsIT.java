package io.tusk.common.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.ops.Observability;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka Streams application started the way every service starts one ({@link StreamsApps}), run
 * by {@link ServiceRunner}, on the real broker: a record its processor fails on every time stops it
 * after the bounded thread replacements, with {@code /health} DOWN and a non-zero exit.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class StreamsAppsIT {
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final String POISON = "poison";

  private final String suffix = Ids.newId().substring(0, 8);
  private final String topic = "streams-apps-it-" + suffix;
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldTurnHealthDownAndExitNonZeroWhenAThreadKeepsFailingOnAPoisonRecord(
      LocalStack stack, @TempDir Path stateDir) throws Exception {
    // Given a Streams app whose processor fails on every attempt at one record, with its health
    // served over HTTP, run by the service runner with an exit hook in place of System.exit
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "streams-apps-it");
    try (Admin admin = Admin.create(settings.admin("streams-apps-it-" + suffix))) {
      admin
          .createTopics(List.of(new NewTopic(topic, 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    AtomicInteger poisonAttempts = new AtomicInteger();
    CompletableFuture<String> processed = new CompletableFuture<>();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(topic, Consumed.with(Serdes.String(), Serdes.String()))
        .foreach(
            (key, value) -> {
              if (POISON.equals(value)) {
                poisonAttempts.incrementAndGet();
                throw new IllegalStateException("cannot process the record of key " + key);
              }
              processed.complete(value);
            });
    Properties props = new Properties();
    props.putAll(settings.streams("streams-apps-it-" + suffix, stateDir.toString()));
    // A failed stream thread does not leave the group (Kafka Streams closes its consumer without
    // a leave), so each replacement waits out the session timeout: the broker's minimum here.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
    CompletableFuture<Integer> healthPort = new CompletableFuture<>();
    CompletableFuture<Integer> exitStatus = new CompletableFuture<>();
    CompletableFuture<HttpResponse<String>> healthAtExit = new CompletableFuture<>();
    CompletableFuture<Void> runnerReturned =
        CompletableFuture.runAsync(
            () ->
                ServiceRunner.run(
                    "streams-apps-it",
                    () -> {
                      Lifecycle lifecycle = new Lifecycle("streams-apps-it");
                      Observability observability =
                          lifecycle.open(new Observability("streams-apps-it"));
                      Vertx vertx = Vertx.vertx();
                      lifecycle.open(() -> Lifecycle.await(vertx.close(), "closing Vert.x"));
                      Router router = Router.router(vertx);
                      observability.mount(router);
                      HttpServer server = lifecycle.serve(vertx, router, "127.0.0.1", 0);
                      StreamsApps.start(
                          new KafkaStreams(builder.build(), props),
                          "poison-app",
                          lifecycle,
                          observability);
                      healthPort.complete(server.actualPort());
                      return (Service) () -> lifecycle;
                    },
                    status -> {
                      // Health as the supervisor would see it when the process exits.
                      exitStatus.complete(status);
                      healthAtExit.complete(health(healthPort.join()));
                    }));
    int port = healthPort.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            settings.producer("streams-apps-it-" + suffix, null),
            Serdes.String().serializer(),
            Serdes.String().serializer())) {
      producer.send(new ProducerRecord<>(topic, "k1", "fine")).get(30, TimeUnit.SECONDS);
      assertThat(processed.get(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("fine");
      assertThat(health(port).statusCode()).isEqualTo(200);

      // When a record arrives that the processor fails on every time
      producer.send(new ProducerRecord<>(topic, "k2", POISON)).get(30, TimeUnit.SECONDS);
    }

    // Then the thread is replaced up to the bound, then the app stops: the process exits with
    // status 1 while /health answers 503 naming the app and its thread bound
    assertThat(exitStatus.get(DEADLINE.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo(ServiceRunner.FAILED);
    long exitedNanos = System.nanoTime();
    assertThat(poisonAttempts).hasValue(BoundedThreadReplacement.MAX_REPLACEMENTS + 1);
    HttpResponse<String> health = healthAtExit.get(30, TimeUnit.SECONDS);
    assertThat(health.statusCode()).isEqualTo(503);
    JsonObject checks = new JsonObject(health.body()).getJsonObject("checks");
    assertThat(checks.getString("poison-app-threads")).isEqualTo("DOWN");
    // (the app's own state check is not asserted: the bound fails the service from the thread's
    // handler while the client's SHUTDOWN_CLIENT moves it to PENDING_ERROR asynchronously, so at
    // the exit it may still read RUNNING; a full run saw exactly that)
    // And closing the stopped service is quick (the issue saw a shutdown take 7 minutes)
    runnerReturned.get(StreamsApps.CLOSE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - exitedNanos))
        .isLessThan(StreamsApps.CLOSE_TIMEOUT);
  }

  private HttpResponse<String> health(int port) {
    try {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("GET /health failed", e);
    }
  }
}
