package io.tusk.cli.bench;

import picocli.CommandLine.Option;

/**
 * The generated table's size, for the benchmarks that load one ({@code --members}, {@code --rows}).
 */
public final class TableOptions {
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

  /** The table these options describe. */
  SyntheticTable table() {
    return new SyntheticTable(members, rows);
  }
}
