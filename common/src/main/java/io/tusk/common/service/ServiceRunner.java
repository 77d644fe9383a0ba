package io.tusk.common.service;

import io.tusk.common.config.ConfigException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle every service's {@code main} shares: start, log, run until the JVM is asked to
 * stop, then close through a named shutdown hook. Bad configuration ends the process with status 2
 * and a message naming the key; any other start failure with status 1.
 */
public final class ServiceRunner {
  private static final Logger log = LoggerFactory.getLogger(ServiceRunner.class);

  private ServiceRunner() {}

  /** Starts the service {@code starter} returns and blocks until shutdown. */
  public static void run(String name, Callable<? extends AutoCloseable> starter) {
    AutoCloseable service;
    try {
      service = starter.call();
    } catch (ConfigException e) {
      log.error("{} cannot start: {}", name, e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      log.error("{} failed to start", name, e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("{} stopping", name);
                  try {
                    service.close();
                  } catch (Exception e) {
                    log.error("{} did not close cleanly", name, e);
                  }
                  stopped.countDown();
                },
                name + "-shutdown"));
    log.info("{} started", name);
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
