package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tusk bench versioning}: seal, diff, as-of and continuous-mode figures (issue 3). */
@Command(
    name = "versioning",
    description =
        "Seal time, diff time, as-of lookup latency and continuous-mode latency on a generated table.")
public final class VersioningBenchCommand implements Callable<Integer> {
  @Option(
      names = "--members",
      defaultValue = "1000000",
      description = "Members (default ${DEFAULT-VALUE}).")
  int members;

  @Option(
      names = "--rows",
      defaultValue = "20000000",
      description = "Rows (default ${DEFAULT-VALUE}).")
  long rows;

  @Option(
      names = "--lookups",
      defaultValue = "2000",
      description = "As-of lookups (default ${DEFAULT-VALUE}).")
  int lookups;

  @Option(
      names = "--rate",
      defaultValue = "200",
      description = "Continuous mode: rows per second (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--seconds",
      defaultValue = "60",
      description = "Continuous mode: seconds of input (default ${DEFAULT-VALUE}).")
  int seconds;

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench-versioning");
    Home.clean(home);
    try {
      new VersioningBench(
              System.out, new SyntheticTable(members, rows), lookups, rate, seconds, home)
          .run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
