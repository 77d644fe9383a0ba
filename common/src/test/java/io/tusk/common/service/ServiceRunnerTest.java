package io.tusk.common.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.ConfigException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ServiceRunnerTest {

  @Test
  @Timeout(30)
  void shouldExitNonZeroAndCloseWhenTheServiceReportsItCannotWork() throws Exception {
    // Given a running service holding one resource
    AtomicBoolean closed = new AtomicBoolean();
    Lifecycle lifecycle = new Lifecycle("test-service");
    lifecycle.open(() -> closed.set(true));
    Service service = () -> lifecycle;
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    CompletableFuture<Void> returned =
        CompletableFuture.runAsync(
            () -> ServiceRunner.run("test-service", () -> service, exit::complete));

    // When it reports that it cannot work any more
    lifecycle.fail("Kafka Streams stopped");

    // Then the runner exits with status 1, and (since this exit returns) closes the service
    assertThat(exit.get(20, TimeUnit.SECONDS)).isEqualTo(ServiceRunner.FAILED);
    returned.get(20, TimeUnit.SECONDS);
    assertThat(closed).isTrue();
    assertThat(lifecycle.isWorking()).isFalse();
  }

  @Test
  @Timeout(30)
  void shouldExitWithTheStartStatusWhenTheServiceCannotStart() {
    // Given services that fail to start, one for bad configuration
    List<Integer> statuses = new java.util.ArrayList<>();

    // When they are run
    ServiceRunner.run(
        "bad-config",
        () -> {
          throw new ConfigException("TUSK_X must be a number");
        },
        statuses::add);
    ServiceRunner.run(
        "no-broker",
        () -> {
          throw new IllegalStateException("no broker");
        },
        statuses::add);

    // Then bad configuration is status 2, any other failure status 1
    assertThat(statuses).containsExactly(ServiceRunner.BAD_CONFIG, ServiceRunner.FAILED);
  }
}
