package io.tusk.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The bench's reading of the service's request histogram, on an exposition written by a real
 * Prometheus registry with the timer as {@code SecuredRouter} registers it.
 */
class ServerTimesTest {
  private static final String ROUTE = "/pipelines/:pipeline/outputs/:member/provenance";

  @Test
  void shouldTellTheRoundsPercentilesFromTheBucketsBetweenTwoReadings() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Given 100 answers before the round, then 98 of 2 ms, one of 9 ms and one of 40 ms
    record(registry, ROUTE, "200", Duration.ofMillis(500), 100);
    Timer loop =
        Timer.builder("tusk.event.loop.delay").publishPercentileHistogram().register(registry);
    loop.record(Duration.ofMillis(200));
    ServerTimes before = ServerTimes.parse(registry.scrape());
    loop.record(Duration.ofMillis(1));
    loop.record(Duration.ofMillis(2));
    loop.record(Duration.ofMillis(25));
    record(registry, ROUTE, "200", Duration.ofMillis(2), 98);
    record(registry, ROUTE, "200", Duration.ofMillis(9), 1);
    record(registry, ROUTE, "200", Duration.ofMillis(40), 1);
    // and answers the bench does not count: another route, another status
    record(registry, "/pipelines/:pipeline/outputs/:member", "200", Duration.ofMillis(90), 10);
    record(registry, ROUTE, "404", Duration.ofMillis(90), 10);

    // When the round is read as the difference of two readings
    ServerTimes round = ServerTimes.parse(registry.scrape()).since(before);

    // Then it holds the round's 100 answers, 99 % of them within 10 ms (an exact bucket)
    ServerTimes.Histogram answers = round.answers();
    assertThat(answers.count()).isEqualTo(100);
    assertThat(answers.percentWithin(0.01)).isEqualTo(99.0);
    assertThat(answers.percentileBoundMillis(50)).isBetween(2.0, 3.0);
    assertThat(answers.percentileBoundMillis(99)).isBetween(9.0, 10.0);
    assertThat(answers.percentileBoundMillis(99.9)).isBetween(40.0, 60.0);
    assertThat(round.report()).contains("100 answers", "99.00 % within 10 ms");
    // and the event loop's delays of the round alone
    assertThat(round.loopDelays().count()).isEqualTo(3);
    assertThat(round.loopDelays().percentileBoundMillis(100)).isBetween(25.0, 40.0);
  }

  private static void record(
      PrometheusMeterRegistry registry, String route, String status, Duration each, int times) {
    Timer timer =
        Timer.builder("tusk.http.server.requests")
            .tag("method", "GET")
            .tag("route", route)
            .tag("status", status)
            .publishPercentileHistogram()
            .serviceLevelObjectives(Duration.ofMillis(10))
            .register(registry);
    for (int i = 0; i < times; i++) {
      timer.record(each);
    }
  }
}
