package io.tusk.lineage;

import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * Reads the index stores wherever the entries live. Every query of the HTTP API reads through these
 * two methods, so this is the seam for scaling out: the routing key of the key or prefix ({@link
 * StoreKeys#routing}) decides the partition, and the implementation reads it from this instance's
 * store or from the instance that owns it ({@link StreamsStoreLocator}).
 */
public interface StoreLocator {

  /**
   * The value of {@code key} in the store named {@code storeName}, or null.
   *
   * @throws InvalidStateStoreException if the store cannot be queried now (starting, rebalancing,
   *     its owner unreachable); callers answer 503 and the client retries
   */
  <V> V get(String storeName, String key);

  /**
   * Up to {@code limit} entries whose keys start with {@code prefix} (which ends with a {@link
   * StoreKeys#SEPARATOR}), in key order, after the key {@code after} (exclusive; null: from the
   * first).
   *
   * @throws InvalidStateStoreException as {@link #get}
   */
  <V> List<KeyValue<String, V>> range(String storeName, String prefix, String after, int limit);

  /**
   * Up to {@code limit} entries of the whole store whose keys start with the plain text {@code
   * prefix}, in key order, from every partition wherever it lives: for keys without a routing part
   * (a job ID prefix, {@link IndexReads#jobId}), which any partition may hold. Exact while fewer
   * than {@link IndexReads#MAX_LIMIT} keys of one instance start with the prefix.
   *
   * @throws InvalidStateStoreException as {@link #get}, also when any instance cannot answer
   */
  <V> List<KeyValue<String, V>> scan(String storeName, String prefix, int limit);
}
