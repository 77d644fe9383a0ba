package io.tusk.testfixtures;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads what is on a topic now, for tests that check what a service wrote. The consumer comes
 * assigned (e.g. with {@code Consumers.assignFromBeginning}); the reader takes the end offsets of
 * its assignment when called and polls until every partition's position reached them. For a
 * read_committed consumer the end offsets are the last stable offsets: every transaction committed
 * before the call is read, and aborted records never show up.
 */
public final class TopicReader {

  /** How long one poll may block: short, so the deadline is checked often. */
  private static final Duration POLL = Duration.ofMillis(200);

  private TopicReader() {}

  /**
   * Every record from {@code consumer}'s positions to the end offsets of its assignment.
   *
   * @throws AssertionError if the end is not reached within {@code deadline}
   */
  public static <K, V> List<ConsumerRecord<K, V>> readToEnd(
      Consumer<K, V> consumer, Duration deadline) {
    Objects.requireNonNull(consumer, "consumer");
    Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    Await.until(
        "reading " + end.keySet() + " to its end",
        deadline,
        Await.NO_PAUSE,
        () -> {
          if (atEnd(consumer, end)) {
            return true;
          }
          consumer.poll(POLL).forEach(records::add);
          return false;
        });
    return records;
  }

  /** True when every partition's position reached its offset in {@code end}. */
  public static boolean atEnd(Consumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }
}
