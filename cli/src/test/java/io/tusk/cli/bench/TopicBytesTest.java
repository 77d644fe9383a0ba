package io.tusk.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.cli.bench.TopicBytes.Fate;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How the benchmark sorts what a commit wrote: by topic, the growth between two readings, and what
 * becomes of each topic's bytes. The readings themselves come from a broker in {@code tusk bench}.
 */
class TopicBytesTest {

  @Test
  void shouldCountOnlyWhatEachTopicGrewBy() {
    // Given two readings around a commit: one topic grew, one did not, one is new
    TopicBytes before = new TopicBytes(Map.of("a.updates", 1_000L, "tusk.repos", 50L));
    TopicBytes after =
        new TopicBytes(Map.of("a.updates", 1_400L, "tusk.repos", 50L, "p.datums", 300L));

    // When the growth is taken
    TopicBytes written = after.since(before);

    // Then it names only the topics that grew, by how much
    assertThat(written.byTopic())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a.updates", 400L, "p.datums", 300L));
    assertThat(written.total()).isEqualTo(700L);
  }

  @Test
  void shouldSortTopicsByWhatBecomesOfTheirBytes() {
    // A delete topic with a retention expires, one without keeps its bytes, a compacted one keeps
    // the latest record per key, and a repartition topic is purged by Streams whatever its config
    assertThat(TopicBytes.fate("a.by-member", "delete", 604_800_000L)).isEqualTo(Fate.EXPIRES);
    assertThat(TopicBytes.fate("a.updates", "delete", -1L)).isEqualTo(Fate.KEPT);
    assertThat(TopicBytes.fate("a.members", "compact", 604_800_000L)).isEqualTo(Fate.COMPACTED);
    assertThat(TopicBytes.fate("x-changelog", "compact,delete", 86_400_000L))
        .isEqualTo(Fate.COMPACTED);
    assertThat(TopicBytes.fate("tusk-partition-rekey-repartition", "delete", -1L))
        .isEqualTo(Fate.EXPIRES);
  }
}
