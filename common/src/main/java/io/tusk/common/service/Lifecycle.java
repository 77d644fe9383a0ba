package io.tusk.common.service;

import io.tusk.common.http.HttpErrors;
import io.tusk.common.http.HttpServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one running service holds: everything it opened, closed in reverse order of opening (so the
 * HTTP server, opened last, stops first and no request reaches a closing store), and whether it can
 * still work. A part that fails for good (see {@link StreamsApps}) reports it with {@link #fail};
 * the service hands {@link #failure} to {@link ServiceRunner}, which ends the process.
 */
public final class Lifecycle implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

  /** Longest a blocking wait on a Vert.x operation (listen, close) may take. */
  public static final Duration AWAIT_TIMEOUT = Duration.ofSeconds(30);

  private final String service;
  private final Deque<AutoCloseable> opened = new ArrayDeque<>();
  private final CompletableFuture<String> failure = new CompletableFuture<>();
  private volatile boolean closing;

  /**
   * @param service the service's name, for logs
   */
  public Lifecycle(String service) {
    this.service = Objects.requireNonNull(service, "service");
  }

  /** The service's name, as given. */
  public String service() {
    return service;
  }

  /**
   * Registers {@code resource} to be closed with the service (before everything opened earlier).
   */
  public synchronized <T extends AutoCloseable> T open(T resource) {
    opened.push(Objects.requireNonNull(resource, "resource"));
    return resource;
  }

  /**
   * Reports that the service cannot work any more. The first reason wins; a failure reported while
   * the service is being closed is the close itself and is ignored.
   */
  public void fail(String reason) {
    if (closing) {
      return;
    }
    if (failure.complete(Objects.requireNonNull(reason, "reason"))) {
      log.error("{} cannot work any more: {}", service, reason);
    }
  }

  /** Completes with the reason of the first {@link #fail}. */
  public CompletionStage<String> failure() {
    return failure.minimalCompletionStage();
  }

  /** True until a part reported a failure. */
  public boolean isWorking() {
    return !failure.isDone();
  }

  /** True once {@link #close} began. */
  public boolean isClosing() {
    return closing;
  }

  /**
   * Waits at most {@link #AWAIT_TIMEOUT} for a Vert.x operation on a thread that may block (start
   * and close, never an event loop).
   *
   * @throws IllegalStateException naming {@code what} if it failed, timed out or was interrupted
   */
  public static <T> T await(Future<T> future, String what) {
    try {
      return future
          .toCompletionStage()
          .toCompletableFuture()
          .get(AWAIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted " + what, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("failed " + what + ": " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "timed out " + what + " after " + AWAIT_TIMEOUT.toSeconds() + " s", e);
    }
  }

  /**
   * Serves {@code router} on {@code host:port} (0: any free port) and returns once it listens; the
   * server is closed with the service, before everything opened earlier.
   *
   * @throws IllegalStateException if it cannot listen within {@link #AWAIT_TIMEOUT}
   */
  public HttpServer serve(Vertx vertx, Router router, String host, int port) {
    return serve(vertx, router, host, port, HttpServers.options());
  }

  /** {@link #serve(Vertx, Router, String, int)} with these server options (e.g. TLS). */
  public HttpServer serve(
      Vertx vertx, Router router, String host, int port, HttpServerOptions options) {
    HttpServer server =
        await(
            vertx
                .createHttpServer(options)
                .invalidRequestHandler(HttpErrors::invalidRequest)
                .requestHandler(router)
                .listen(port, host),
            "listening on " + host + ":" + port);
    open(() -> await(server.close(), "closing the HTTP server on " + host + ":" + port));
    return server;
  }

  /** Closes everything opened, newest first; a failure to close one is logged, not thrown. */
  @Override
  public void close() {
    closing = true;
    while (true) {
      AutoCloseable resource;
      synchronized (this) {
        resource = opened.poll();
      }
      if (resource == null) {
        return;
      }
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("Closing part of {} failed", service, e);
      }
    }
  }
}
