package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Live progress of the jobs of one global ID (a commit and every job it caused down the DAG) on
 * stderr, for {@code tusk commit --wait} and {@code tusk wait}: one line per job with a bar of its
 * datums done, its counts and its state. On a terminal the lines are redrawn in place; otherwise (a
 * log, a pipe) the board is written again only when it changed, at most every few seconds, so a CI
 * log stays short.
 */
final class JobBoard {
  private static final long LOG_INTERVAL_NANOS = 5_000_000_000L;
  private static final int BAR_WIDTH = 24;

  private final PrintStream err;
  private final boolean terminal;
  private final LongSupplier nanoTime;
  private List<String> drawn = List.of();
  private long lastWritten = Long.MIN_VALUE;

  /**
   * @param terminal true to redraw the lines in place (ANSI cursor movement)
   * @param nanoTime the clock ({@link System#nanoTime} but in tests)
   */
  JobBoard(PrintStream err, boolean terminal, LongSupplier nanoTime) {
    this.err = Objects.requireNonNull(err, "err");
    this.terminal = terminal;
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  /** A board on this process's stderr, redrawn in place when stderr is a terminal. */
  static JobBoard onStderr() {
    return new JobBoard(System.err, System.console() != null, System::nanoTime);
  }

  /** Shows the jobs of a {@code GET /global/{id}} answer. */
  void draw(JsonNode global) {
    List<String> lines = new ArrayList<>();
    for (JsonNode job : global.path("jobs")) {
      lines.add(line(job));
    }
    if (lines.equals(drawn)) {
      return;
    }
    long now = nanoTime.getAsLong();
    if (!terminal && lastWritten != Long.MIN_VALUE && now - lastWritten < LOG_INTERVAL_NANOS) {
      return;
    }
    StringBuilder out = new StringBuilder();
    if (terminal && !drawn.isEmpty()) {
      out.append("\033[").append(drawn.size()).append('A');
    }
    for (String line : lines) {
      out.append(terminal ? "\033[2K" : "").append(line).append('\n');
    }
    err.print(out);
    err.flush();
    drawn = lines;
    lastWritten = now;
  }

  /**
   * One job: pipeline, short ID, a bar of its datums done (processed and failed of those to
   * process; full once it ended), the counts and the state.
   */
  static String line(JsonNode job) {
    String state = job.path("state").asText("CREATED");
    boolean ended = !state.equals("CREATED") && !state.equals("RUNNING");
    long toProcess = job.path("toProcess").asLong();
    long done = job.path("processed").asLong() + job.path("failed").asLong();
    double fraction = ended ? 1.0 : toProcess <= 0 ? 0.0 : Math.min(1.0, (double) done / toProcess);
    return String.format(
        "%-24s %-12s [%s] %3d%% %,d/%,d datums, skipped %,d, failed %,d  %s",
        job.path("pipeline").asText(),
        Api.shortId(job.path("id")),
        bar(fraction),
        Math.round(fraction * 100),
        done,
        toProcess,
        job.path("skipped").asLong(),
        job.path("failed").asLong(),
        state);
  }

  private static String bar(double fraction) {
    int full = (int) Math.round(fraction * BAR_WIDTH);
    return "#".repeat(full) + "-".repeat(BAR_WIDTH - full);
  }
}
