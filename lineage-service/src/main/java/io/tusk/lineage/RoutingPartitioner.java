package io.tusk.lineage;

import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Partitions index records by the routing key of their store key ({@link StoreKeys#routing}),
 * exactly as Kafka's default partitioner partitions a record whose key is that routing key. So the
 * entries of one routing key share a partition, and {@code KafkaStreams#queryMetadataForKey} with
 * this partitioner (or the default one, given the routing key) finds their owner.
 */
final class RoutingPartitioner<V> implements StreamPartitioner<String, V> {
  private static final Serializer<String> KEYS = new StringSerializer();

  @Override
  public Optional<Set<Integer>> partitions(String topic, String key, V value, int numPartitions) {
    return Optional.of(Set.of(partition(key, numPartitions)));
  }

  /** The partition of {@code key}'s routing key among {@code numPartitions}. */
  static int partition(String key, int numPartitions) {
    byte[] bytes = KEYS.serialize(null, StoreKeys.routing(key));
    return Utils.toPositive(Utils.murmur2(bytes)) % numPartitions;
  }
}
