package io.tusk.partition;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/** Test support: what the partition service's integration tests read from Kafka and wait on. */
final class PartitionItSupport {
  /** How long one poll may block while waiting for a record. */
  private static final Duration POLL = Duration.ofMillis(500);

  private PartitionItSupport() {}

  /**
   * A read_committed consumer of its own (no group) assigned every partition of {@code topic} at
   * its beginning; it fetches up to 4 MiB per partition, as rejected originals can be large.
   */
  static KafkaConsumer<byte[], byte[]> assigned(KafkaSettings settings, String topic) {
    Map<String, Object> props = settings.consumer("it-reader-" + UUID.randomUUID(), null);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20);
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props);
    Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
    return consumer;
  }

  /** Every committed record of {@code topic} up to its end. */
  static List<ConsumerRecord<byte[], byte[]>> readToEnd(
      KafkaSettings settings, String topic, Duration deadline) {
    try (KafkaConsumer<byte[], byte[]> consumer = assigned(settings, topic)) {
      return TopicReader.readToEnd(consumer, deadline);
    }
  }

  /** Reads {@code topic} from the start until a value matches, and returns the first that does. */
  static <V> V awaitValue(
      KafkaSettings settings,
      String topic,
      Function<byte[], V> decode,
      Predicate<V> match,
      Duration deadline) {
    List<V> matching = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = assigned(settings, topic)) {
      Await.until(
          "a matching record on " + topic,
          deadline,
          Await.NO_PAUSE,
          () -> {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
              // Tombstones of compacted topics carry nothing to match.
              V value = record.value() == null ? null : decode.apply(record.value());
              if (value != null && match.test(value)) {
                matching.add(value);
              }
            }
            return !matching.isEmpty();
          });
    }
    return matching.get(0);
  }

  /** Reads {@code tusk.commits} until the commit has its stats (it completed), and returns it. */
  static Commit awaitCompleted(
      KafkaSettings settings, Topics topics, String commitId, Duration deadline) {
    return awaitValue(
        settings,
        topics.commits.name(),
        topics.commits::readValue,
        c -> c.getId().equals(commitId) && c.getStats() != null,
        deadline);
  }

  /**
   * Waits until every partition's last stable offset reached its end (no open transaction), so a
   * commit sealed now covers everything written so far.
   */
  static void awaitStable(TopicAdmin admin, String topic, Duration deadline) {
    Map<TopicPartition, OffsetSpec> request = latest(admin, topic);
    Await.until(
        topic + " stable (no open transaction)",
        deadline,
        () -> {
          // The last stable offset is the end offset a read_committed reader sees.
          var stable = offsets(admin, request, IsolationLevel.READ_COMMITTED);
          var end = offsets(admin, request, IsolationLevel.READ_UNCOMMITTED);
          return request.keySet().stream()
              .allMatch(tp -> stable.get(tp).offset() == end.get(tp).offset());
        });
  }

  /**
   * Waits until the rekeyers' committed offsets reached the end (as of this call) of every
   * partition of {@code topic}.
   */
  static void awaitRekeyed(TopicAdmin admin, String topic, Duration deadline) throws Exception {
    Map<TopicPartition, OffsetSpec> request = latest(admin, topic);
    var end = admin.admin().listOffsets(request).all().get();
    Await.until(
        topic + " re-keyed",
        deadline,
        () -> {
          Map<TopicPartition, OffsetAndMetadata> committed =
              admin
                  .admin()
                  .listConsumerGroupOffsets(Rekeyer.GROUP)
                  .partitionsToOffsetAndMetadata()
                  .get();
          return request.keySet().stream()
              .allMatch(
                  tp ->
                      committed.get(tp) != null
                          && committed.get(tp).offset() >= end.get(tp).offset());
        });
  }

  private static Map<TopicPartition, ListOffsetsResultInfo> offsets(
      TopicAdmin admin, Map<TopicPartition, OffsetSpec> request, IsolationLevel isolation)
      throws Exception {
    return admin.admin().listOffsets(request, new ListOffsetsOptions(isolation)).all().get();
  }

  /** A request for the latest offset of every partition of {@code topic}. */
  private static Map<TopicPartition, OffsetSpec> latest(TopicAdmin admin, String topic) {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < admin.partitions(topic); p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    return request;
  }
}
