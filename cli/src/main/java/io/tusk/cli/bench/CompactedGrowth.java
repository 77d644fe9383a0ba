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
 * keeps nothing). Sizes are the records' serialized keys and values, uncompressed.
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
   * Per topic of {@code topics}, the bytes the records written from {@code before} on add once
   * compacted (negative when they replaced larger ones).
   */
  static Map<String, Long> since(
      KafkaSettings settings, Map<TopicPartition, Long> before, Set<String> topics) {
    Map<String, Object> props = new HashMap<>(settings.consumer("bench-compacted-growth", null));
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, Long> growth = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      for (String topic : topics) {
        List<TopicPartition> partitions =
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        Map<TopicPartition, Map<ByteBuffer, Integer>> sizes = new HashMap<>();
        long added = 0;
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
            if (record.key() == null) {
              continue;
            }
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            Map<ByteBuffer, Integer> latest =
                sizes.computeIfAbsent(partition, p -> new HashMap<>());
            int size =
                record.value() == null
                    ? 0
                    : record.serializedKeySize() + record.serializedValueSize();
            Integer replaced = latest.put(ByteBuffer.wrap(record.key()), size);
            if (record.offset() >= before.getOrDefault(partition, 0L)) {
              added += size - (replaced == null ? 0 : replaced);
            }
          }
        }
        growth.put(topic, added);
      }
    }
    return growth;
  }
}
