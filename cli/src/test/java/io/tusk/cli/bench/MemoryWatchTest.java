package io.tusk.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryWatchTest {
  @Test
  void readsTheCacheAndSumsEveryStoresMemtables() {
    String exposition =
        """
        # HELP tusk_rocksdb_memory_usage_bytes Block cache of every RocksDB store
        # TYPE tusk_rocksdb_memory_usage_bytes gauge
        tusk_rocksdb_memory_usage_bytes{service="partition-service"} 7.1916576E7
        tusk_rocksdb_memory_capacity_bytes{service="partition-service"} 5.36870912E8
        kafka_stream_state_size_all_mem_tables{rocksdb_state_id="a",task_id="0_0"} 1048576.0
        kafka_stream_state_size_all_mem_tables{rocksdb_state_id="b",task_id="0_1"} 2097152.0
        kafka_stream_state_size_all_mem_tables_other{task_id="0_1"} 999.0
        kafka_stream_state_num_immutable_mem_table{task_id="0_1"} 5.0
        kafka_stream_state_size_all_mem_tables{rocksdb_state_id="c",task_id="0_2"} NaN
        """;

    MemoryWatch.RocksDbMemory reading = MemoryWatch.RocksDbMemory.parse(exposition);

    assertEquals(71_916_576L, reading.cacheUsage());
    assertEquals(536_870_912L, reading.cacheCapacity());
    assertEquals(3L << 20, reading.memtables(), "two stores' memtables; NaN and others not");
  }

  @Test
  void keepsTheLargestOfEachFigure() {
    MemoryWatch.RocksDbMemory peak =
        new MemoryWatch.RocksDbMemory(5, 10, 1).max(new MemoryWatch.RocksDbMemory(3, 10, 7));

    assertEquals(new MemoryWatch.RocksDbMemory(5, 10, 7), peak);
  }

  @Test
  void notesTheHeapAfterCollections() {
    try (MemoryWatch watch = MemoryWatch.start()) {
      byte[][] garbage = new byte[64][];
      for (int i = 0; i < 64; i++) {
        garbage[i] = new byte[1 << 20];
      }
      System.gc();
      assertTrue(garbage.length > 0);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (watch.peakHeapAfterCollection() == 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertTrue(watch.peakHeapAfterCollection() > 0, "a collection was noted");
      assertTrue(watch.report().get(0).contains("peak heap after a collection"));
    }
  }
}
