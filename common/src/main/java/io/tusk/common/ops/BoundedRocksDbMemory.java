package io.tusk.common.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;

/**
 * One bound for the block caches of every RocksDB store of a process. By default Kafka Streams
 * gives each store instance its own block cache (50 MiB), so a service's off-heap memory grows with
 * its stores times its partitions (gigabytes for the partition service on a few dozen partitions),
 * unseen by the JVM's heap limit. Here all stores share one LRU cache of the configured size, and
 * their index and filter blocks live in it too (pinned at high priority). {@link #report} publishes
 * the cache's use and capacity as metrics.
 *
 * <p>Memtables are not charged to the bound: each store keeps Kafka Streams' own (up to three of 16
 * MiB while it is written). Charging them through a write-buffer manager, as Kafka's bounded-memory
 * example does, made every store flush tiny memtables once a hundred stores shared the budget: the
 * partition stage ran at 0.12x instead of 0.19x bare Streams and a transaction timed out (README,
 * "Issue 14").
 *
 * <p>The cache is per process: services sharing a JVM (the in-process local stack) share the first
 * one's bound.
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {
  /** The Streams property (Tusk's own) carrying the bound in bytes to the setter. */
  static final String BYTES_PROPERTY = "tusk.rocksdb.memory.bytes";

  /** Share of the cache kept for index and filter blocks. */
  private static final double HIGH_PRIORITY_RATIO = 0.1;

  private static Cache cache;
  private static long capacity;

  /** Makes every RocksDB store of {@code streamsProperties} share a bound of {@code bytes}. */
  public static void apply(Map<Object, Object> streamsProperties, long bytes) {
    streamsProperties.put(
        StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.class);
    streamsProperties.put(BYTES_PROPERTY, bytes);
  }

  /**
   * Publishes {@code tusk_rocksdb_memory_usage_bytes} (what the shared cache holds: data, index and
   * filter blocks) and {@code tusk_rocksdb_memory_capacity_bytes}; both read 0 until a store
   * opened.
   */
  public static void report(MeterRegistry registry) {
    Gauge.builder("tusk.rocksdb.memory.usage", BoundedRocksDbMemory::usage)
        .baseUnit("bytes")
        .description("Block cache of every RocksDB store of the process (shared, bounded)")
        .register(registry);
    Gauge.builder("tusk.rocksdb.memory.capacity", BoundedRocksDbMemory::capacity)
        .baseUnit("bytes")
        .description("The bound of the RocksDB stores' shared cache (TUSK_ROCKSDB_MEMORY_MB)")
        .register(registry);
  }

  static synchronized double usage() {
    return cache == null ? 0 : cache.getUsage();
  }

  static synchronized double capacity() {
    return capacity;
  }

  /** The process's cache, made on the first store's open with that store's bound. */
  private static synchronized void share(long bytes) {
    if (cache == null) {
      cache = new LRUCache(bytes, -1, false, HIGH_PRIORITY_RATIO);
      capacity = bytes;
    }
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Object bytes = configs.get(BYTES_PROPERTY);
    if (bytes == null) {
      throw new IllegalStateException(BYTES_PROPERTY + " is not set; use apply()");
    }
    share(Long.parseLong(bytes.toString()));
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    synchronized (BoundedRocksDbMemory.class) {
      table.setBlockCache(cache);
    }
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache is shared by every store of the process: never closed.
  }
}
