package io.tusk.lineage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends OpenLineage events to an HTTP endpoint ({@code POST <url>/api/v1/lineage}, as Marquez
 * accepts) from a bounded in-memory backlog, on its own thread, in order. Nothing waits for it: an
 * endpoint that is down only grows the backlog ({@code tusk_openlineage_backlog}); the head event
 * is retried with exponential backoff (0.1 s to 30 s) until the endpoint takes it.
 *
 * <p>An event the endpoint rejects as invalid (4xx other than 408 and 429) is logged with its key
 * and counted ({@code tusk_openlineage_rejected_total}), then dropped: retrying it would block
 * every later event.
 */
final class OpenLineageEmitter implements RunEventSink, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OpenLineageEmitter.class);
  private static final long MIN_BACKOFF_MILLIS = 100;
  private static final long MAX_BACKOFF_MILLIS = 30_000;

  private final URI endpoint;
  private final int capacity;
  private final BlockingQueue<PendingEvent> backlog;
  // Taken but not yet sent: the queue's events plus the one being retried.
  private final AtomicInteger waiting = new AtomicInteger();
  private final HttpClient http;
  private final Thread sender;
  private final Counter sent;
  private final Counter failures;
  private final Counter rejected;
  private volatile boolean running = true;

  /**
   * @param url the endpoint's base URL
   * @param capacity most events waiting in memory
   */
  OpenLineageEmitter(String url, int capacity, MeterRegistry metrics) {
    Objects.requireNonNull(url, "url");
    this.endpoint = URI.create(url.replaceAll("/+$", "") + "/api/v1/lineage");
    this.capacity = capacity;
    this.backlog = new LinkedBlockingQueue<>();
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    Gauge.builder("tusk.openlineage.backlog", waiting, AtomicInteger::get)
        .description("OpenLineage events waiting in memory for the endpoint")
        .register(metrics);
    this.sent =
        Counter.builder("tusk.openlineage.sent")
            .description("Events the endpoint took")
            .register(metrics);
    this.failures =
        Counter.builder("tusk.openlineage.send.failures")
            .description("Failed attempts to send an event (retried)")
            .register(metrics);
    this.rejected =
        Counter.builder("tusk.openlineage.rejected")
            .description("Events the endpoint rejected as invalid (dropped)")
            .register(metrics);
    this.sender = new Thread(this::run, "openlineage-emitter");
    this.sender.setDaemon(true);
    this.sender.start();
  }

  @Override
  public boolean offer(PendingEvent event) {
    if (!running) {
      return false;
    }
    if (waiting.incrementAndGet() > capacity) {
      waiting.decrementAndGet();
      return false;
    }
    backlog.add(event);
    return true;
  }

  /** Events waiting now, the one being retried included. */
  int backlog() {
    return waiting.get();
  }

  private void run() {
    long backoff = MIN_BACKOFF_MILLIS;
    while (running) {
      PendingEvent event;
      try {
        event = backlog.poll(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        return;
      }
      while (event != null && running) {
        Outcome outcome = send(event);
        if (outcome == Outcome.RETRY) {
          failures.increment();
          if (!pause(backoff)) {
            return;
          }
          backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
          continue;
        }
        backoff = MIN_BACKOFF_MILLIS;
        (outcome == Outcome.SENT ? sent : rejected).increment();
        waiting.decrementAndGet();
        event.ack().run();
        event = null;
      }
    }
  }

  private enum Outcome {
    SENT,
    REJECTED,
    RETRY
  }

  private Outcome send(PendingEvent event) {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(event.json()))
            .build();
    try {
      int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status >= 200 && status < 300) {
        return Outcome.SENT;
      }
      if (status >= 400 && status < 500 && status != 408 && status != 429) {
        log.error(
            "OpenLineage endpoint {} rejected event {} with status {}; dropping it",
            endpoint,
            printable(event.key()),
            status);
        return Outcome.REJECTED;
      }
      log.warn("OpenLineage endpoint {} answered {}; retrying", endpoint, status);
    } catch (IOException e) {
      log.warn("OpenLineage endpoint {} cannot be reached ({}); retrying", endpoint, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
    return Outcome.RETRY;
  }

  private boolean pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis); // backoff between retries of an unreachable endpoint
      return running;
    } catch (InterruptedException e) {
      return false;
    }
  }

  private static String printable(String key) {
    return key.replace(StoreKeys.SEPARATOR, '/');
  }

  @Override
  public void close() {
    running = false;
    sender.interrupt();
    try {
      sender.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!backlog.isEmpty()) {
      // They stay pending in the store: the next start offers them again.
      log.info(
          "{} OpenLineage events unsent at shutdown; they are re-sent after restart",
          backlog.size());
    }
  }
}
