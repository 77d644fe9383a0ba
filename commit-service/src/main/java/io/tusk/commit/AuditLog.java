package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import io.tusk.schemas.AuditEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the audit trail for {@code GET /audit}: the events of {@code tusk.audit} from a time on,
 * oldest first. Each partition is searched by record timestamp (an event's time), read up to {@code
 * limit} events, and the partitions are merged by time. Blocks: run it on a worker thread.
 */
final class AuditLog {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  private final KafkaSettings kafka;
  private final Topic<String, AuditEvent> topic;

  AuditLog(KafkaSettings kafka, Topic<String, AuditEvent> topic) {
    this.kafka = kafka;
    this.topic = topic;
  }

  /** A page of events. {@code more}: events at or after {@code next} were left out. */
  record Page(List<AuditEvent> events, boolean more) {}

  /** At most {@code limit} events with a time at or after {@code sinceMillis}, oldest first. */
  Page read(long sinceMillis, int limit) {
    String client = "tusk-audit-reader-" + UUID.randomUUID();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(kafka.consumer(client, null))) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic.name(), DEADLINE)) {
        partitions.add(new TopicPartition(topic.name(), info.partition()));
      }
      Map<TopicPartition, Long> query = new HashMap<>();
      partitions.forEach(p -> query.put(p, sinceMillis));
      Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(query, DEADLINE);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, DEADLINE);
      Map<TopicPartition, Integer> taken = new HashMap<>();
      List<TopicPartition> reading = new ArrayList<>();
      for (TopicPartition partition : partitions) {
        OffsetAndTimestamp start = starts.get(partition);
        if (start != null && start.offset() < ends.get(partition)) {
          reading.add(partition);
          taken.put(partition, 0);
        }
      }
      consumer.assign(reading);
      for (TopicPartition partition : reading) {
        consumer.seek(partition, starts.get(partition).offset());
      }
      List<AuditEvent> events = new ArrayList<>();
      boolean more = false;
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (!reading.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          TopicPartition partition = new TopicPartition(record.topic(), record.partition());
          if (!reading.contains(partition)) {
            continue;
          }
          if (taken.get(partition) >= limit) {
            more = true;
            continue;
          }
          AuditEvent event = decode(record);
          if (event != null && event.getTime() >= sinceMillis) {
            events.add(event);
            taken.merge(partition, 1, Integer::sum);
          }
        }
        List<TopicPartition> done = new ArrayList<>();
        for (TopicPartition partition : reading) {
          boolean atEnd = consumer.position(partition) >= ends.get(partition);
          if (taken.get(partition) >= limit) {
            more |= consumer.position(partition) < ends.get(partition);
            done.add(partition);
          } else if (atEnd) {
            done.add(partition);
          }
        }
        reading.removeAll(done);
        consumer.pause(done);
      }
      events.sort(Comparator.comparingLong(AuditEvent::getTime));
      if (events.size() > limit) {
        events = new ArrayList<>(events.subList(0, limit));
        more = true;
      }
      return new Page(events, more);
    }
  }

  private AuditEvent decode(ConsumerRecord<byte[], byte[]> record) {
    try {
      return record.value() == null ? null : topic.readValue(record.value());
    } catch (SerializationException e) {
      log.error(
          "Skipping undecodable audit record at partition {} offset {}: {}",
          record.partition(),
          record.offset(),
          e.getMessage());
      return null;
    }
  }
}
