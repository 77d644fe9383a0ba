package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tusk bench}: the end-to-end benchmark (see the README for what it measures). */
@Command(
    name = "bench",
    description = "Run the end-to-end benchmark on a fresh local stack and print its figures.",
    subcommands = {
      ProcessorBench.class,
      VersioningBenchCommand.class,
      LineageBenchCommand.class,
      ScalingBenchCommand.class
    })
public final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--members",
      defaultValue = "100000",
      description = "Members in the generated table (default ${DEFAULT-VALUE}).")
  int members;

  @Option(
      names = "--rows",
      defaultValue = "2000000",
      description = "Rows in the generated table (default ${DEFAULT-VALUE}).")
  long rows;

  @Option(
      names = "--update-every",
      defaultValue = "100",
      description = "The update touches 1 in N members (default ${DEFAULT-VALUE}: 1%%).")
  int updateEvery;

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench");
    Home.clean(home);
    try {
      new Bench(System.out, new SyntheticTable(members, rows), updateEvery, home).run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
