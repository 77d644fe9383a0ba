package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.cli.soak.ProcessorControl;
import io.tusk.cli.soak.Soak;
import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The model-based soak ({@link Soak}, also {@code tusk soak}) over a few fixed seeds against the
 * real broker, registry and four services: seeded random operations (rows in CSV and JSON with
 * corrections, re-sends, deletes, moves and malformed records; seals on two branches; branch moves
 * and rewinds; pipeline creates, updates and deletes with a second stage; restarts; re-runs;
 * processor stops), and after each one every job, output, commit and a sample of members and diffs
 * compared with an independent reference model; where PostgreSQL is installed, also the SQL table
 * {@code tusk sink} keeps for each pipeline. A difference fails the test with the seed, the
 * operation and what differed.
 */
@Tag("integration")
@ExtendWith(LocalStackExtension.class)
class ModelBasedIT {
  /** Operations per seed: together a few hundred, within the IT's time budget on 2 cores. */
  private static final int OPS = 70;

  private static TuskServices services;

  /** The database the SQL sink check writes to; null where PostgreSQL is not installed. */
  private static PostgresServer postgres;

  private static String sinkUrl;

  @BeforeAll
  static void startServices(LocalStack stack) throws Exception {
    Path home = Files.createTempDirectory(Paths.get("target"), "model-it-");
    services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1);
    // The soak runs without PostgreSQL too (its summary then says 0 SQL sink checks); with it, it
    // also checks the SQL sink after every job.
    if (PostgresServer.installation().isPresent()) {
      postgres = PostgresServer.start();
      sinkUrl = postgres.jdbcUrl("postgres") + "?user=" + PostgresServer.USER;
    }
  }

  @AfterAll
  static void stopServices() throws Exception {
    if (services != null) {
      services.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  /**
   * Two seeds with every kind of row, and one with simple rows (one version per key per commit),
   * which reaches the pipeline-level checks even while the hard row cases differ.
   */
  @ParameterizedTest(name = "seed {0}, simple rows {1}")
  @CsvSource({"1, false", "2, false", "3, true"})
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void shouldDoWhatTheModelSaysWhenDrivenByRandomOperations(
      long seed, boolean simpleRows, LocalStack stack) {
    // Given the services and a repo of this run's own (the broker is shared)
    String prefix = "mb" + seed + "-" + UUID.randomUUID().toString().substring(0, 6);
    KafkaSettings kafka =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "model-it-" + prefix);
    ProcessorControl processors =
        new ProcessorControl() {
          @Override
          public void stop(String pipeline) {
            services.processors().stop(pipeline);
          }

          @Override
          public void start(String pipeline) {
            services.processors().startAgain(pipeline);
          }
        };

    // When the seed's operations run, each checked against the model as it settles (a
    // difference throws, naming the seed and the operation)
    Soak.Summary summary =
        new Soak(
                new Soak.Settings(seed, OPS, false, prefix, 3, 5, simpleRows, sinkUrl),
                services.client(),
                kafka,
                processors,
                System.out)
            .run();

    // Then every operation ran, jobs among them
    assertThat(summary.ops()).isEqualTo(OPS);
    assertThat(summary.jobs()).isPositive();
    assertThat(summary.mismatches()).isEmpty();
    // And the SQL sink was compared after every job where PostgreSQL is installed
    assertThat(summary.sinkChecks()).isEqualTo(postgres == null ? 0 : summary.jobs());
    // And the lineage service's latest output of every datum's member was compared
    assertThat(summary.lineageChecks()).isPositive();
  }
}
