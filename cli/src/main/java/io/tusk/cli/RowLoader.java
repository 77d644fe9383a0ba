package io.tusk.cli;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.security.ServiceAcls;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Produces rows to a repo's {@code <repo>.updates} topic the way any producer would: the row as the
 * value (a CSV line or JSON object), the member key as the record key (so a member's rows stay in
 * one partition, a producer's choice, not Tusk's requirement), the table in the {@code tusk.table}
 * header and, when given, the format in {@code tusk.format}.
 *
 * <p>The producer is idempotent with {@code acks=all} ({@link KafkaSettings#producer}): a retried
 * send never writes a row twice.
 */
public final class RowLoader implements AutoCloseable {
  private final Producer<byte[], byte[]> producer;
  private final String topic;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicLong acknowledged = new AtomicLong();
  private long rows;

  /** A loader of {@code repo}'s updates topic. */
  public RowLoader(KafkaSettings settings, String repo) {
    this(
        new KafkaProducer<>(settings.loader("tusk-loader-" + repo)),
        TopicNames.updates(Objects.requireNonNull(repo, "repo")));
  }

  /**
   * A loader of {@code topic} through {@code producer} (which it closes).
   *
   * @param producer an idempotent producer, {@code acks=all}
   */
  public RowLoader(Producer<byte[], byte[]> producer, String topic) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  /** Sends one row (asynchronously; {@link #flush} waits). */
  public void send(String table, String member, String line) {
    send(table, null, member, line.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sends one row as its original bytes (asynchronously; {@link #flush} waits).
   *
   * @param table the {@code tusk.table} header, or null for the repo's default table
   * @param format the {@code tusk.format} header, or null for the repo's format
   * @param member the record key, or null (the producer then spreads such rows over partitions)
   */
  public void send(String table, String format, String member, byte[] value) {
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(
            topic, member == null ? null : member.getBytes(StandardCharsets.UTF_8), value);
    if (table != null) {
      record.headers().add(new RecordHeader(Headers.TABLE, Headers.bytes(table)));
    }
    if (format != null) {
      record.headers().add(new RecordHeader(Headers.FORMAT, Headers.bytes(format)));
    }
    producer.send(
        record,
        (metadata, error) -> {
          if (error == null) {
            acknowledged.incrementAndGet();
          } else {
            failure.compareAndSet(null, error);
          }
        });
    rows++;
  }

  /**
   * Waits until every row sent so far is acknowledged.
   *
   * @throws IllegalStateException if any row could not be produced (naming the ACL the CLI's
   *     principal lacks, when Kafka denied it)
   */
  public void flush() {
    producer.flush();
    Exception error = failure.get();
    if (error != null) {
      throw new IllegalStateException(
          AccessDenied.explain(ServiceAcls.Principal.CLI.serviceName(), error)
              .orElse("could not produce rows to " + topic + ": " + error.getMessage()),
          error);
    }
  }

  /** Rows sent so far. */
  public long rows() {
    return rows;
  }

  /** Rows the broker acknowledged so far. */
  public long acknowledged() {
    return acknowledged.get();
  }

  /** The topic rows go to. */
  public String topic() {
    return topic;
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(30));
  }
}
