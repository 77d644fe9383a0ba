package io.tusk.processor.transform;

import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.transform.Transforms;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** Makes the {@link DatumExecution} a pipeline spec asks for, one per processor thread. */
public final class TransformRunners {
  private TransformRunners() {}

  /**
   * Checks that {@code spec}'s transform can run here (a Java transform can be loaded; a command is
   * given), so a processor fails at start rather than on every datum.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static void check(PipelineSpec spec, ClassLoader loader) {
    TransformSpec transform = spec.getTransform();
    if (transform.getKind() == TransformKind.JAVA) {
      Transforms.load(transform, loader);
    } else if (transform.getCmd().isEmpty()) {
      throw new IllegalArgumentException(
          "a " + transform.getKind() + " transform needs a command (transform.cmd)");
    }
  }

  /**
   * The execution of {@code spec}'s datums for one thread.
   *
   * @param loader finds Java transforms
   * @param workDir a directory of this thread's own, for datum directories and the worker
   * @param onWorkerStart called whenever a worker process starts
   */
  public static DatumExecution create(
      PipelineSpec spec, ClassLoader loader, Path workDir, Runnable onWorkerStart) {
    Objects.requireNonNull(workDir, "workDir");
    TransformSpec transform = spec.getTransform();
    boolean split = PipelineSpecs.SPLIT.equals(transform.getInputFormat());
    TransformRunner runner =
        switch (transform.getKind()) {
          case JAVA -> new JavaRunner(() -> Transforms.load(transform, loader));
          case COMMAND ->
              new CommandRunner(
                  transform.getCmd(),
                  transform.getEnv(),
                  transform.getInputFormat(),
                  workDir.resolve("datums"),
                  DatumExecution.MAX_OUTPUT_BYTES);
          case WORKER ->
              new WorkerRunner(
                  transform.getCmd(),
                  transform.getEnv(),
                  split,
                  spec.getName(),
                  workDir.resolve("worker"),
                  DatumExecution.MAX_OUTPUT_BYTES,
                  onWorkerStart);
        };
    CommandRunner errCmd =
        spec.getErrCmd().isEmpty()
            ? null
            : new CommandRunner(
                spec.getErrCmd(),
                transform.getEnv(),
                // The error command reads files: a worker's split layout gives it CSV.
                split ? PipelineSpecs.CSV : transform.getInputFormat(),
                workDir.resolve("err-cmd"),
                DatumExecution.MAX_OUTPUT_BYTES);
    return new DatumExecution(
        runner, spec.getDatumTries(), timeout(spec), errCmd, spec.getErrCmd());
  }

  /**
   * The limit of one attempt: the spec's {@code datumTimeout}; without one, none for Java and
   * {@link DatumExecution#DEFAULT_PROCESS_TIMEOUT} for commands and workers.
   */
  public static Duration timeout(PipelineSpec spec) {
    if (spec.getDatumTimeoutMs() != null) {
      return Duration.ofMillis(spec.getDatumTimeoutMs());
    }
    return spec.getTransform().getKind() == TransformKind.JAVA
        ? null
        : DatumExecution.DEFAULT_PROCESS_TIMEOUT;
  }
}
