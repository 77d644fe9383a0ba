package io.tusk.common.service;

import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.ops.BoundedRocksDbMemory;
import io.tusk.common.ops.Observability;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starting and stopping a service's Kafka Streams application the one way every service does it:
 * failed threads replaced a bounded number of times ({@link BoundedThreadReplacement}), health and
 * metrics bound, a failure for good reported to the service's {@link Lifecycle}, start waiting for
 * RUNNING with a timeout, and close leaving the consumer group within a timeout. A thread that
 * Kafka denies an ACL is not replaced: the application stops at once, and a start fails naming the
 * ACL (see {@link AccessDenied}) instead of waiting out its timeout.
 */
public final class StreamsApps {
  private static final Logger log = LoggerFactory.getLogger(StreamsApps.class);

  /** Longest a start may wait for RUNNING (restoring large stores takes a while). */
  public static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  /** Longest a close may wait for the stream threads to stop. */
  public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private StreamsApps() {}

  /**
   * {@link #start(KafkaStreams, String, Lifecycle, Observability, Consumer)} without a listener.
   */
  public static void start(
      KafkaStreams streams, String name, Lifecycle lifecycle, Observability observability) {
    start(streams, name, lifecycle, observability, state -> {});
  }

  /**
   * Starts {@code streams} and waits until it is RUNNING. Before the start it is registered with
   * {@code lifecycle} (closed with the service, also when the start fails), its metrics and health
   * are bound to {@code observability} under {@code name} (DOWN unless RUNNING or REBALANCING, and
   * DOWN once the thread replacement bound is hit), and reaching ERROR or the bound fails the
   * lifecycle.
   *
   * @param onChange hears every state change (Kafka Streams takes its one listener before start)
   * @throws IllegalStateException if it does not reach RUNNING within {@link #START_TIMEOUT} or
   *     stops while starting (with the reason the lifecycle was told, e.g. the missing ACL)
   */
  public static void start(
      KafkaStreams streams,
      String name,
      Lifecycle lifecycle,
      Observability observability,
      Consumer<KafkaStreams.State> onChange) {
    Objects.requireNonNull(streams, "streams");
    Objects.requireNonNull(lifecycle, "lifecycle");
    Objects.requireNonNull(onChange, "onChange");
    lifecycle.open(() -> close(streams, name));
    BoundedThreadReplacement replacement =
        new BoundedThreadReplacement(
            name, failure -> AccessDenied.explain(lifecycle.service(), failure), lifecycle::fail);
    streams.setUncaughtExceptionHandler(replacement);
    observability.bind(streams, name);
    BoundedRocksDbMemory.report(observability.registry());
    observability.addHealthCheck(name + "-threads", () -> !replacement.gaveUp());
    CountDownLatch settled = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean();
    streams.setStateListener(
        (newState, oldState) -> {
          log.info("Kafka Streams {} {} -> {}", name, oldState, newState);
          onChange.accept(newState);
          if (newState == KafkaStreams.State.RUNNING) {
            running.set(true);
            settled.countDown();
          } else if (newState == KafkaStreams.State.ERROR) {
            lifecycle.fail("Kafka Streams " + name + " stopped in state ERROR");
            settled.countDown();
          } else if (!newState.isRunningOrRebalancing() && newState != KafkaStreams.State.CREATED) {
            settled.countDown();
          }
        });
    long startNanos = System.nanoTime();
    streams.start();
    try {
      if (!settled.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            "Kafka Streams "
                + name
                + " did not reach RUNNING within "
                + START_TIMEOUT.toSeconds()
                + " s (state "
                + streams.state()
                + ")");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Kafka Streams " + name, e);
    }
    if (!running.get()) {
      String reason = lifecycle.failure().toCompletableFuture().getNow(null);
      throw new IllegalStateException(
          "Kafka Streams "
              + name
              + " stopped while starting (state "
              + streams.state()
              + ")"
              + (reason == null ? "" : ": " + reason));
    }
    log.info(
        "Kafka Streams {} RUNNING after {} ms",
        name,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
  }

  /**
   * Closes {@code streams} within {@link #CLOSE_TIMEOUT}. Leaving the group hands its tasks to the
   * other instances at once instead of after the session timeout.
   */
  public static void close(KafkaStreams streams, String name) {
    if (!streams.close(
        CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
            .withTimeout(CLOSE_TIMEOUT))) {
      log.warn("Kafka Streams {} did not close within {} s", name, CLOSE_TIMEOUT.toSeconds());
    }
  }
}
