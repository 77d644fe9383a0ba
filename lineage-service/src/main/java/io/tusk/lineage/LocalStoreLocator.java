package io.tusk.lineage;

import java.util.Objects;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Answers every key from this instance's own stores (all of its active tasks): correct while one
 * instance runs. See {@link StoreLocator} for what changes when the service scales out.
 */
final class LocalStoreLocator implements StoreLocator {
  private final KafkaStreams streams;

  LocalStoreLocator(KafkaStreams streams) {
    this.streams = Objects.requireNonNull(streams, "streams");
  }

  @Override
  public <V> ReadOnlyKeyValueStore<String, V> store(String storeName, String key) {
    // Throws InvalidStateStoreException (StreamsNotStartedException among them) while the store is
    // not queryable; the API turns that into 503 with Retry-After.
    return streams.store(
        StoreQueryParameters.fromNameAndType(
            storeName, QueryableStoreTypes.<String, V>keyValueStore()));
  }
}
