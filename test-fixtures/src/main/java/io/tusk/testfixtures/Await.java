package io.tusk.testfixtures;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The one way tests wait: check a condition until it holds or a deadline passes, then fail with an
 * {@link AssertionError} that says what was awaited (and, for a probed value, the last one seen).
 *
 * <pre>{@code
 * Await.until("the backlog drained", DEADLINE, () -> emitter.backlog() == 0);
 * JsonObject job = Await.until("job " + id + " ended", DEADLINE, () -> getJob(id), j -> j.ended());
 * }</pre>
 *
 * Checks run on the calling thread, so a condition may use what the test owns and is not
 * thread-safe (a Kafka consumer, a {@code TopologyTestDriver}). The condition is checked at least
 * once, even with a zero deadline.
 */
public final class Await {

  /** The pause between two checks unless the caller names one. */
  public static final Duration POLL_INTERVAL = Duration.ofMillis(100);

  /**
   * No pause between checks: for conditions that wait themselves, such as one that polls a Kafka
   * consumer (the poll's timeout paces the loop).
   */
  public static final Duration NO_PAUSE = Duration.ZERO;

  private Await() {}

  /** A condition that may throw; a checked exception ends the wait as an error. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /** Reads the value a test waits on; a checked exception ends the wait as an error. */
  @FunctionalInterface
  public interface Probe<T> {
    T get() throws Exception;
  }

  /**
   * Waits until {@code condition} holds, checking every {@link #POLL_INTERVAL}.
   *
   * @throws AssertionError naming {@code description} if it does not hold within {@code deadline}
   */
  public static void until(String description, Duration deadline, Condition condition) {
    until(description, deadline, POLL_INTERVAL, condition);
  }

  /**
   * Waits until {@code condition} holds, pausing {@code pollInterval} between checks.
   *
   * @throws AssertionError naming {@code description} if it does not hold within {@code deadline}
   */
  public static void until(
      String description, Duration deadline, Duration pollInterval, Condition condition) {
    Objects.requireNonNull(condition, "condition");
    poll(description, deadline, pollInterval, condition::holds, Boolean::booleanValue, false);
  }

  /**
   * Reads {@code probe} every {@link #POLL_INTERVAL} until {@code done} accepts its value, and
   * returns that value.
   *
   * @throws AssertionError naming {@code description} and the last value if none is accepted within
   *     {@code deadline}
   */
  public static <T> T until(
      String description, Duration deadline, Probe<T> probe, Predicate<? super T> done) {
    return until(description, deadline, POLL_INTERVAL, probe, done);
  }

  /**
   * Reads {@code probe}, pausing {@code pollInterval} between reads, until {@code done} accepts its
   * value, and returns that value.
   *
   * @throws AssertionError naming {@code description} and the last value if none is accepted within
   *     {@code deadline}
   */
  public static <T> T until(
      String description,
      Duration deadline,
      Duration pollInterval,
      Probe<T> probe,
      Predicate<? super T> done) {
    return poll(description, deadline, pollInterval, probe, done, true);
  }

  private static <T> T poll(
      String description,
      Duration deadline,
      Duration pollInterval,
      Probe<T> probe,
      Predicate<? super T> done,
      boolean showLast) {
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(probe, "probe");
    Objects.requireNonNull(done, "done");
    long end = System.nanoTime() + deadline.toNanos();
    while (true) {
      T value = read(description, probe);
      if (done.test(value)) {
        return value;
      }
      if (System.nanoTime() - end > 0) {
        throw new AssertionError(
            description + ": not within " + text(deadline) + (showLast ? "; last: " + value : ""));
      }
      pause(description, pollInterval);
    }
  }

  private static <T> T read(String description, Probe<T> probe) {
    try {
      return probe.get();
    } catch (RuntimeException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + description, e);
    } catch (Exception e) {
      throw new IllegalStateException("failed waiting for " + description + ": " + e, e);
    }
  }

  private static void pause(String description, Duration pollInterval) {
    if (pollInterval.isZero() || pollInterval.isNegative()) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(pollInterval.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + description, e);
    }
  }

  /** "30 s" or "250 ms", for failure messages people read. */
  private static String text(Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
  }
}
