package io.tusk.lineage;

import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.LocalStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs {@link LineageBenchmark} on a local broker and registry of its own and prints the figures.
 * Arguments (all optional): outputs, lookups per second, seconds of lookups.
 */
public final class LineageBenchmarkMain {
  private LineageBenchmarkMain() {}

  public static void main(String[] args) throws Exception {
    LineageBenchmark.Options defaults = LineageBenchmark.Options.defaults();
    LineageBenchmark.Options options =
        new LineageBenchmark.Options(
            args.length > 0 ? Integer.parseInt(args[0]) : defaults.outputs(),
            args.length > 1 ? Integer.parseInt(args[1]) : defaults.rate(),
            args.length > 2 ? Duration.ofSeconds(Long.parseLong(args[2])) : defaults.duration(),
            defaults.freshnessSamples());
    Path home = Files.createTempDirectory("tusk-lineage-bench");
    try (LocalStack stack = LocalStack.start(home.resolve("stack"), LocalStack.Ports.ephemeral())) {
      KafkaSettings kafka =
          KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "lineage-bench")
              .withSystemPartitions(6);
      LineageBenchmark.Result result =
          LineageBenchmark.run(
              kafka, home.resolve("lineage-state"), options, line -> System.out.println(line));
      System.out.println(result.report());
    }
  }
}
