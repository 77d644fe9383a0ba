package io.tusk.common.service;

import io.tusk.common.config.ConfigException;
import io.tusk.common.kafka.AccessDenied;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle every service's {@code main} shares: start, log, run until the JVM is asked to
 * stop, then close through a named shutdown hook. Bad configuration ends the process with status 2
 * and a message naming the key; any other start failure with status 1; and so does a {@link
 * Service} that reports it cannot work any more, so a supervisor restarts it instead of leaving a
 * process that does nothing.
 */
public final class ServiceRunner {
  private static final Logger log = LoggerFactory.getLogger(ServiceRunner.class);

  /** Exit status of a start failure or of a service that cannot work any more. */
  public static final int FAILED = 1;

  /** Exit status of bad configuration. */
  public static final int BAD_CONFIG = 2;

  private ServiceRunner() {}

  /** Starts the service {@code starter} returns and blocks until shutdown. */
  public static void run(String name, Callable<? extends AutoCloseable> starter) {
    run(name, starter, System::exit);
  }

  /**
   * {@link #run(String, Callable)} with {@code exit} in place of {@link System#exit}. When {@code
   * exit} returns (a test's), the service is closed here and the shutdown hook removed.
   */
  public static void run(String name, Callable<? extends AutoCloseable> starter, IntConsumer exit) {
    AutoCloseable service;
    try {
      service = starter.call();
    } catch (ConfigException e) {
      log.error("{} cannot start: {}", name, e.getMessage());
      exit.accept(BAD_CONFIG);
      return;
    } catch (Exception e) {
      // Kafka denying an ACL is the operator's to fix: say which, above the stack trace.
      String denied = AccessDenied.explain(name, e).map(reason -> ": " + reason).orElse("");
      log.error("{} failed to start{}", name, denied, e);
      exit.accept(FAILED);
      return;
    }
    CompletableFuture<String> stopped = new CompletableFuture<>();
    Thread hook =
        new Thread(
            () -> {
              log.info("{} stopping", name);
              close(name, service);
              stopped.complete("stopped");
            },
            name + "-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    CompletableFuture<String> failure = new CompletableFuture<>();
    if (service instanceof Service watched) {
      watched.failure().thenAccept(failure::complete);
    }
    log.info("{} started", name);
    CompletableFuture.anyOf(stopped, failure).join();
    if (!failure.isDone() || stopped.isDone()) {
      return;
    }
    // Exits from this thread, never from the failing one (a stream thread): the shutdown hook
    // then closes the service, which waits for that thread to stop.
    log.error("{} cannot work any more ({}); exiting with status {}", name, failure.join(), FAILED);
    exit.accept(FAILED);
    Runtime.getRuntime().removeShutdownHook(hook);
    close(name, service);
  }

  private static void close(String name, AutoCloseable service) {
    try {
      service.close();
    } catch (Exception e) {
      log.error("{} did not close cleanly", name, e);
    }
  }
}
