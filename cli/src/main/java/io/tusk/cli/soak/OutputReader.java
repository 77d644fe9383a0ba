package io.tusk.cli.soak;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a pipeline's output topic as a user would (read committed, from the beginning), keeping the
 * newest record per member (a tombstone: no output) and every record by position, so the upstream
 * rows a second-stage output names can be looked up.
 */
final class OutputReader implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Topic<String, Output> topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<TopicPartition> partitions;
  private final SortedMap<String, Output> latest = new TreeMap<>();
  private final Map<String, Output> byPosition = new HashMap<>();

  OutputReader(KafkaSettings settings, Topics topics, String pipeline) {
    this.topic = topics.output(pipeline);
    this.consumer = new KafkaConsumer<>(settings.consumer("soak-output-reader", null));
    this.partitions = Consumers.assignFromBeginning(consumer, topic.name(), TIMEOUT);
  }

  String topicName() {
    return topic.name();
  }

  /** Reads up to the last stable offset of every partition. */
  void catchUp() {
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("cannot read " + topic.name() + " to its end");
      }
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
        String member = new String(record.key(), StandardCharsets.UTF_8);
        Output output = record.value() == null ? null : topic.readValue(record.value());
        latest.put(member, output);
        if (output != null) {
          byPosition.put(record.partition() + "/" + record.offset(), output);
        }
      }
    }
  }

  /** Member to the data of its current output (members without one are absent). */
  SortedMap<String, String> currentData() {
    SortedMap<String, String> data = new TreeMap<>();
    latest.forEach(
        (member, output) -> {
          if (output != null) {
            data.put(
                member, StandardCharsets.UTF_8.decode(output.getData().duplicate()).toString());
          }
        });
    return data;
  }

  /** The current output of a member, or null. */
  Output current(String member) {
    return latest.get(member);
  }

  /** The output record at a position of the topic, or null (none, or a tombstone). */
  Output at(int partition, long offset) {
    return byPosition.get(partition + "/" + offset);
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
