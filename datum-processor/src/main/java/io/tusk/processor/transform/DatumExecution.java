package io.tusk.processor.transform;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.TransformOutput;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumState;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How one datum is processed, whatever the transform kind (Pachyderm's semantics): up to {@code
 * datumTries} attempts, each bounded by the datum timeout; if all fail and an error command is set,
 * it runs on the datum's input and, when it exits 0, the datum is RECOVERED (no output); otherwise
 * it is FAILED with the last attempt's error and the end of its stderr. What the attempts printed
 * is kept as the datum's log, bounded to its last 16 KiB. Used by the datum processor and by {@code
 * tusk run}, so both behave the same.
 *
 * <p>Not thread-safe (it drives one thread's runner).
 */
public final class DatumExecution implements AutoCloseable {
  /** Longest datum log kept (the end). */
  public static final int MAX_LOG_CHARS = 16 * 1024;

  /** Longest stderr excerpt kept with a failure (the end). */
  public static final int MAX_STDERR_CHARS = 4 * 1024;

  /** Longest error message kept (the start). */
  public static final int MAX_ERROR_CHARS = 1000;

  /** Largest output accepted: an output record must fit Kafka's default 1 MiB message size. */
  public static final int MAX_OUTPUT_BYTES = 768 * 1024;

  /** Timeout of commands and workers whose spec sets none: a hung process must not stall all. */
  public static final Duration DEFAULT_PROCESS_TIMEOUT = Duration.ofMinutes(10);

  private final TransformRunner runner;
  private final int tries;
  private final Duration timeout;
  private final CommandRunner errCmdRunner;
  private final List<String> errCmd;

  /**
   * @param runner the thread's transform runner (closed with this execution)
   * @param tries attempts per datum, at least 1
   * @param timeout limit of one attempt (and of the error command); null for none
   * @param errCmdRunner runs the error command; null when the spec has none
   * @param errCmd the error command; empty for none
   */
  public DatumExecution(
      TransformRunner runner,
      int tries,
      Duration timeout,
      CommandRunner errCmdRunner,
      List<String> errCmd) {
    if (tries < 1) {
      throw new IllegalArgumentException("tries must be at least 1, got " + tries);
    }
    this.runner = Objects.requireNonNull(runner, "runner");
    this.tries = tries;
    this.timeout = timeout;
    this.errCmd = List.copyOf(errCmd);
    if (!this.errCmd.isEmpty() && errCmdRunner == null) {
      throw new IllegalArgumentException("an error command needs a runner");
    }
    this.errCmdRunner = errCmdRunner;
  }

  /**
   * How a datum ended.
   *
   * @param state SUCCESS (with an output), RECOVERED or FAILED
   * @param output the output; null unless SUCCESS
   * @param attempts transform attempts made
   * @param error the last attempt's error (and the error command's); null on SUCCESS
   * @param stderr the last failed attempt's stderr, at most 4 KiB (the end); empty if none
   * @param log what the attempts printed, with their errors, at most 16 KiB (the end); null when
   *     the first attempt succeeded silently (the common case costs nothing)
   */
  public record Result(
      DatumState state,
      TransformOutput output,
      int attempts,
      String error,
      String stderr,
      String log) {}

  /** Processes one datum: tries, then the error command. Never throws for user failures. */
  public Result execute(Datum datum, RepoLayout layout) {
    StringBuilder log = null;
    Attempt last = null;
    for (int attempt = 1; attempt <= tries; attempt++) {
      Attempt result = runner.run(datum, layout, timeout);
      if (result.succeeded() && result.output().data().length > MAX_OUTPUT_BYTES) {
        result =
            Attempt.failure(
                "invalid output: "
                    + result.output().data().length
                    + " bytes, more than the limit of "
                    + MAX_OUTPUT_BYTES,
                result.stdout(),
                result.stderr());
      }
      if (!result.succeeded() || !result.stdout().isEmpty() || !result.stderr().isEmpty()) {
        log = appendLog(log, "attempt " + attempt, result);
      }
      if (result.succeeded()) {
        return new Result(DatumState.SUCCESS, result.output(), attempt, null, "", finish(log));
      }
      last = result;
    }
    String error = Tails.head(last.error(), MAX_ERROR_CHARS);
    if (errCmdRunner != null) {
      Attempt recovery = errCmdRunner.recover(errCmd, datum, layout, timeout);
      log = appendLog(log, "errCmd", recovery);
      if (recovery.succeeded()) {
        return new Result(DatumState.RECOVERED, null, tries, error, "", finish(log));
      }
      error = Tails.head(error + "; errCmd: " + recovery.error(), MAX_ERROR_CHARS);
    }
    return new Result(
        DatumState.FAILED,
        null,
        tries,
        error,
        Tails.tail(last.stderr(), MAX_STDERR_CHARS),
        finish(log));
  }

  private static StringBuilder appendLog(StringBuilder log, String label, Attempt attempt) {
    StringBuilder text = log == null ? new StringBuilder() : log;
    text.append("== ")
        .append(label)
        .append(": ")
        .append(attempt.succeeded() ? "ok" : attempt.error())
        .append('\n');
    if (!attempt.stdout().isEmpty()) {
      text.append("-- stdout --\n").append(attempt.stdout());
      endLine(text);
    }
    if (!attempt.stderr().isEmpty()) {
      text.append("-- stderr --\n").append(attempt.stderr());
      endLine(text);
    }
    if (text.length() > 2 * MAX_LOG_CHARS) {
      text.delete(0, text.length() - MAX_LOG_CHARS);
    }
    return text;
  }

  private static void endLine(StringBuilder text) {
    if (text.charAt(text.length() - 1) != '\n') {
      text.append('\n');
    }
  }

  private static String finish(StringBuilder log) {
    return log == null ? null : Tails.tail(log.toString(), MAX_LOG_CHARS);
  }

  /** Closes the runners (stops worker processes, deletes work directories). */
  @Override
  public void close() {
    try {
      runner.close();
    } finally {
      if (errCmdRunner != null) {
        errCmdRunner.close();
      }
    }
  }
}
