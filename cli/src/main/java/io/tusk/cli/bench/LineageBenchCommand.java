package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tusk bench lineage}: provenance lookups at a steady rate over outputs indexed from a real
 * pipeline, and the index's lag (issue 5; see {@link LineageBench}).
 */
@Command(
    name = "lineage",
    description =
        "Index one output per member of a generated table through the real pipeline, then measure"
            + " provenance lookup latency (p50/p99/p99.9) at a steady request rate and the index's lag.")
public final class LineageBenchCommand implements Callable<Integer> {
  @Option(
      names = "--outputs",
      defaultValue = "1000000",
      description =
          "Members in the generated table, hence outputs to index (default ${DEFAULT-VALUE}).")
  int outputs;

  @Option(
      names = "--rate",
      defaultValue = "500",
      description = "Lookups per second (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--seconds",
      defaultValue = "60",
      description = "Seconds of lookups (default ${DEFAULT-VALUE}).")
  int seconds;

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench-lineage");
    Home.clean(home);
    try {
      new LineageBench(System.out, outputs, rate, Duration.ofSeconds(seconds), home).run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
