package io.tusk.common.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.tusk.testfixtures.Await;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The event loop probe on a real Vert.x event loop. */
class ObservabilityTest {
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
