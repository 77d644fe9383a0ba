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
import java.util.function.BiConsumer;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-memory, always-updating view of a small compacted topic (repos, pipelines, branches): a
 * {@link TopicFeed} that keeps the latest value per key.
 *
 * <p>{@link #start} returns once the view has read everything that was in the topic when it was
 * called, so a service that starts sees every record written before it.
 */
public final class CompactedTopicView<V> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CompactedTopicView.class);

  private final String topicName;
  private final Map<String, V> values = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, V>> listeners = new CopyOnWriteArrayList<>();
  private TopicFeed<V> feed;

  private CompactedTopicView(String topicName) {
    this.topicName = topicName;
  }

  /**
   * Starts a view of {@code topic} and waits until it has caught up.
   *
   * @throws KafkaException if it cannot catch up within {@code timeout}
   */
  public static <V> CompactedTopicView<V> start(
      KafkaSettings settings, Topic<String, V> topic, Duration timeout) {
    Objects.requireNonNull(topic, "topic");
    CompactedTopicView<V> view = new CompactedTopicView<>(topic.name());
    view.feed = TopicFeed.start(settings, topic, "view", timeout, view::apply);
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

  private void apply(String key, V value) {
    if (value == null) {
      values.remove(key);
    } else {
      values.put(key, value);
    }
    for (BiConsumer<String, V> listener : listeners) {
      try {
        listener.accept(key, value);
      } catch (RuntimeException e) {
        log.error("Listener of view {} failed on key {}", topicName, key, e);
      }
    }
  }

  /**
   * Waits until the view has read everything the topic held when this was called.
   *
   * @return false if that took longer than {@code timeout} (the view is as it was)
   */
  public boolean sync(Duration timeout) {
    return feed.sync(timeout);
  }

  /** True while the view is reading. */
  public boolean isHealthy() {
    return feed.isHealthy();
  }

  @Override
  public void close() {
    if (feed != null) {
      feed.close();
    }
  }
}
