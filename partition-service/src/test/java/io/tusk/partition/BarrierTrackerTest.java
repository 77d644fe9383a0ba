package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BarrierTrackerTest {
  private static final TopicPartition P0 = new TopicPartition("r.updates", 0);
  private static final TopicPartition P1 = new TopicPartition("r.updates", 1);

  @Test
  void shouldAskForBarriersOnlyWhenAPartitionIsNewOrMoved() {
    // Given barriers sent for both partitions
    BarrierTracker tracker = new BarrierTracker();
    assertThat(tracker.changed(Map.of(P0, 0L, P1, 5L))).isEqualTo(Map.of(P0, 0L, P1, 5L));
    tracker.sent(Map.of(P0, 0L, P1, 5L));

    // When only partition 1's position moves
    Map<TopicPartition, Long> changed = tracker.changed(Map.of(P0, 0L, P1, 7L));

    // Then only partition 1 needs a barrier
    assertThat(changed).isEqualTo(Map.of(P1, 7L));
  }

  @Test
  void shouldAskAgainWhenAPartitionWasReassigned() {
    // Given a barrier sent for partition 0
    BarrierTracker tracker = new BarrierTracker();
    tracker.sent(Map.of(P0, 3L));

    // When it is assigned again
    tracker.forget(List.of(P0));

    // Then its unchanged position is announced again
    assertThat(tracker.changed(Map.of(P0, 3L))).isEqualTo(Map.of(P0, 3L));
  }
}
