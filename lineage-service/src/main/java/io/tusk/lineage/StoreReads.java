package io.tusk.lineage;

import java.util.ArrayList;
import java.util.List;
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
}
