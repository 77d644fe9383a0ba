package io.tusk.cli.soak;

import io.tusk.cli.Home;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import io.tusk.common.config.KafkaSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tusk soak}: the model-based soak (see {@link Soak}) on a fresh local stack. Prints the
 * seed and every operation; exits 1 at the first difference from the model (with {@code
 * --keep-going}: after all operations, if there was any).
 */
@Command(
    name = "soak",
    description =
        "Run random operations (rows, seals, branches, pipelines, restarts, re-runs, processor"
            + " stops, erasures) against a fresh local stack and check every job and output against a"
            + " reference model.")
public final class SoakCommand implements Callable<Integer> {
  @Option(
      names = "--ops",
      defaultValue = "200",
      description = "Operations to run (default ${DEFAULT-VALUE}).")
  int ops;

  @Option(names = "--seed", description = "Random seed (default: a new one, printed).")
  Long seed;

  @Option(
      names = "--runs",
      defaultValue = "1",
      description =
          "Seeds to run one after the other on the same stack: --seed, --seed + 1, ... (default"
              + " ${DEFAULT-VALUE}); each stops at its first difference.")
  int runs;

  @Option(
      names = "--simple-rows",
      description =
          "Avoid the hardest row cases: one version per key per commit, records keyed by row key,"
              + " deletes naming the row's member, plain op values.")
  boolean simpleRows;

  @Option(
      names = "--keep-going",
      description = "Report every difference and go on instead of stopping at the first.")
  boolean keepGoing;

  @Option(
      names = "--sink-postgres",
      paramLabel = "JDBC_URL",
      description =
          "Also check the SQL sink: after each job, tusk sink --once into this database (user and"
              + " password in the URL), and the table must equal the model's outputs.")
  String sinkPostgres;

  @Override
  public Integer call() {
    long chosen = seed != null ? seed : System.nanoTime();
    System.out.printf("soak seed %d (rerun with --seed %d)%n", chosen, chosen);
    Path home = Home.home().resolve("soak");
    Home.clean(home);
    try (LocalTusk tusk = LocalTusk.start(home, Ports.ephemeral(), 1)) {
      TuskClient client = tusk.client();
      KafkaSettings kafka = KafkaSettings.of(tusk.bootstrapServers(), tusk.registryUrl(), "soak");
      ProcessorControl processors =
          new ProcessorControl() {
            @Override
            public void stop(String pipeline) {
              tusk.processors().stop(pipeline);
            }

            @Override
            public void start(String pipeline) {
              tusk.processors().startAgain(pipeline);
            }
          };
      int failed = 0;
      for (int run = 0; run < runs; run++) {
        long runSeed = chosen + run;
        try {
          Soak.Summary summary =
              new Soak(
                      new Soak.Settings(
                          runSeed, ops, keepGoing, "soak" + run, 3, 5, simpleRows, sinkPostgres),
                      client,
                      kafka,
                      processors,
                      System.out)
                  .run();
          failed += summary.mismatches().isEmpty() ? 0 : 1;
        } catch (SoakMismatch mismatch) {
          System.out.println("MISMATCH " + mismatch.getMessage());
          failed++;
        }
      }
      if (runs > 1) {
        System.out.printf("soak: %d of %d seeds differed from the model%n", failed, runs);
      }
      return failed == 0 ? 0 : 1;
    } finally {
      Home.clean(home);
    }
  }
}
