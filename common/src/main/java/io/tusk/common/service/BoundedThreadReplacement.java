package io.tusk.common.service;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a failed Kafka Streams thread a bounded number of times, then shuts the client down.
 *
 * <p>A replaced thread resumes from its last commit, so a transient failure (broker or registry
 * briefly unreachable) costs a retry, never data. But a thread that fails on the same record fails
 * again every time it is replaced: unbounded replacement turns a poison record or a bug into a
 * service that reports UP while doing nothing. Past the bound the client stops (state ERROR), the
 * service's health turns DOWN and its process exits non-zero, so a supervisor restarts it and an
 * operator sees the crash loop.
 *
 * <p>Some failures are never transient, such as Kafka denying the application an ACL: a thread
 * replaced after one fails the same way. Those the {@code fatal} classifier names shut the client
 * down at once, with its reason (the missing ACL), instead of after the bound.
 */
public final class BoundedThreadReplacement implements StreamsUncaughtExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(BoundedThreadReplacement.class);

  /**
   * Replacements allowed within {@link #WINDOW}: enough to ride out a broker restart or a short
   * network partition (each costs one failure), few enough that a record that fails every time
   * stops the client within minutes.
   */
  public static final int MAX_REPLACEMENTS = 3;

  /**
   * How long a failure counts against the bound: long enough that a crash loop on one record (each
   * replacement fails within seconds) is caught, short enough that rare unrelated transient
   * failures over days never add up to a shutdown.
   */
  public static final Duration WINDOW = Duration.ofMinutes(10);

  private final String name;
  private final int maxReplacements;
  private final long windowNanos;
  private final LongSupplier nanoTime;
  private final Consumer<String> onGiveUp;
  private final Function<Throwable, Optional<String>> fatal;
  private final Deque<Long> replacements = new ArrayDeque<>();
  private volatile boolean gaveUp;

  /**
   * A handler with the default bound ({@link #MAX_REPLACEMENTS} within {@link #WINDOW}).
   *
   * @param name the Streams application's name, for logs and the reason
   * @param onGiveUp told the reason when the bound is hit, before the client shuts down
   */
  public BoundedThreadReplacement(String name, Consumer<String> onGiveUp) {
    this(name, failure -> Optional.empty(), onGiveUp);
  }

  /**
   * A handler with the default bound that never replaces a thread whose failure {@code fatal} names
   * (it answers the reason to report, or empty for a failure worth a replacement).
   */
  public BoundedThreadReplacement(
      String name, Function<Throwable, Optional<String>> fatal, Consumer<String> onGiveUp) {
    this(name, MAX_REPLACEMENTS, WINDOW, System::nanoTime, fatal, onGiveUp);
  }

  /** A handler with another bound and clock; for tests. */
  BoundedThreadReplacement(
      String name,
      int maxReplacements,
      Duration window,
      LongSupplier nanoTime,
      Consumer<String> onGiveUp) {
    this(name, maxReplacements, window, nanoTime, failure -> Optional.empty(), onGiveUp);
  }

  private BoundedThreadReplacement(
      String name,
      int maxReplacements,
      Duration window,
      LongSupplier nanoTime,
      Function<Throwable, Optional<String>> fatal,
      Consumer<String> onGiveUp) {
    this.name = Objects.requireNonNull(name, "name");
    this.fatal = Objects.requireNonNull(fatal, "fatal");
    this.maxReplacements = maxReplacements;
    this.windowNanos = window.toNanos();
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.onGiveUp = Objects.requireNonNull(onGiveUp, "onGiveUp");
  }

  @Override
  public synchronized StreamThreadExceptionResponse handle(Throwable failure) {
    Optional<String> fatalReason = fatal.apply(failure);
    if (fatalReason.isPresent()) {
      gaveUp = true;
      log.error(
          "A Kafka Streams thread of {} failed for good: {}", name, fatalReason.get(), failure);
      onGiveUp.accept(fatalReason.get());
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }
    long now = nanoTime.getAsLong();
    while (!replacements.isEmpty() && now - replacements.peekFirst() >= windowNanos) {
      replacements.pollFirst();
    }
    if (!gaveUp && replacements.size() < maxReplacements) {
      replacements.addLast(now);
      log.error(
          "A Kafka Streams thread of {} failed; replacing it ({} of {} replacements within {} min)",
          name,
          replacements.size(),
          maxReplacements,
          Duration.ofNanos(windowNanos).toMinutes(),
          failure);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
    gaveUp = true;
    String reason =
        "Kafka Streams "
            + name
            + " failed again after "
            + maxReplacements
            + " thread replacements within "
            + Duration.ofNanos(windowNanos).toMinutes()
            + " min ("
            + rootCause(failure).getClass().getSimpleName()
            + ")";
    log.error("{}; shutting it down", reason, failure);
    onGiveUp.accept(reason);
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }

  /** The innermost cause: Kafka Streams wraps what a processor threw in a StreamsException. */
  private static Throwable rootCause(Throwable failure) {
    Throwable cause = failure;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** True once the bound was hit (the client is shutting down or down). */
  public boolean gaveUp() {
    return gaveUp;
  }
}
