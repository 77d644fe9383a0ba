package io.tusk.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/** Consumer set-up that readers of a whole topic (views, tests, benchmarks) share. */
public final class Consumers {
  private Consumers() {}

  /**
   * Assigns {@code consumer} every partition of {@code topic} at its beginning and returns them. A
   * topic created a moment ago may not be in the client's metadata yet ({@code partitionsFor} then
   * answers an empty list, and a consumer assigned nothing throws on poll), so this asks again
   * until {@code timeout} has passed.
   *
   * @throws KafkaException naming the topic when it has no partitions within {@code timeout}
   */
  public static List<TopicPartition> assignFromBeginning(
      Consumer<?, ?> consumer, String topic, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<TopicPartition> partitions = List.of();
    while (partitions.isEmpty()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new KafkaException("topic " + topic + " does not exist");
      }
      partitions =
          consumer.partitionsFor(topic, Duration.ofNanos(left)).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return partitions;
  }

  /**
   * Every record from {@code consumer}'s positions to the end offsets its assignment has now. For a
   * read_committed consumer those are the last stable offsets: every transaction committed before
   * the call is read, and aborted records never show up.
   *
   * @throws KafkaException if the end is not reached within {@code timeout}
   */
  public static <K, V> List<ConsumerRecord<K, V>> readToEnd(
      Consumer<K, V> consumer, Duration timeout) {
    Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
      if (System.nanoTime() > deadline) {
        throw new KafkaException("reading " + end.keySet() + " to its end took over " + timeout);
      }
      consumer.poll(Duration.ofMillis(200)).forEach(records::add);
    }
    return records;
  }

  /**
   * Fails now, on the calling thread, if Kafka would deny {@code consumer} (one with a group) its
   * group or {@code topic}: asks for the topic's partitions (DESCRIBE on the topic) and the group's
   * committed offsets of them (DESCRIBE on the group, which READ implies). Otherwise a missing ACL
   * shows only on a poll, on the consumer's own thread, after its service reported it started.
   *
   * @throws org.apache.kafka.common.errors.AuthorizationException if Kafka denies either
   */
  public static void checkGroupAccess(Consumer<?, ?> consumer, String topic, Duration timeout) {
    Set<TopicPartition> partitions =
        consumer.partitionsFor(topic, timeout).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .collect(Collectors.toSet());
    if (!partitions.isEmpty()) {
      consumer.committed(partitions, timeout);
    }
  }
}
