package io.tusk.cli.commands;

import java.io.PrintStream;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A progress line on stderr while a file loads: rows, rows per second, and the share of the file
 * read with the time left at that pace. On a terminal the line is redrawn in place a few times a
 * second; otherwise (a log, a pipe) a full line is written every few seconds.
 */
final class Progress implements FileRows.Listener {
  private static final long TERMINAL_INTERVAL_NANOS = 200_000_000L;
  private static final long LOG_INTERVAL_NANOS = 5_000_000_000L;

  private final PrintStream err;
  private final long totalBytes;
  private final boolean terminal;
  private final LongSupplier nanoTime;
  private final long start;
  private long lastDrawn;

  /**
   * @param totalBytes the file's size (0 if unknown: no percentage or ETA)
   * @param terminal true to redraw one line in place
   * @param nanoTime the clock ({@link System#nanoTime} but in tests)
   */
  Progress(PrintStream err, long totalBytes, boolean terminal, LongSupplier nanoTime) {
    this.err = Objects.requireNonNull(err, "err");
    this.totalBytes = totalBytes;
    this.terminal = terminal;
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.start = nanoTime.getAsLong();
    this.lastDrawn = start;
  }

  @Override
  public void progress(long rows, long bytesRead) {
    long now = nanoTime.getAsLong();
    if (now - lastDrawn >= (terminal ? TERMINAL_INTERVAL_NANOS : LOG_INTERVAL_NANOS)) {
      lastDrawn = now;
      draw(rows, bytesRead, now, false);
    }
  }

  /** Draws the final state and ends the line. */
  void finish(long rows, long bytesRead) {
    draw(rows, bytesRead, nanoTime.getAsLong(), true);
  }

  /** The progress text, e.g. {@code 12,000 rows 8,000 rows/s 40% ETA 0:03}. */
  String text(long rows, long bytesRead, long now) {
    double seconds = Math.max(1e-9, (now - start) / 1e9);
    StringBuilder text =
        new StringBuilder(String.format("%,d rows  %,.0f rows/s", rows, rows / seconds));
    if (totalBytes > 0) {
      double done = Math.min(1.0, (double) bytesRead / totalBytes);
      text.append(String.format("  %3.0f%%", done * 100));
      if (done > 0) {
        long left = Math.round(seconds * (1 - done) / done);
        text.append(String.format("  ETA %d:%02d", left / 60, left % 60));
      }
    }
    return text.toString();
  }

  private void draw(long rows, long bytesRead, long now, boolean last) {
    String text = text(rows, bytesRead, now);
    if (terminal) {
      // Padding erases the end of a longer earlier line.
      err.print("\r" + text + "    " + (last ? System.lineSeparator() : ""));
    } else {
      err.println(text);
    }
    err.flush();
  }
}
