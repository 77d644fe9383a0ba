package io.tusk.lineage;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads single records by position with a small pool of unassigned consumers (a consumer is not
 * thread-safe; each read borrows one). Reads committed data only, like every Tusk reader.
 */
final class KafkaRowReader implements RowReader, AutoCloseable {
  private static final int CONSUMERS = 2;
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

  private final BlockingQueue<KafkaConsumer<byte[], byte[]>> pool =
      new ArrayBlockingQueue<>(CONSUMERS);

  KafkaRowReader(KafkaSettings settings) {
    for (int i = 0; i < CONSUMERS; i++) {
      pool.add(
          new KafkaConsumer<>(
              settings.consumer("tusk-lineage-rows-" + settings.instanceId() + "-" + i, null)));
    }
  }

  @Override
  public StoredRow read(String topic, int partition, long offset) {
    KafkaConsumer<byte[], byte[]> consumer = borrow();
    try {
      TopicPartition tp = new TopicPartition(topic, partition);
      consumer.assign(List.of(tp));
      if (consumer.beginningOffsets(List.of(tp)).getOrDefault(tp, 0L) > offset) {
        return StoredRow.expiredRow(); // below the log start: retention deleted it
      }
      consumer.seek(tp, offset);
      long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          // The first record at or after the offset: a later one means the row is gone.
          return record.offset() == offset
              ? new StoredRow(record.value(), Headers.text(record.headers(), Headers.TABLE))
              : null;
        }
        if (consumer.position(tp) > offset
            || consumer.endOffsets(List.of(tp)).getOrDefault(tp, 0L) <= offset) {
          return null;
        }
      }
      throw new KafkaException("reading " + topic + "/" + partition + "/" + offset + " timed out");
    } finally {
      consumer.unsubscribe();
      pool.add(consumer);
    }
  }

  private KafkaConsumer<byte[], byte[]> borrow() {
    try {
      KafkaConsumer<byte[], byte[]> consumer =
          pool.poll(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (consumer == null) {
        throw new KafkaException("every row reader is busy");
      }
      return consumer;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted waiting for a row reader", e);
    }
  }

  @Override
  public void close() {
    pool.forEach(KafkaConsumer::close);
  }
}
