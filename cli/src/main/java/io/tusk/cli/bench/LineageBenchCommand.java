package io.tusk.cli.bench;

import io.tusk.cli.Tusk;
import io.tusk.common.config.KafkaSettings;
import io.tusk.lineage.LineageBenchmark;
import io.tusk.localstack.LocalStack;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tusk bench lineage}: provenance lookups at a steady rate over a large index (issue 5). */
@Command(
    name = "lineage",
    description =
        "Provenance lookup latency (p50/p99/p99.9) at a steady request rate over indexed outputs, and the index's lag.")
public final class LineageBenchCommand implements Callable<Integer> {
  @Option(
      names = "--outputs",
      defaultValue = "1000000",
      description = "Outputs to index (default ${DEFAULT-VALUE}).")
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
    Path home = Tusk.home().resolve("bench-lineage");
    Tusk.clean(home);
    LineageBenchmark.Options defaults = LineageBenchmark.Options.defaults();
    LineageBenchmark.Options options =
        new LineageBenchmark.Options(
            outputs, rate, Duration.ofSeconds(seconds), defaults.freshnessSamples());
    try (LocalStack stack = LocalStack.start(home.resolve("stack"), LocalStack.Ports.ephemeral())) {
      KafkaSettings kafka =
          KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "lineage-bench")
              .withSystemPartitions(6);
      LineageBenchmark.Result result =
          LineageBenchmark.run(kafka, home.resolve("lineage-state"), options, System.out::println);
      System.out.println(result.report());
    } finally {
      Tusk.clean(home);
    }
    return 0;
  }
}
