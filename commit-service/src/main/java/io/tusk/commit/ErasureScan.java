package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * The verification scan of an erasure: every record of the given topics, every partition, from its
 * log start to its end, aborted transactions' records included, is searched for the member key as a
 * whole token (not inside a longer run of letters, digits, {@code -} or {@code _}) in its key,
 * value and headers. Only counts and places come out, never content. A key that is a short number
 * also matches unrelated numbers: such a scan reports places to examine rather than proof. Blocks
 * for as long as the topics take to read.
 */
final class ErasureScan {
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final KafkaSettings kafka;

  ErasureScan(KafkaSettings kafka) {
    this.kafka = kafka;
  }

  /** What a scan found: records read, records holding the member, and where (topic/partition). */
  record Result(long scanned, long found, List<String> places) {}

  Result scan(Collection<String> topics, String member) {
    byte[] token = member.getBytes(StandardCharsets.UTF_8);
    Map<String, Object> props =
        new HashMap<>(kafka.consumer("tusk-erasure-scan-" + UUID.randomUUID(), null));
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    long scanned = 0;
    long found = 0;
    Set<String> places = new TreeSet<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        for (PartitionInfo info : consumer.partitionsFor(topic, TIMEOUT)) {
          partitions.add(new TopicPartition(topic, info.partition()));
        }
      }
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
      List<TopicPartition> reading = new ArrayList<>();
      for (TopicPartition partition : partitions) {
        if (end.get(partition) > 0) {
          reading.add(partition);
        }
      }
      consumer.assign(reading);
      consumer.seekToBeginning(reading);
      while (!reading.isEmpty()) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          TopicPartition partition = new TopicPartition(record.topic(), record.partition());
          if (record.offset() >= end.get(partition)) {
            continue;
          }
          scanned++;
          if (holds(record, token)) {
            found++;
            places.add(record.topic() + "/" + record.partition());
          }
        }
        List<TopicPartition> done = new ArrayList<>();
        for (TopicPartition partition : reading) {
          if (consumer.position(partition) >= end.get(partition)) {
            done.add(partition);
          }
        }
        reading.removeAll(done);
        consumer.pause(done);
      }
    }
    return new Result(scanned, found, List.copyOf(places));
  }

  private static boolean holds(ConsumerRecord<byte[], byte[]> record, byte[] token) {
    if (containsToken(record.key(), token) || containsToken(record.value(), token)) {
      return true;
    }
    for (Header header : record.headers()) {
      if (containsToken(header.value(), token)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code bytes} hold {@code token} not inside a longer word. */
  static boolean containsToken(byte[] bytes, byte[] token) {
    if (bytes == null || token.length == 0) {
      return false;
    }
    outer:
    for (int i = 0; i + token.length <= bytes.length; i++) {
      for (int j = 0; j < token.length; j++) {
        if (bytes[i + j] != token[j]) {
          continue outer;
        }
      }
      boolean startsWord = i == 0 || !isWordByte(bytes[i - 1]);
      boolean endsWord = i + token.length == bytes.length || !isWordByte(bytes[i + token.length]);
      if (startsWord && endsWord) {
        return true;
      }
    }
    return false;
  }

  private static boolean isWordByte(byte b) {
    return (b >= '0' && b <= '9')
        || (b >= 'a' && b <= 'z')
        || (b >= 'A' && b <= 'Z')
        || b == '-'
        || b == '_';
  }
}
