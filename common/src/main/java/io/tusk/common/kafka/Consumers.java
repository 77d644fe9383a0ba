package io.tusk.common.kafka;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
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
}
