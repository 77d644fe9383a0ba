package io.tusk.common.config;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How a Kafka Streams service fails over between its instances: standby replicas (warm copies of
 * each task's stores on other instances, kept current from the changelogs, so a lost instance's
 * tasks resume without restoring their stores first) and static membership (an instance that
 * restarts within the session timeout gets its own tasks back without a rebalance).
 *
 * @param standbyReplicas standby copies of each task
 * @param staticMembership whether instances join as static members named by their instance ID
 */
public record StreamsScaling(int standbyReplicas, boolean staticMembership) {

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

  /** The keys, for a service's {@code KEYS}. */
  public static final List<ConfigKey> KEYS = List.of(STANDBY_REPLICAS, STATIC_MEMBERSHIP);

  /** Reads the settings. */
  public static StreamsScaling from(Config config) {
    return new StreamsScaling(config.integer(STANDBY_REPLICAS, 0), config.flag(STATIC_MEMBERSHIP));
  }

  /**
   * Puts the settings into Kafka Streams properties. A static member's {@code group.instance.id} is
   * its instance ID; Kafka Streams adds each stream thread's index to it.
   */
  public void apply(Map<Object, Object> streamsProperties, String instanceId) {
    streamsProperties.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
    if (staticMembership) {
      // The main consumer only: restore consumers join no group.
      streamsProperties.put(
          StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId);
    }
  }
}
