package io.tusk.cli.bench;

import io.tusk.common.config.KafkaSettings;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What compacted topics keep of a commit once the brokers have compacted them, which they do on
 * their own schedule: read from the topics themselves, each record the commit wrote counts its
 * key's and value's bytes less those of the earlier record of the same key it replaces (a tombstone
 * keeps nothing). Sizes are the records' serialized keys and values, uncompressed; {@link
 * Tally#compressed} scales them by what the brokers stored of the commit's records.
 */
final class CompactedGrowth {
  private CompactedGrowth() {}

  /** The end offset of every partition of {@code topics} now (before the commit). */
  static Map<TopicPartition, Long> endOffsets(Admin admin, Collection<String> topics)
      throws Exception {
    Map<String, TopicDescription> descriptions =
        admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    descriptions.forEach(
        (topic, description) ->
            description
                .partitions()
                .forEach(
                    p ->
                        latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
    return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  /**
   * Per topic of {@code topics}, what the records written from {@code before} on add once compacted
   * (negative when they replaced larger ones).
   */
  static Map<String, Tally> since(
      KafkaSettings settings, Map<TopicPartition, Long> before, Set<String> topics) {
    Map<String, Object> props = new HashMap<>(settings.consumer("bench-compacted-growth", null));
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, Tally> growth = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      for (String topic : topics) {
        List<TopicPartition> partitions =
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        Tally tally = new Tally();
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            tally.add(
                record.partition(),
                record.key(),
                record.value() == null
                    ? 0
                    : record.serializedKeySize() + record.serializedValueSize(),
                record.offset() >= before.getOrDefault(partition, 0L));
          }
        }
        growth.put(topic, tally);
      }
    }
    return growth;
  }

  /** The records of one topic in offset order per partition, and what the written ones add. */
  static final class Tally {
    private final Map<Integer, Map<ByteBuffer, Integer>> latest = new HashMap<>();
    private long added;
    private long written;

    /**
     * One record: its key, its size (0 for a tombstone) and whether the commit wrote it (else it
     * was there before). A record without a key is not compacted by key: it is left out.
     */
    void add(int partition, byte[] key, int size, boolean written) {
      if (key == null) {
        return;
      }
      Integer replaced =
          latest.computeIfAbsent(partition, p -> new HashMap<>()).put(ByteBuffer.wrap(key), size);
      if (written) {
        added += size - (replaced == null ? 0 : replaced);
        this.written += size;
      }
    }

    /** What the written records add once compacted, in uncompressed record bytes. */
    long added() {
      return added;
    }

    /**
     * {@link #added} as the brokers would store it: scaled by {@code storedBytes} (what the brokers
     * stored of the written records, compressed) over the written records' uncompressed bytes.
     */
    long compressed(long storedBytes) {
      return written == 0 ? 0 : Math.round((double) added * storedBytes / written);
    }
  }
}
