package io.tusk.common.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.tusk.testfixtures.Await;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The event loop probe and the metrics endpoint on a real Vert.x event loop. */
class ObservabilityTest {
  @Test
  void shouldWriteTheScrapeOffTheEventLoop() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (Observability observability = new Observability("test-service")) {
      // Given a gauge that notes the thread reading it (a scrape reads every gauge)
      Set<String> readers = ConcurrentHashMap.newKeySet();
      Gauge.builder(
              "test.reader",
              readers,
              r -> {
                r.add(Thread.currentThread().getName());
                return 1;
              })
          .register(observability.registry());
      Router router = Router.router(vertx);
      observability.mount(router);
      HttpServer server =
          vertx
              .createHttpServer()
              .requestHandler(router)
              .listen(0, "127.0.0.1")
              .await(10, TimeUnit.SECONDS);

      // When /metrics is read
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.actualPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());

      // Then it answers the scrape, written by a worker, not by the event loop serving requests
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).contains("test_reader{service=\"test-service\"} 1.0");
      assertThat(readers).isNotEmpty().noneMatch(name -> name.contains("eventloop"));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldRecordHowLongTheEventLoopWasStoppedWhenAHandlerBlocksIt() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (Observability observability = new Observability("test-service");
        AutoCloseable probe = observability.watchEventLoop(vertx)) {
      Timer delays = observability.registry().find("tusk.event.loop.delay").timer();
      Await.until("the probe running", Duration.ofSeconds(10), delays::count, n -> n >= 3);
      assertThat(delays.max(TimeUnit.MILLISECONDS)).isLessThan(80);

      // When a handler on the same context (this thread's) blocks the loop for 150 ms
      vertx
          .getOrCreateContext()
          .runOnContext(blocked -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(150)));

      // Then the probe's next run was late by about that long
      Await.until(
          "a delay of the blocked loop",
          Duration.ofSeconds(10),
          () -> delays.max(TimeUnit.MILLISECONDS),
          max -> max >= 100);
      assertThat(observability.registry().scrape().lines())
          .anySatisfy(
              line ->
                  assertThat(line)
                      .startsWith("tusk_event_loop_delay_seconds_bucket{")
                      .contains("le=\"0.01\""));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
