package io.tusk.common.kafka;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * An in-memory, always-updating view of a small compacted topic (repos, pipelines, commits): a
 * consumer on its own thread reads it from the beginning and keeps the latest value per key.
 *
 * <p>{@link #start} returns once the view has read everything that was in the topic when it was
 * called, so a service that starts sees every record written before it.
 */
public final class CompactedTopicView<V> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CompactedTopicView.class);

  private final Topic<String, V> topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Map<String, V> values = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, V>> listeners = new CopyOnWriteArrayList<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean running = true;
  private volatile RuntimeException failure;

  private CompactedTopicView(KafkaSettings settings, Topic<String, V> topic, String clientId) {
    this.topic = topic;
    this.consumer = new KafkaConsumer<>(settings.consumer(clientId, null));
    this.thread = new Thread(this::run, clientId);
    this.thread.setDaemon(true);
  }

  /**
   * Starts a view of {@code topic} and waits until it has caught up.
   *
   * @throws KafkaException if it cannot catch up within {@code timeout}
   */
  public static <V> CompactedTopicView<V> start(
      KafkaSettings settings, Topic<String, V> topic, Duration timeout) {
    Objects.requireNonNull(topic, "topic");
    String clientId = "tusk-view-" + topic.name() + "-" + settings.instanceId();
    CompactedTopicView<V> view = new CompactedTopicView<>(settings, topic, clientId);
    view.thread.start();
    try {
      if (!view.caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        view.close();
        throw new KafkaException("view of " + topic.name() + " did not catch up within " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      view.close();
      throw new KafkaException("interrupted starting view of " + topic.name(), e);
    }
    if (view.failure != null) {
      throw view.failure;
    }
    return view;
  }

  /** The latest value of {@code key}. */
  public Optional<V> get(String key) {
    return Optional.ofNullable(values.get(key));
  }

  /** A snapshot of all current values. */
  public Map<String, V> snapshot() {
    return Map.copyOf(values);
  }

  /**
   * Records a value this process has just written, so its own reads see it before the consumer
   * does.
   */
  public void put(String key, V value) {
    values.put(key, value);
  }

  /**
   * Forgets a key this process has just deleted (written a tombstone for), so its own reads stop
   * seeing it before the consumer reads the tombstone.
   */
  public void remove(String key) {
    values.remove(key);
  }

  /** Calls {@code listener} (on the view's thread) for every update read after this call. */
  public void addListener(BiConsumer<String, V> listener) {
    listeners.add(listener);
  }

  private void run() {
    try {
      List<TopicPartition> partitions =
          Consumers.assignFromBeginning(consumer, topic.name(), Duration.ofSeconds(60));
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          try {
            apply(record);
          } catch (SerializationException e) {
            // One undecodable record must not stop the view; its position is logged, never its
            // bytes.
            log.error(
                "Skipping undecodable record of {} at partition {} offset {}: {}",
                topic.name(),
                record.partition(),
                record.offset(),
                e.getMessage());
          }
        }
        if (caughtUp.getCount() > 0
            && end.entrySet().stream()
                .allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
          log.debug("View of {} caught up with {} keys", topic.name(), values.size());
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      if (running) {
        failure = new KafkaException("view of " + topic.name() + " woken up unexpectedly", e);
      }
    } catch (RuntimeException e) {
      failure = e;
      log.error("View of {} stopped", topic.name(), e);
    } finally {
      consumer.close();
      caughtUp.countDown();
    }
  }

  private void apply(ConsumerRecord<byte[], byte[]> record) {
    String key = topic.readKey(record.key());
    if (key == null) {
      return;
    }
    V value = record.value() == null ? null : topic.readValue(record.value());
    if (value == null) {
      values.remove(key);
    } else {
      values.put(key, value);
    }
    for (BiConsumer<String, V> listener : listeners) {
      try {
        listener.accept(key, value);
      } catch (RuntimeException e) {
        log.error("Listener of view {} failed on key {}", topic.name(), key, e);
      }
    }
  }

  /** True while the view is reading. */
  public boolean isHealthy() {
    return thread.isAlive() && failure == null;
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
