package io.tusk.cli.bench;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The offsets a benchmark waits on, read with an admin client: a topic's partitions, how many
 * records they hold (the sum of their end offsets) and how far a consumer group has committed.
 */
final class GroupOffsets {
  private GroupOffsets() {}

  /** Every partition of {@code topic}. */
  static Set<TopicPartition> partitions(Admin admin, String topic) throws Exception {
    return admin
        .describeTopics(Set.of(topic))
        .allTopicNames()
        .get()
        .get(topic)
        .partitions()
        .stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .collect(Collectors.toSet());
  }

  /** The sum of the end offsets of {@code partitions}. */
  static long end(Admin admin, Collection<TopicPartition> partitions) throws Exception {
    return admin
        .listOffsets(
            partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
        .all()
        .get()
        .values()
        .stream()
        .mapToLong(info -> info.offset())
        .sum();
  }

  /** The sum of the offsets {@code group} committed on {@code partitions} (0 where none). */
  static long committed(Admin admin, String group, Collection<TopicPartition> partitions)
      throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    return partitions.stream()
        .mapToLong(p -> committed.containsKey(p) ? committed.get(p).offset() : 0)
        .sum();
  }
}
