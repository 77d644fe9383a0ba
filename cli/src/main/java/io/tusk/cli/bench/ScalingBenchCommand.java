package io.tusk.cli.bench;

import io.tusk.cli.Home;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tusk bench scaling}: the same job with 1, 2, 3 partition-service instances and 1, 2, 4
 * datum processors, against the baseline of one each (issue 11; see {@link ScalingBench}).
 */
@Command(
    name = "scaling",
    description =
        "Run the same job with several partition-service instances and datum processors; wall"
            + " time, stage rates and per-instance throughput against 1 instance and 1 processor.")
public final class ScalingBenchCommand implements Callable<Integer> {
  @Mixin TableOptions table;

  @Option(
      names = "--partition-instances",
      split = ",",
      defaultValue = "1,2,3",
      description =
          "Partition-service instance counts, each run with 1 processor (default ${DEFAULT-VALUE}).")
  List<Integer> partitionInstances;

  @Option(
      names = "--processors",
      split = ",",
      defaultValue = "1,2,4",
      description =
          "Datum-processor counts, each run with 1 partition-service instance (default"
              + " ${DEFAULT-VALUE}).")
  List<Integer> processors;

  @Override
  public Integer call() throws Exception {
    Path home = Home.home().resolve("bench-scaling");
    Home.clean(home);
    try {
      new ScalingBench(System.out, table.table(), partitionInstances, processors, home).run();
    } finally {
      Home.clean(home);
    }
    return 0;
  }
}
