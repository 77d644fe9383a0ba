package io.tusk.processor.transform;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.MemberDatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import io.tusk.schemas.Datum;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs a Java {@link Transform} in the processor's JVM. Without a timeout it runs on the calling
 * thread (the fast path: no hand-off); with one it runs on a thread of its own, and a transform
 * that overruns is interrupted and abandoned along with its instance (a JVM cannot kill a thread),
 * and a fresh instance serves the next datum.
 */
public final class JavaRunner implements TransformRunner {
  private final Supplier<Transform> factory;
  private Transform transform;
  private ExecutorService executor;

  /**
   * @param factory makes a new instance of the transform
   */
  public JavaRunner(Supplier<Transform> factory) {
    this.factory = Objects.requireNonNull(factory, "factory");
    this.transform = factory.get();
  }

  @Override
  public Attempt run(Datum datum, RepoLayout layout, Duration timeout) {
    if (timeout == null) {
      return apply(transform, datum, layout);
    }
    if (executor == null) {
      executor = Executors.newSingleThreadExecutor(JavaRunner::daemon);
    }
    Transform current = transform;
    Future<Attempt> future = executor.submit(() -> apply(current, datum, layout));
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      executor.shutdownNow();
      executor = null;
      transform = factory.get();
      return Attempt.failure(
          "timed out after " + ProcessTrees.describe(timeout) + "; the transform was interrupted",
          "",
          "");
    } catch (ExecutionException e) {
      return Attempt.failure(describe(e.getCause()), "", "");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      return Attempt.failure("interrupted", "", "");
    }
  }

  private static Attempt apply(Transform transform, Datum datum, RepoLayout layout) {
    try {
      TransformOutput output = transform.apply(new MemberDatumInput(datum, layout));
      if (output == null) {
        return Attempt.failure("transform " + transform.name() + " returned no output", "", "");
      }
      return Attempt.success(output, "", "");
    } catch (Exception | StackOverflowError | LinkageError e) {
      // User code may throw anything short of a VM failure; the attempt fails, the worker goes on.
      return Attempt.failure(describe(e), "", "");
    }
  }

  private static Thread daemon(Runnable body) {
    Thread thread = new Thread(body, "tusk-java-transform");
    thread.setDaemon(true);
    return thread;
  }

  /** Exception class and message: enough to act on, bounded. */
  static String describe(Throwable e) {
    String text = e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    return Tails.head(text, DatumExecution.MAX_ERROR_CHARS);
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
      executor = null;
    }
  }
}
