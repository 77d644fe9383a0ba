package io.tusk.cli;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Produces rows to a repo's {@code <repo>.updates} topic the way any producer would: the row as the
 * value (a CSV line or JSON object), the member key as the record key (so a member's rows stay in
 * one partition, a producer's choice, not Tusk's requirement) and the table in the {@code
 * tusk.table} header.
 */
public final class RowLoader implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final java.util.concurrent.atomic.AtomicReference<Exception> failure =
      new java.util.concurrent.atomic.AtomicReference<>();
  private long rows;

  public RowLoader(KafkaSettings settings, String repo) {
    Objects.requireNonNull(repo, "repo");
    this.topic = TopicNames.updates(repo);
    this.producer = new KafkaProducer<>(settings.producer("tusk-loader-" + repo, null));
  }

  /** Sends one row (asynchronously; {@link #flush} waits). */
  public void send(String table, String member, String line) {
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(
            topic,
            member == null ? null : member.getBytes(StandardCharsets.UTF_8),
            line.getBytes(StandardCharsets.UTF_8));
    if (table != null) {
      record.headers().add(new RecordHeader(Headers.TABLE, Headers.bytes(table)));
    }
    producer.send(
        record,
        (metadata, error) -> {
          if (error != null) {
            failure.compareAndSet(null, error);
          }
        });
    rows++;
  }

  /**
   * Waits until every row sent so far is acknowledged.
   *
   * @throws IllegalStateException if any row could not be produced
   */
  public void flush() {
    producer.flush();
    Exception error = failure.get();
    if (error != null) {
      throw new IllegalStateException(
          "could not produce rows to " + topic + ": " + error.getMessage(), error);
    }
  }

  /** Rows sent so far. */
  public long rows() {
    return rows;
  }

  @Override
  public void close() {
    producer.close();
  }
}
