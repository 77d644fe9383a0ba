package io.tusk.common.security;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import io.tusk.schemas.AuditEvent;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the audit trail: one {@link AuditEvent} per mutation, read of row content and denied
 * request, to {@code tusk.audit} (key: the principal; record timestamp: the event's time, so {@code
 * GET /audit?since=} can seek by time). {@link SecuredRouter} is its only caller, so every route is
 * audited the same way. Events never carry row content or member keys: the action is the route's
 * template.
 *
 * <p>{@link #record} never blocks the caller (an event loop): events are handed to one writer
 * thread through a bounded queue. An event that cannot be written is counted and logged (without
 * its content), never silently dropped.
 */
public final class Audit implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Audit.class);
  private static final int QUEUE = 10_000;

  private final String service;
  private final Consumer<AuditEvent> sink;
  private final AutoCloseable resource;
  private final ThreadPoolExecutor writer;
  private final AtomicLong failures = new AtomicLong();

  private Audit(String service, Consumer<AuditEvent> sink, AutoCloseable resource) {
    this.service = Objects.requireNonNull(service, "service");
    this.sink = sink;
    this.resource = resource;
    this.writer =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            runnable -> {
              Thread thread = new Thread(runnable, "tusk-audit-" + service);
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Writes the events of {@code service} to {@code topic}. */
  public static Audit toKafka(
      KafkaSettings settings, Topic<String, AuditEvent> topic, String service) {
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            settings.producer("tusk-audit-" + service + "-" + settings.instanceId(), null));
    Audit[] self = new Audit[1];
    Consumer<AuditEvent> send =
        event ->
            producer.send(
                new ProducerRecord<>(
                    topic.name(),
                    null,
                    event.getTime(),
                    topic.key(event.getPrincipal()),
                    topic.value(event)),
                (metadata, failure) -> {
                  if (failure != null) {
                    self[0].failed(event, failure);
                  }
                });
    self[0] = new Audit(service, send, () -> producer.close(Duration.ofSeconds(10)));
    return self[0];
  }

  /** Hands the events of {@code service} to {@code sink} (on the writer thread). */
  public static Audit to(Consumer<AuditEvent> sink, String service) {
    return new Audit(service, Objects.requireNonNull(sink, "sink"), null);
  }

  /**
   * Records one request.
   *
   * @param principal the caller's subject, empty when the request had no valid token
   * @param action the method and route template, e.g. {@code POST /repos/:repo/commits}
   * @param resource what it was about, or null
   * @param outcome success, failure, denied or unauthenticated
   * @param status the HTTP status answered
   * @param detail what a denial missed, or null
   */
  public void record(
      String principal,
      String action,
      Resource resource,
      String outcome,
      int status,
      String detail) {
    AuditEvent event =
        AuditEvent.newBuilder()
            .setTime(System.currentTimeMillis())
            .setService(service)
            .setPrincipal(principal)
            .setAction(action)
            .setResource(resource == null ? null : resource.toString())
            .setOutcome(outcome)
            .setStatus(status)
            .setDetail(detail)
            .build();
    try {
      writer.execute(
          () -> {
            try {
              sink.accept(event);
            } catch (RuntimeException e) {
              failed(event, e);
            }
          });
    } catch (RejectedExecutionException e) {
      failed(event, e);
    }
  }

  /** Events that could not be written (also on {@code /metrics}). */
  public long failures() {
    return failures.get();
  }

  private void failed(AuditEvent event, Throwable failure) {
    failures.incrementAndGet();
    log.error(
        "Audit event not written ({} {} by {} on {}, status {}): {}",
        event.getOutcome(),
        event.getAction(),
        event.getPrincipal(),
        event.getResource(),
        event.getStatus(),
        failure.toString());
  }

  @Override
  public void close() {
    writer.shutdown();
    try {
      if (!writer.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("Audit writer of {} did not finish its queue in 10 s", service);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (resource != null) {
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("Closing the audit producer of {} failed", service, e);
      }
    }
  }
}
