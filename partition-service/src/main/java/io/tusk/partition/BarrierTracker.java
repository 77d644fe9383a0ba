package io.tusk.partition;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Which source partitions need a new barrier: those whose consumer position differs from the last
 * barrier this rekeyer thread committed for them, and those assigned since (their entry is
 * forgotten on every rebalance, so a new owner always announces its position).
 */
final class BarrierTracker {
  private final Map<TopicPartition, Long> sent = new HashMap<>();

  /** The positions among {@code positions} that need a barrier. */
  Map<TopicPartition, Long> changed(Map<TopicPartition, Long> positions) {
    Map<TopicPartition, Long> changed = new HashMap<>();
    positions.forEach(
        (partition, position) -> {
          if (!position.equals(sent.get(partition))) {
            changed.put(partition, position);
          }
        });
    return changed;
  }

  /** Records barriers as sent, once their transaction committed. */
  void sent(Map<TopicPartition, Long> barriers) {
    sent.putAll(barriers);
  }

  /** Forgets partitions that were assigned, revoked or lost. */
  void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(sent::remove);
  }
}
