package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tusk bench first-commit}: a whole table's first commit (see {@link FirstCommitBench}). */
@Command(
    name = "first-commit",
    description =
        "Load a generated table, seal it as one commit and run a no-op pipeline over it; seal to"
            + " job SUCCESS against the load, and the peak heap and RocksDB memory.")
public final class FirstCommitBenchCommand implements Callable<Integer> {
  @Mixin TableOptions table;

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench-first-commit");
    Home.clean(home);
    try {
      new FirstCommitBench(System.out, table.table(), home).run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
