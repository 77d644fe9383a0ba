package io.tusk.common.topics;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A topic name with the serdes of its keys and values, so code that reads or writes a topic cannot
 * pick the wrong ones.
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {

  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
  }

  /** Encodes a key for this topic. */
  public byte[] key(K key) {
    return keySerde.serializer().serialize(name, key);
  }

  /** Encodes a value for this topic. */
  public byte[] value(V value) {
    return valueSerde.serializer().serialize(name, value);
  }

  /** Decodes a key read from this topic. */
  public K readKey(byte[] data) {
    return keySerde.deserializer().deserialize(name, data);
  }

  /** Decodes a value read from this topic. */
  public V readValue(byte[] data) {
    return valueSerde.deserializer().deserialize(name, data);
  }

  /** Kafka Streams source settings for this topic. */
  public Consumed<K, V> consumed() {
    return Consumed.with(keySerde, valueSerde);
  }

  /** Kafka Streams sink settings for this topic. */
  public Produced<K, V> produced() {
    return Produced.with(keySerde, valueSerde);
  }
}
