package io.tusk.common.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tusk.common.config.StreamsScaling;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real RocksDB stores (through {@link TopologyTestDriver}) opened with the bound: the blocks read
 * from them go to the one shared cache, which stays within the bound, and its use is reported. The
 * cache is per JVM, so this is the only test of the module that opens stores with the bound.
 */
class BoundedRocksDbMemoryTest {
  private static final int MIB = 1024 * 1024;

  @Test
  void shouldCacheTheStoresBlocksInOneReportedCacheOfTheConfiguredSize(@TempDir Path dir) {
    // Given two persistent stores under a 32 MiB bound, and the metrics reported
    StreamsBuilder builder = new StreamsBuilder();
    for (String name : new String[] {"a", "b"}) {
      builder.table(
          name,
          Consumed.with(Serdes.String(), Serdes.String()),
          Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(name + "-store"));
    }
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bounded-rocksdb-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    new StreamsScaling(0, false, 32).apply(props, "instance-1");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BoundedRocksDbMemory.report(registry);

    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      // When both stores take 2 MiB of rows each (random, so no compression shrinks them),
      // flushed to their files, and one store's rows, then the other's, are read back
      Random random = new Random(7);
      String[] values = new String[2048];
      for (int i = 0; i < values.length; i++) {
        byte[] bytes = new byte[768];
        random.nextBytes(bytes);
        values[i] = Base64.getEncoder().encodeToString(bytes);
      }
      for (String name : new String[] {"a", "b"}) {
        TestInputTopic<String, String> topic =
            driver.createInputTopic(name, new StringSerializer(), new StringSerializer());
        for (int i = 0; i < values.length; i++) {
          topic.pipeInput("key-" + i, values[i]);
        }
        driver.getKeyValueStore(name + "-store").flush();
      }
      Gauge usage = registry.get("tusk.rocksdb.memory.usage").gauge();
      double[] usageAfter = new double[2];
      String[] stores = {"a", "b"};
      for (int s = 0; s < stores.length; s++) {
        KeyValueStore<String, String> store = driver.getKeyValueStore(stores[s] + "-store");
        for (int i = 0; i < values.length; i++) {
          assertThat(store.get("key-" + i)).isEqualTo(values[i]);
        }
        usageAfter[s] = usage.value();
      }

      // Then the blocks read went to the reported cache, within the bound
      assertThat(usageAfter[0]).isGreaterThan(1.0 * MIB);
      assertThat(usageAfter[1])
          .isGreaterThanOrEqualTo(usageAfter[0])
          .isLessThanOrEqualTo(32.0 * MIB);
      assertThat(registry.get("tusk.rocksdb.memory.capacity").gauge().value())
          .isEqualTo(32.0 * MIB);
    }
  }
}
