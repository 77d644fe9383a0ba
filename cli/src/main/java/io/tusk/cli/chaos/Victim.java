package io.tusk.cli.chaos;

import java.time.Duration;

/** Something the chaos schedule kills and starts again: a service instance or a broker. */
interface Victim {
  /** How the run names it. */
  String name();

  /** Kills it with SIGKILL and waits until it is gone. */
  void kill();

  /** Starts it again on its state, ports and environment. */
  void start();

  /** True while its process runs. */
  boolean alive();

  /**
   * Waits until it does its job again: a service answers {@code /health}, a broker is back in sync.
   *
   * @throws IllegalStateException if its process ends first or {@code deadline} passes
   */
  void awaitRecovered(Duration deadline) throws InterruptedException;
}
