package io.tusk.lineage;

import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/** A {@link StoreLocator} over a {@code TopologyTestDriver}'s stores, for API tests. */
final class DriverStores implements StoreLocator {
  private final TopologyTestDriver driver;
  private final BooleanSupplier queryable;

  /**
   * @param queryable false makes every read fail as while rebalancing
   */
  DriverStores(TopologyTestDriver driver, BooleanSupplier queryable) {
    this.driver = driver;
    this.queryable = queryable;
  }

  @Override
  public <V> V get(String storeName, String key) {
    check(storeName);
    return driver.<String, V>getKeyValueStore(storeName).get(key);
  }

  @Override
  public <V> List<KeyValue<String, V>> range(
      String storeName, String prefix, String after, int limit) {
    check(storeName);
    return StoreReads.range(driver.<String, V>getKeyValueStore(storeName), prefix, after, limit);
  }

  @Override
  public <V> List<KeyValue<String, V>> scan(String storeName, String prefix, int limit) {
    check(storeName);
    return StoreReads.scan(
        driver.<String, V>getKeyValueStore(storeName), prefix, limit, IndexReads.MAX_LIMIT);
  }

  private void check(String storeName) {
    if (!queryable.getAsBoolean()) {
      throw new InvalidStateStoreException("store " + storeName + " is rebalancing");
    }
  }
}
