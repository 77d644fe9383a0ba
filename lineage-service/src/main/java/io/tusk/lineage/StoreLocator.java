package io.tusk.lineage;

import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Finds the index store that holds a key. Every query of the HTTP API reads its stores through this
 * one method, so it is the seam for scaling out.
 *
 * <p>Today the service answers from the stores of its own Kafka Streams instance ({@link
 * LocalStoreLocator}), which holds every partition as long as one instance runs. When several
 * instances share the application ID, a key's partition may belong to another one: the
 * implementation then has to call {@code KafkaStreams#queryMetadataForKey(storeName, key,
 * keySerializer)} (with {@code application.server} set to each instance's HTTP address) and either
 * return the local store or forward the request to the active (or a standby) owner.
 */
public interface StoreLocator {

  /**
   * The store named {@code storeName} that holds {@code key}.
   *
   * @throws InvalidStateStoreException if the store cannot be queried now (starting, rebalancing,
   *     migrated); callers answer 503 and the client retries
   */
  <V> ReadOnlyKeyValueStore<String, V> store(String storeName, String key);
}
