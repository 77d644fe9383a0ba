package io.tusk.processor.transform;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.TransformOutput;
import io.tusk.schemas.Datum;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a command once per datum, Pachyderm's contract for any language: a fresh directory with
 * {@code in/} (one file per table, CSV or JSON lines) and an empty {@code out/}; the command runs
 * there with the datum's IDs in its environment; the files it leaves in {@code out/} are the output
 * (see {@link OutputFiles}). A non-zero exit, a timeout (the whole process tree is killed) or
 * invalid output fails the attempt. The directory is deleted afterwards: it holds health data.
 *
 * <p>Environment: {@code TUSK_JOB_ID}, {@code TUSK_COMMIT_ID}, {@code TUSK_DATUM_HASH}, {@code
 * TUSK_MEMBER}, {@code TUSK_PIPELINE}, {@code TUSK_INPUT_DIR}, {@code TUSK_OUTPUT_DIR} (absolute
 * paths), the spec's {@code env}, and the processor's environment without its {@code TUSK_*}
 * settings.
 */
public final class CommandRunner implements TransformRunner {
  private static final Logger log = LoggerFactory.getLogger(CommandRunner.class);
  static final String IN = "in";
  static final String OUT = "out";
  private static final String STDOUT = "stdout.log";
  private static final String STDERR = "stderr.log";

  private final List<String> cmd;
  private final Map<String, String> env;
  private final String inputFormat;
  private final Path workDir;
  private final int maxOutputBytes;
  private long sequence;

  /**
   * @param cmd the command and its arguments
   * @param env the spec's environment variables
   * @param inputFormat {@code csv} or {@code json}
   * @param workDir a directory of this runner's own (datum directories are made inside it)
   * @param maxOutputBytes the largest output accepted
   */
  public CommandRunner(
      List<String> cmd,
      Map<String, String> env,
      String inputFormat,
      Path workDir,
      int maxOutputBytes) {
    if (cmd.isEmpty()) {
      throw new IllegalArgumentException("a command transform needs a command");
    }
    this.cmd = List.copyOf(cmd);
    this.env = Map.copyOf(env);
    this.inputFormat = Objects.requireNonNull(inputFormat, "inputFormat");
    this.workDir = Objects.requireNonNull(workDir, "workDir");
    this.maxOutputBytes = maxOutputBytes;
  }

  @Override
  public Attempt run(Datum datum, RepoLayout layout, Duration timeout) {
    return execute(cmd, datum, layout, timeout, true);
  }

  /**
   * Runs the error command {@code errCmd} on the datum's input (same directory layout and
   * environment): exit status 0 recovers the datum. The attempt's output, if it succeeded, is empty
   * and meaningless.
   */
  Attempt recover(List<String> errCmd, Datum datum, RepoLayout layout, Duration timeout) {
    return execute(errCmd, datum, layout, timeout, false);
  }

  private Attempt execute(
      List<String> command, Datum datum, RepoLayout layout, Duration timeout, boolean output) {
    Path dir = workDir.resolve("datum-" + ++sequence);
    try {
      Path in = Files.createDirectories(dir.resolve(IN));
      Path out = Files.createDirectories(dir.resolve(OUT));
      try {
        DatumFiles.writeInput(datum, layout, in, inputFormat);
      } catch (IllegalArgumentException e) {
        return Attempt.failure(e.getMessage(), "", "");
      }
      Process process = start(command, datum, dir, in, out);
      boolean exited = true;
      if (timeout == null) {
        process.waitFor();
      } else {
        exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      if (!exited) {
        ProcessTrees.kill(process);
      }
      String stdout = Tails.tail(dir.resolve(STDOUT), DatumExecution.MAX_LOG_CHARS);
      String stderr = Tails.tail(dir.resolve(STDERR), DatumExecution.MAX_LOG_CHARS);
      if (!exited) {
        return Attempt.failure(
            "timed out after " + ProcessTrees.describe(timeout) + "; the process tree was killed",
            stdout,
            stderr);
      }
      if (process.exitValue() != 0) {
        return Attempt.failure("exited with status " + process.exitValue(), stdout, stderr);
      }
      if (!output) {
        return Attempt.success(new TransformOutput("text/plain", new byte[0]), stdout, stderr);
      }
      try {
        return Attempt.success(OutputFiles.read(out, maxOutputBytes), stdout, stderr);
      } catch (OutputFiles.InvalidOutputException e) {
        return Attempt.failure("invalid output: " + e.getMessage(), stdout, stderr);
      }
    } catch (IOException e) {
      return Attempt.failure("cannot run " + command.get(0) + ": " + e.getMessage(), "", "");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Attempt.failure("interrupted", "", "");
    } finally {
      try {
        deleteTree(dir);
      } catch (UncheckedIOException e) {
        log.warn("Cannot delete datum directory {}: {}", dir, e.getCause().toString());
      }
    }
  }

  private Process start(List<String> command, Datum datum, Path dir, Path in, Path out)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(dir.resolve(STDOUT).toFile())
            .redirectError(dir.resolve(STDERR).toFile());
    Map<String, String> environment = builder.environment();
    environment.clear();
    environment.putAll(
        ProcessTrees.environment(
            env,
            Map.of(
                "TUSK_JOB_ID", datum.getJobId(),
                "TUSK_COMMIT_ID", datum.getCommitId(),
                "TUSK_DATUM_HASH", datum.getDatumHash(),
                "TUSK_MEMBER", datum.getMemberObject().getMember(),
                "TUSK_PIPELINE", datum.getPipeline(),
                "TUSK_INPUT_DIR", in.toAbsolutePath().toString(),
                "TUSK_OUTPUT_DIR", out.toAbsolutePath().toString())));
    Process process = builder.start();
    // The command reads its input from files; an open stdin would let it wait forever.
    process.getOutputStream().close();
    return process;
  }

  /**
   * Deletes a directory tree, whatever a command left in it: datum directories hold health data.
   *
   * @throws UncheckedIOException if something cannot be deleted
   */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  @Override
  public void close() {
    deleteTree(workDir);
  }
}
