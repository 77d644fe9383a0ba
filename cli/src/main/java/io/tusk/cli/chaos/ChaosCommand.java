package io.tusk.cli.chaos;

import io.tusk.cli.Home;
import io.tusk.localstack.EmbeddedRegistry;
import io.tusk.localstack.KafkaCluster;
import io.tusk.localstack.LocalStack;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tusk chaos}: a long {@link ChaosRun} on a fresh local stack, printing what it killed, how
 * fast each service recovered (p50 and max) and every check that failed; exits 1 if any did.
 */
@Command(
    name = "chaos",
    description =
        "Kill and restart brokers and services (SIGKILL), and pause the leading commit service and"
            + " a broker (SIGSTOP), while the OMOP demo runs round after round on a 3-node Kafka"
            + " cluster; then check every job, commit chain, instance's answers and output against a"
            + " clean run.")
public final class ChaosCommand implements Callable<Integer> {
  @Option(
      names = "--seed",
      defaultValue = "11",
      description = "Seed of the schedule (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--kills",
      defaultValue = "8",
      description = "Kills per round (default ${DEFAULT-VALUE}).")
  int kills;

  @Option(
      names = "--rounds",
      defaultValue = "5",
      description = "Rounds: the demo under new names each time (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--brokers",
      defaultValue = "3",
      description =
          "Kafka nodes, each a process that is killed and paused too (default ${DEFAULT-VALUE});"
              + " 1 runs one in-process broker that is left alone.")
  int brokers;

  @Option(
      names = "--data",
      description = "Directory of the OMOP CSV files (default: <repo>/data/omop-gibleed).")
  Path data;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    Path home = Home.home().resolve("chaos");
    Home.clean(home);
    Path dataDir = data == null ? Home.root().resolve("data/omop-gibleed") : data;
    ChaosRun.Settings settings = new ChaosRun.Settings(seed, kills, rounds);
    ChaosRun.Result result;
    if (brokers > 1) {
      try (EmbeddedRegistry registry = EmbeddedRegistry.start(home.resolve("registry"), 0);
          KafkaCluster cluster = KafkaCluster.start(home.resolve("kafka"), brokers)) {
        result = new ChaosRun(settings, cluster, registry.url(), home, dataDir, out).run();
      }
    } else {
      try (LocalStack stack =
          LocalStack.start(home.resolve("stack"), LocalStack.Ports.ephemeral())) {
        result =
            new ChaosRun(
                    settings, stack.bootstrapServers(), stack.registryUrl(), home, dataDir, out)
                .run();
      }
    }
    out.printf("chaos: %d kills; %s%n", result.kills(), result.recovery());
    result.leaderPauses().forEach(pause -> out.println("chaos: leader pause: " + pause));
    result.brokerPauses().forEach(pause -> out.println("chaos: broker pause: " + pause));
    if (result.passed()) {
      out.println(
          "chaos: passed: every job succeeded, every instance answered alike, every repo's commits"
              + " form one chain, no output was written twice for a job, and every round's outputs"
              + " equal the clean run's");
      Home.clean(home);
      return 0;
    }
    result.failures().forEach(failure -> out.println("chaos: FAILED: " + failure));
    out.println("chaos: the services' logs are in " + home);
    return 1;
  }
}
