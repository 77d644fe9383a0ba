package io.tusk.cli.commands;

import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.pipeline.SpecException;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tusk run}: a pipeline on local CSV files, without Kafka (see {@link LocalRun}).
 *
 * <pre>
 * tusk run -f spec.yaml --input TABLE=FILE.csv [--input ...] --member-key COLUMN
 *          [--row-key TABLE=COL[,COL]] [--previous DIR] --out DIR [--threads N]
 * </pre>
 */
@Command(
    name = "run",
    description =
        "Run a pipeline spec on local CSV files, nothing deployed: same member objects, hashes and"
            + " transform code as the real pipeline; with --previous, unchanged members are"
            + " skipped and their outputs copied.")
public final class RunCommand implements Callable<Integer> {
  @Option(
      names = {"-f", "--file"},
      required = true,
      description = "The pipeline spec (YAML or JSON, as for POST /pipelines).")
  Path specFile;

  @Option(
      names = "--input",
      required = true,
      description = "A table and its CSV file (header line first): TABLE=FILE.csv. Repeatable.")
  List<String> inputs;

  @Option(
      names = "--member-key",
      required = true,
      description = "The column naming the member, in every table.")
  String memberKey;

  @Option(
      names = "--row-key",
      description =
          "Row-key columns of a table: TABLE=COL[,COL]. A later row with the same key replaces"
              + " the earlier one. Repeatable.")
  List<String> rowKeys = new ArrayList<>();

  @Option(
      names = "--previous",
      description = "An earlier run's --out directory: unchanged members are skipped.")
  Path previous;

  @Option(names = "--out", required = true, description = "The output directory.")
  Path out;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "Transform threads (default ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() throws Exception {
    PipelineSpec spec;
    try {
      spec = PipelineSpecs.parse(Files.readString(specFile), System.currentTimeMillis());
    } catch (SpecException e) {
      System.err.println(specFile + ": " + e.getMessage());
      return 2;
    }
    List<LocalRun.Input> tables = new ArrayList<>();
    for (String input : inputs) {
      String[] pair = pair(input, "--input");
      tables.add(new LocalRun.Input(pair[0], Paths.get(pair[1])));
    }
    Map<String, List<String>> keys = new LinkedHashMap<>();
    for (String rowKey : rowKeys) {
      String[] pair = pair(rowKey, "--row-key");
      keys.put(pair[0], List.of(pair[1].split(",")));
    }
    long start = System.nanoTime();
    LocalRun.Summary summary;
    try {
      summary =
          new LocalRun(
                  withAbsolutePaths(spec),
                  tables,
                  memberKey,
                  keys,
                  previous,
                  out,
                  threads,
                  System.out)
              .run();
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    System.out.printf(
        "%s: %,d members: %,d processed, %,d skipped (unchanged), %,d failed, %,d recovered,"
            + " %,d removed since --previous; %.1f s. Outputs in %s%n",
        spec.getName(),
        summary.members(),
        summary.processed(),
        summary.skipped(),
        summary.failed(),
        summary.recovered(),
        summary.removed(),
        (System.nanoTime() - start) / 1e9,
        out.resolve("outputs"));
    return summary.failed() == 0 ? 0 : 1;
  }

  private static String[] pair(String text, String option) {
    int equals = text.indexOf('=');
    if (equals <= 0 || equals == text.length() - 1) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(new RunCommand()),
          option + " takes TABLE=VALUE, got '" + text + "'");
    }
    return new String[] {text.substring(0, equals), text.substring(equals + 1)};
  }

  /**
   * Commands run in a datum directory of their own, so arguments naming files relative to where
   * {@code tusk run} was started are made absolute. The spec hash stays that of the spec as
   * written.
   */
  private static PipelineSpec withAbsolutePaths(PipelineSpec spec) {
    TransformSpec transform =
        TransformSpec.newBuilder(spec.getTransform())
            .setCmd(absolute(spec.getTransform().getCmd()))
            .build();
    return PipelineSpec.newBuilder(spec)
        .setTransform(transform)
        .setErrCmd(absolute(spec.getErrCmd()))
        .build();
  }

  private static List<String> absolute(List<String> args) {
    List<String> resolved = new ArrayList<>(args.size());
    for (String arg : args) {
      Path path = Paths.get(arg);
      boolean relativeFile = !path.isAbsolute() && arg.contains("/") && Files.exists(path);
      resolved.add(relativeFile ? path.toAbsolutePath().normalize().toString() : arg);
    }
    return resolved;
  }
}
