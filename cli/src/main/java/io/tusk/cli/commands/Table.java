package io.tusk.cli.commands;

import java.io.PrintWriter;

/**
 * A fixed-width text table printed as it goes: one printf format for the header and every row, so
 * the columns line up (give numbers already formatted, or use {@code %s} columns for them).
 */
final class Table {
  private final PrintWriter out;
  private final String format;

  /** Prints the header line at once. */
  Table(PrintWriter out, String format, Object... headers) {
    this.out = out;
    this.format = format;
    out.printf(format, headers);
  }

  /** Prints one row. */
  void row(Object... values) {
    out.printf(format, values);
  }
}
