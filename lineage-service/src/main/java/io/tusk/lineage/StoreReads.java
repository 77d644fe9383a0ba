package io.tusk.lineage;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/** Reads of one local store, shared by every {@link StoreLocator}. */
final class StoreReads {
  private StoreReads() {}

  /** See {@link StoreLocator#range}; the iterator is always closed. */
  static <V> List<KeyValue<String, V>> range(
      ReadOnlyKeyValueStore<String, V> store, String prefix, String after, int limit) {
    String from = after == null || after.compareTo(prefix) < 0 ? prefix : after;
    List<KeyValue<String, V>> entries = new ArrayList<>(Math.min(limit, 1024));
    try (KeyValueIterator<String, V> iterator = store.range(from, StoreKeys.end(prefix))) {
      while (iterator.hasNext() && entries.size() < limit) {
        KeyValue<String, V> entry = iterator.next();
        if (!entry.key.equals(after) && entry.key.startsWith(prefix)) {
          entries.add(entry);
        }
      }
    }
    return entries;
  }

  /**
   * Up to {@code limit} entries of a (possibly composite) store whose keys start with the plain
   * text {@code prefix}, in key order; the iterator is always closed. A composite store over
   * several partitions iterates them one after the other, so everything matching is read (bounded
   * by {@code bound}) before the order is restored.
   */
  static <V> List<KeyValue<String, V>> scan(
      ReadOnlyKeyValueStore<String, V> store, String prefix, int limit, int bound) {
    List<KeyValue<String, V>> entries = new ArrayList<>();
    try (KeyValueIterator<String, V> iterator = store.prefixScan(prefix, new StringSerializer())) {
      while (iterator.hasNext() && entries.size() < bound) {
        KeyValue<String, V> entry = iterator.next();
        if (entry.key.startsWith(prefix)) {
          entries.add(entry);
        }
      }
    }
    return inKeyOrder(entries, limit);
  }

  /** The first {@code limit} of {@code entries} in key order, each key once. */
  static <V> List<KeyValue<String, V>> inKeyOrder(List<KeyValue<String, V>> entries, int limit) {
    TreeMap<String, KeyValue<String, V>> byKey = new TreeMap<>();
    entries.forEach(entry -> byKey.putIfAbsent(entry.key, entry));
    return byKey.values().stream().limit(limit).toList();
  }
}
