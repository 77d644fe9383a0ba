package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.RepoSpec;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class SourcePositionsTest {
  private static final TopicPartition P0 = new TopicPartition("risk.output", 0);
  private static final TopicPartition P1 = new TopicPartition("risk.output", 1);
  private static final RepoSpec BY_A = repo("risk-by-a", 1);
  private static final RepoSpec BY_B = repo("risk-by-b", 2);

  private final SourcePositions positions = new SourcePositions();

  @Test
  void shouldAskForBarriersOnlyWhenAPartitionIsNewOrMoved() {
    // Given barriers sent for both partitions of a topic one repo reads
    positions.load(P0, null, List.of(BY_A));
    positions.load(P1, null, List.of(BY_A));
    SourcePositions.Advance first = positions.advance(Map.of(P0, 0L, P1, 5L));
    assertThat(first.barriers())
        .containsExactlyInAnyOrder(barrier(BY_A, P0, 0), barrier(BY_A, P1, 5));
    positions.apply(first);

    // When only partition 1's position moves
    SourcePositions.Advance second = positions.advance(Map.of(P0, 0L, P1, 7L));

    // Then only partition 1 needs a barrier, and nothing at all once that is applied
    assertThat(second.barriers()).containsExactly(barrier(BY_A, P1, 7));
    positions.apply(second);
    assertThat(positions.advance(Map.of(P0, 0L, P1, 7L)).isEmpty()).isTrue();
  }

  @Test
  void shouldAnnounceAgainWhenAPartitionIsAssignedAgain() {
    // Given a barrier sent for partition 0
    positions.load(P0, null, List.of(BY_A));
    positions.apply(positions.advance(Map.of(P0, 3L)));

    // When the partition is revoked and assigned again at its committed offset
    positions.forget(List.of(P0));
    positions.load(P0, committed(P0, positions, 3), List.of(BY_A));

    // Then its position is announced again
    assertThat(positions.advance(Map.of(P0, 3L)).barriers()).containsExactly(barrier(BY_A, P0, 3));
  }

  @Test
  void shouldStartANewReaderAtTheBeginningAndKeepTheOthersWhenARepoStartsReadingATopic() {
    // Given repo A at offset 10 of partition 0
    positions.load(P0, null, List.of(BY_A));
    positions.apply(positions.advance(Map.of(P0, 10L)));

    // When repo B starts reading the topic
    long seek = positions.readers(P0, List.of(BY_A, BY_B));

    // Then the consumer must go back to 0, records below 10 go to B only
    assertThat(seek).isZero();
    assertThat(positions.forwards(P0, BY_B.getName(), 4)).isTrue();
    assertThat(positions.forwards(P0, BY_A.getName(), 4)).isFalse();
    assertThat(positions.forwards(P0, BY_A.getName(), 10)).isTrue();

    // And once the consumer is at 6, B is at 6 (announced), A stays at 10 (not announced again)
    SourcePositions.Advance advance = positions.advance(Map.of(P0, 6L));
    assertThat(advance.barriers()).containsExactly(barrier(BY_B, P0, 6));
    assertThat(advance.positions().get(P0)).isEqualTo(Map.of("risk-by-a", 10L, "risk-by-b", 6L));
  }

  @Test
  void shouldRestoreEveryRepoPositionWhenLoadingCommittedMetadata() {
    // Given A at 10 and B at 6 committed at the consumer's position 6
    positions.load(P0, null, List.of(BY_A));
    positions.apply(positions.advance(Map.of(P0, 10L)));
    positions.readers(P0, List.of(BY_A, BY_B));
    SourcePositions.Advance advance = positions.advance(Map.of(P0, 6L));
    OffsetAndMetadata committed = new OffsetAndMetadata(6L, positions.metadata(P0, advance));

    // When another owner loads the partition
    SourcePositions other = new SourcePositions();
    long seek = other.load(P0, committed, List.of(BY_A, BY_B));

    // Then both positions are back, and the consumer starts at the committed offset
    assertThat(seek).isEqualTo(-1);
    assertThat(other.forwards(P0, BY_A.getName(), 9)).isFalse();
    assertThat(other.forwards(P0, BY_B.getName(), 6)).isTrue();
  }

  @Test
  void shouldTreatARecreatedRepoAsNewWhenItsCreationTimeDiffers() {
    // Given metadata listing A (created at 1) at 10
    positions.load(P0, null, List.of(BY_A));
    SourcePositions.Advance advance = positions.advance(Map.of(P0, 10L));
    OffsetAndMetadata committed = new OffsetAndMetadata(10L, positions.metadata(P0, advance));

    // When A was deleted and created again (created at 9), and the partition is loaded
    SourcePositions other = new SourcePositions();
    long seek = other.load(P0, committed, List.of(repo("risk-by-a", 9)));

    // Then it reads from the beginning
    assertThat(seek).isZero();
  }

  @Test
  void shouldPutEveryRepoAtTheCommittedOffsetWhenTheMetadataHasNoPositions() {
    // Given an offset committed before positions were kept
    long seek = positions.load(P0, new OffsetAndMetadata(42L), List.of(BY_A, BY_B));

    // Then no repo reads anything again
    assertThat(seek).isEqualTo(-1);
    assertThat(positions.forwards(P0, BY_A.getName(), 41)).isFalse();
    assertThat(positions.forwards(P0, BY_B.getName(), 42)).isTrue();
  }

  @Test
  void shouldForgetAReaderWhenItsRepoIsGone() {
    positions.load(P0, null, List.of(BY_A, BY_B));
    positions.readers(P0, List.of(BY_A));
    assertThat(positions.forwards(P0, BY_B.getName(), 0)).isFalse();
    assertThat(positions.metadata(P0, positions.advance(Map.of(P0, 1L))))
        .isEqualTo(SourcePositions.PREFIX + "risk-by-a@1=1");
  }

  private static OffsetAndMetadata committed(
      TopicPartition partition, SourcePositions positions, long offset) {
    return new OffsetAndMetadata(
        offset, positions.metadata(partition, positions.advance(Map.of(partition, offset))));
  }

  private static SourcePositions.Barrier barrier(RepoSpec repo, TopicPartition p, long position) {
    return new SourcePositions.Barrier(repo.getName(), p, position);
  }

  private static RepoSpec repo(String name, long createdAt) {
    return RepoSpec.newBuilder(TopologyFixture.spec(name)).setCreatedAt(createdAt).build();
  }
}
