package io.tusk.common.config;

import io.tusk.common.ops.BoundedRocksDbMemory;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How a Kafka Streams service fails over between its instances: standby replicas (warm copies of
 * each task's stores on other instances, kept current from the changelogs, so a lost instance's
 * tasks resume without restoring their stores first) and static membership (an instance that
 * restarts within the session timeout gets its own tasks back without a rebalance), and how much
 * off-heap memory its RocksDB stores may hold together ({@link BoundedRocksDbMemory}).
 *
 * @param standbyReplicas standby copies of each task
 * @param staticMembership whether instances join as static members named by their instance ID
 * @param rocksDbMemoryMb the bound of all RocksDB stores of an instance, in MiB
 */
public record StreamsScaling(int standbyReplicas, boolean staticMembership, int rocksDbMemoryMb) {

  public static final ConfigKey STANDBY_REPLICAS =
      ConfigKey.optional(
          "TUSK_STANDBY_REPLICAS",
          "0",
          "Kafka Streams standby replicas: warm copies of each task's stores on other instances, so"
              + " a lost instance's work and queries move within seconds instead of after restoring"
              + " its stores from Kafka (needs that many more instances)");
  public static final ConfigKey STATIC_MEMBERSHIP =
      ConfigKey.optional(
          "TUSK_STATIC_MEMBERSHIP",
          "false",
          "Join the Kafka Streams group as a static member named by TUSK_INSTANCE_ID (which must"
              + " then be stable and unique, e.g. a StatefulSet pod's name): a restart within the"
              + " group session (45 s) moves no task");

  public static final ConfigKey ROCKSDB_MEMORY_MB =
      ConfigKey.optional(
          "TUSK_ROCKSDB_MEMORY_MB",
          "512",
          "The block cache all RocksDB stores of one instance share (data, index and filter"
              + " blocks), in MiB, at least 16; reported as tusk_rocksdb_memory_usage_bytes."
              + " Memtables come on top: up to 48 MiB per store being written");

  /** Neither standbys nor static membership, and the default RocksDB bound. */
  public static final StreamsScaling DEFAULT =
      new StreamsScaling(0, false, Integer.parseInt(ROCKSDB_MEMORY_MB.defaultValue()));

  /** The keys, for a service's {@code KEYS}. */
  public static final List<ConfigKey> KEYS =
      List.of(STANDBY_REPLICAS, STATIC_MEMBERSHIP, ROCKSDB_MEMORY_MB);

  /** Reads the settings. */
  public static StreamsScaling from(Config config) {
    return new StreamsScaling(
        config.integer(STANDBY_REPLICAS, 0),
        config.flag(STATIC_MEMBERSHIP),
        config.integer(ROCKSDB_MEMORY_MB, 16));
  }

  /**
   * Puts the settings into Kafka Streams properties. A static member's {@code group.instance.id} is
   * its instance ID; Kafka Streams adds each stream thread's index to it.
   */
  public void apply(Map<Object, Object> streamsProperties, String instanceId) {
    streamsProperties.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
    BoundedRocksDbMemory.apply(streamsProperties, rocksDbMemoryMb * 1024L * 1024L);
    if (staticMembership) {
      // The main consumer only: restore consumers join no group.
      streamsProperties.put(
          StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId);
    }
  }
}
