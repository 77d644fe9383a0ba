package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * How long a copy may outlive an erasure in one topic: a compacted topic within its max compaction
 * lag plus the tombstone's own retention; a delete topic within its retention plus one segment (a
 * segment goes only once its newest record expired); a delete topic kept forever never.
 */
class ErasurePlaceBoundTest {
  private static final long DAY = 86_400_000L;

  @Test
  void shouldBoundACompactedTopicByMaxLagPlusTombstoneRetention() {
    ErasurePlaces.Place members =
        new ErasurePlaces.Place("r.members", true, 7 * DAY, 7 * DAY, 7 * DAY, DAY);
    assertThat(members.boundMs()).isEqualTo(8 * DAY);
  }

  @Test
  void shouldBoundADeleteTopicByRetentionPlusOneSegment() {
    ErasurePlaces.Place updates =
        new ErasurePlaces.Place("r.updates", false, 30 * DAY, DAY, 7 * DAY, DAY);
    assertThat(updates.boundMs()).isEqualTo(31 * DAY);
  }

  @Test
  void shouldNeverClearADeleteTopicKeptForever() {
    ErasurePlaces.Place updates =
        new ErasurePlaces.Place("r.updates", false, -1, 7 * DAY, 7 * DAY, DAY);
    assertThat(updates.boundMs()).isEqualTo(-1);
  }
}
