package io.tusk.common.kafka;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds every record of a compacted topic, from its beginning and in offset order per partition, to
 * one listener on the feed's own thread, for as long as it runs. It keeps no copy of the values:
 * the listener decides what to keep ({@link CompactedTopicView} keeps the latest value per key; the
 * commit service's indexes hold their records compactly), and since the listener is there before
 * the first record is read, no snapshot is ever replayed over newer records.
 */
public final class TopicFeed<V> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TopicFeed.class);

  private final Topic<String, V> topic;
  private final BiConsumer<String, V> listener;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private final Queue<CompletableFuture<Void>> syncs = new ConcurrentLinkedQueue<>();
  private volatile boolean running = true;
  private volatile RuntimeException failure;

  private TopicFeed(
      KafkaSettings settings, Topic<String, V> topic, String name, BiConsumer<String, V> listener) {
    this.topic = topic;
    this.listener = listener;
    String clientId = "tusk-" + name + "-" + topic.name() + "-" + settings.instanceId();
    this.consumer = new KafkaConsumer<>(settings.consumer(clientId, null));
    this.thread = new Thread(this::run, clientId);
    this.thread.setDaemon(true);
  }

  /**
   * Starts feeding {@code listener} (null value: a tombstone) and returns once it has been given
   * every record the topic held when this was called.
   *
   * @throws KafkaException if the feed cannot catch up within {@code timeout}
   */
  public static <V> TopicFeed<V> start(
      KafkaSettings settings,
      Topic<String, V> topic,
      Duration timeout,
      BiConsumer<String, V> listener) {
    return start(settings, topic, "feed", timeout, listener);
  }

  /**
   * As {@link #start(KafkaSettings, Topic, Duration, BiConsumer)}, with {@code name} in the
   * consumer's client ID ({@code tusk-<name>-<topic>-<instance>}).
   */
  static <V> TopicFeed<V> start(
      KafkaSettings settings,
      Topic<String, V> topic,
      String name,
      Duration timeout,
      BiConsumer<String, V> listener) {
    TopicFeed<V> feed =
        new TopicFeed<>(
            Objects.requireNonNull(settings, "settings"),
            Objects.requireNonNull(topic, "topic"),
            name,
            Objects.requireNonNull(listener, "listener"));
    feed.thread.start();
    try {
      if (!feed.caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        feed.close();
        throw new KafkaException("feed of " + topic.name() + " did not catch up within " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      feed.close();
      throw new KafkaException("interrupted starting the feed of " + topic.name(), e);
    }
    if (feed.failure != null) {
      throw feed.failure;
    }
    return feed;
  }

  /** True while the feed is reading. */
  public boolean isHealthy() {
    return thread.isAlive() && failure == null;
  }

  private void run() {
    try {
      List<TopicPartition> partitions =
          Consumers.assignFromBeginning(consumer, topic.name(), Duration.ofSeconds(60));
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long records = 0;
      List<CompletableFuture<Void>> syncing = new ArrayList<>();
      Map<TopicPartition, Long> syncEnd = null;
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          feed(record);
          records++;
        }
        if (caughtUp.getCount() > 0 && reached(end)) {
          log.debug("Feed of {} caught up after {} records", topic.name(), records);
          caughtUp.countDown();
        }
        if (syncEnd == null && !syncs.isEmpty()) {
          for (CompletableFuture<Void> sync = syncs.poll(); sync != null; sync = syncs.poll()) {
            syncing.add(sync);
          }
          syncEnd = consumer.endOffsets(partitions);
        }
        if (syncEnd != null && reached(syncEnd)) {
          syncing.forEach(sync -> sync.complete(null));
          syncing.clear();
          syncEnd = null;
        }
      }
    } catch (WakeupException e) {
      if (running) {
        failure = new KafkaException("feed of " + topic.name() + " woken up unexpectedly", e);
      }
    } catch (RuntimeException e) {
      failure = e;
      log.error("Feed of {} stopped", topic.name(), e);
    } finally {
      consumer.close();
      caughtUp.countDown();
    }
  }

  private boolean reached(Map<TopicPartition, Long> end) {
    return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  /**
   * Completes once the listener has been given every record the topic held when this was called
   * (within about one poll of the records' arrival), so a caller can act on what was written before
   * it asked.
   */
  public CompletableFuture<Void> sync() {
    CompletableFuture<Void> sync = new CompletableFuture<>();
    syncs.add(sync);
    return sync;
  }

  /**
   * Waits until the listener has been given every record the topic held when this was called.
   *
   * @return false if that took longer than {@code timeout}
   */
  public boolean sync(Duration timeout) {
    try {
      sync().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void feed(ConsumerRecord<byte[], byte[]> record) {
    String key;
    V value;
    try {
      key = topic.readKey(record.key());
      value = record.value() == null ? null : topic.readValue(record.value());
    } catch (SerializationException e) {
      // One undecodable record must not stop the feed; its position is logged, never its bytes.
      log.error(
          "Skipping undecodable record of {} at partition {} offset {}: {}",
          topic.name(),
          record.partition(),
          record.offset(),
          e.getMessage());
      return;
    }
    if (key == null) {
      return;
    }
    try {
      listener.accept(key, value);
    } catch (RuntimeException e) {
      log.error("Listener of the feed of {} failed on key {}", topic.name(), key, e);
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
