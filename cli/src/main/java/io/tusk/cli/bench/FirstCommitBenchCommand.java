package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tusk bench first-commit}: a whole table's first commit (see {@link FirstCommitBench}). */
@Command(
    name = "first-commit",
    description =
        "Load a generated table, seal it as one commit and run a no-op pipeline over it; seal to"
            + " job SUCCESS against the load, and the peak heap and RocksDB memory of the partition"
            + " service, which runs in a JVM of its own.")
public final class FirstCommitBenchCommand implements Callable<Integer> {
  @Mixin TableOptions table;

  @Option(
      names = "--partition-heap",
      defaultValue = "2g",
      description =
          "The partition service's heap bound (-Xmx; it runs in a JVM of its own). Default: 2g,"
              + " the issue's bound per service.")
  String partitionHeap;

  @Option(
      names = "--partition-jvm-flag",
      description =
          "A further flag for the partition service's JVM, e.g."
              + " -XX:StartFlightRecording=filename=partition.jfr,settings=profile (repeatable).")
  List<String> partitionJvmFlags = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench-first-commit");
    Home.clean(home);
    try {
      List<String> flags = new ArrayList<>();
      flags.add("-Xmx" + partitionHeap);
      // Out of heap, the service exits (as a supervisor would see it) and the bench fails at once.
      flags.add("-XX:+ExitOnOutOfMemoryError");
      flags.addAll(partitionJvmFlags);
      new FirstCommitBench(System.out, table.table(), home, flags).run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
