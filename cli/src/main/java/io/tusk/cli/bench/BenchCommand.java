package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tusk bench}: the end-to-end benchmark (see the README for what it measures). */
@Command(
    name = "bench",
    description = "Run the end-to-end benchmark on a fresh local stack and print its figures.",
    subcommands = {
      ProcessorBench.class,
      VersioningBenchCommand.class,
      LineageBenchCommand.class,
      ScalingBenchCommand.class,
      FirstCommitBenchCommand.class
    })
public final class BenchCommand implements Callable<Integer> {
  @Mixin TableOptions table;

  @Option(
      names = "--update-every",
      defaultValue = "100",
      description = "The update touches 1 in N members (default ${DEFAULT-VALUE}: 1%%).")
  int updateEvery;

  @Option(
      names = "--stream-threads",
      defaultValue = "1",
      description =
          "Kafka Streams threads of the partition service and of the bare Streams baseline"
              + " (default ${DEFAULT-VALUE}).")
  int streamThreads;

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench");
    Home.clean(home);
    try {
      new Bench(System.out, table.table(), updateEvery, streamThreads, home).run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
