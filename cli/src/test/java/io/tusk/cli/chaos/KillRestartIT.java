package io.tusk.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.localstack.EmbeddedRegistry;
import io.tusk.localstack.KafkaCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Machines lost while Tusk works: one round of {@link ChaosRun} on a 3-node Kafka cluster
 * (replication 3, two in sync required), with the demo's two commits and its two pipelines in a
 * DAG, against services that each run as a process of their own (two commit, two partition, two
 * lineage services, three datum processors), while a seeded schedule kills brokers and services
 * with SIGKILL and restarts them, pauses the leading commit service with SIGSTOP past its group
 * session and a broker past its session with the controller. Every job succeeds, every instance
 * answers alike, every repo's commits form one chain, no output appears twice for a job under
 * read_committed, and the outputs equal a clean in-process run's. {@code tusk chaos} runs more
 * rounds.
 */
@Tag("integration")
class KillRestartIT {
  private static final Path DATA =
      Paths.get(System.getProperty("tusk.root", "..")).resolve("data/omop-gibleed");
  private static final long SEED = Long.getLong("tusk.chaos.seed", 11);
  private static final int KILLS = Integer.getInteger("tusk.chaos.kills", 7);

  @Test
  @Timeout(value = 20, unit = TimeUnit.MINUTES)
  void shouldGiveTheOutputsOfACleanRunWhenBrokersAndServicesAreKilledMidJob() throws Exception {
    // Given a 3-node cluster, the services as processes of their own, and a seeded schedule of
    // kills and pauses
    Path home = Files.createTempDirectory(Paths.get("target"), "chaos-it-");
    ChaosRun.Result result;
    try (EmbeddedRegistry registry = EmbeddedRegistry.start(home.resolve("registry"), 0);
        KafkaCluster cluster = KafkaCluster.start(home.resolve("kafka"), 3)) {
      ChaosRun run =
          new ChaosRun(
              new ChaosRun.Settings(SEED, KILLS, 1),
              cluster,
              registry.url(),
              home,
              DATA,
              System.out);

      // When the demo runs under it
      result = run.run();
    }
    System.out.println("chaos: " + result.recovery() + "; " + String.join("; ", result.events()));

    // Then every job succeeded, every instance answered alike, every repo's commits form one chain,
    // no output was written twice for a job, and both pipelines' outputs equal the clean run's
    assertThat(result.failures()).isEmpty();
    // And services and brokers were killed, the lead moved while its holder was paused, and the
    // paused broker came back in sync
    assertThat(result.kills()).as("kills while the demo ran").isPositive();
    assertThat(result.leaderPauses()).singleElement().asString().contains("the other led");
    assertThat(result.brokerPauses()).singleElement().asString().contains("in sync again");
  }
}
