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

    MemoryWatch.ServiceMemory reading = MemoryWatch.ServiceMemory.parse(exposition);

    assertEquals(71_916_576L, reading.cacheUsage());
    assertEquals(536_870_912L, reading.cacheCapacity());
    assertEquals(3L << 20, reading.memtables(), "two stores' memtables; NaN and others not");
    assertEquals(3, reading.stores(), "every store reporting, the empty one too");
  }

  @Test
  void readsTheHeapOfG1sPoolsAndTheCollectorsPauses() {
    String exposition =
        """
        jvm_memory_used_bytes{area="heap",id="G1 Eden Space",service="partition-service"} 1.048576E8
        jvm_memory_used_bytes{area="heap",id="G1 Old Gen",service="partition-service"} 3.145728E8
        jvm_memory_used_bytes{area="nonheap",id="Metaspace",service="partition-service"} 9.9E7
        jvm_memory_max_bytes{area="heap",id="G1 Eden Space",service="partition-service"} -1.0
        jvm_memory_max_bytes{area="heap",id="G1 Old Gen",service="partition-service"} 2.147483648E9
        jvm_memory_max_bytes{area="nonheap",id="Metaspace",service="partition-service"} -1.0
        jvm_gc_live_data_size_bytes{service="partition-service"} 2.097152E8
        jvm_gc_pause_seconds_sum{action="end of minor GC",gc="G1 Young Generation"} 1.5
        jvm_gc_pause_seconds_sum{action="end of major GC",gc="G1 Old Generation"} 0.25
        jvm_gc_pause_seconds_max{action="end of minor GC",gc="G1 Young Generation"} 0.1
        """;

    MemoryWatch.ServiceMemory reading = MemoryWatch.ServiceMemory.parse(exposition);

    assertEquals(400L << 20, reading.heapUsed(), "eden and old generation; not the metaspace");
    assertEquals(2L << 30, reading.heapMax(), "the old generation's bound; -1 is undefined");
    assertEquals(200L << 20, reading.liveData());
    assertEquals(1.75, reading.gcPauseSeconds(), 1e-9, "every collector's pauses; not the max");
  }

  @Test
  void keepsTheLargestOfEachFigure() {
    MemoryWatch.ServiceMemory peak =
        new MemoryWatch.ServiceMemory(9, 20, 4, 1.0, 5, 10, 1, 3)
            .max(new MemoryWatch.ServiceMemory(8, 20, 6, 2.0, 3, 10, 7, 2));

    assertEquals(new MemoryWatch.ServiceMemory(9, 20, 6, 2.0, 5, 10, 7, 3), peak);
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
      assertTrue(watch.report("a test").get(0).contains("this JVM (a test): peak heap after"));
      assertTrue(watch.report("a test").get(1).contains("no reading of its /metrics"));
    }
  }
}
