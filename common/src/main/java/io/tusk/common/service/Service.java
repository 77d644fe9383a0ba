package io.tusk.common.service;

import java.util.concurrent.CompletionStage;

/**
 * A started service that can tell when it can no longer work, so that {@link ServiceRunner} ends
 * the process with a non-zero status and a supervisor restarts it, instead of the process living on
 * with nothing running (a Kafka Streams application stopped for good, say). What it holds and
 * whether it still works is its {@link Lifecycle}.
 */
public interface Service extends AutoCloseable {

  /** Everything the service opened, and whether it can still work. */
  Lifecycle lifecycle();

  /**
   * Completes with the reason once the service cannot work any more; never completes while it works
   * or after a {@link #close} asked of it.
   */
  default CompletionStage<String> failure() {
    return lifecycle().failure();
  }

  /** Stops everything the service runs, newest part first; idempotent, and never throws. */
  @Override
  default void close() {
    lifecycle().close();
  }
}
