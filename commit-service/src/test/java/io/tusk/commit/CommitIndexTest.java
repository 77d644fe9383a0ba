package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.PartitionOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommitIndexTest {

  @Test
  void shouldListNewestFirstWhenPaged() {
    // Given five commits of one repo and one of another
    CommitIndex index = new CommitIndex();
    for (int sequence = 1; sequence <= 5; sequence++) {
      Commit commit = commit("omop", sequence, null);
      index.record(commit.getId(), commit);
    }
    Commit other = commit("other", 1, null);
    index.record(other.getId(), other);

    // When / Then pages go newest first, below "before", up to "limit"
    assertThat(index.page("omop", Long.MAX_VALUE, 50))
        .extracting(Commit::getSequence)
        .containsExactly(5L, 4L, 3L, 2L, 1L);
    assertThat(index.page("omop", 4, 2)).extracting(Commit::getSequence).containsExactly(3L, 2L);
    assertThat(index.latest("omop")).get().extracting(Commit::getSequence).isEqualTo(5L);
    assertThat(index.latest("unknown")).isEmpty();
    assertThat(index.page("unknown", Long.MAX_VALUE, 50)).isEmpty();
  }

  @Test
  void shouldKeepStatsWhenAnOlderVersionArrivesLater() {
    // Given a commit written back with stats
    CommitIndex index = new CommitIndex();
    Commit sealed = commit("omop", 1, null);
    Commit complete = commit("omop", 1, new CommitStats(10L, 0L, 4L, 4L, 5L));
    index.record(sealed.getId(), complete);

    // When the sealed version (without stats) is recorded after it
    index.record(sealed.getId(), sealed);

    // Then both lookups still show the stats
    assertThat(index.get(sealed.getId())).get().extracting(Commit::getStats).isNotNull();
    assertThat(index.page("omop", Long.MAX_VALUE, 1).get(0).getStats()).isNotNull();
  }

  @Test
  void shouldForgetEveryCommitOfADeletedRepoAndKeepTheOthers() {
    // Given three commits of one repo and one of another
    CommitIndex index = new CommitIndex();
    for (int sequence = 1; sequence <= 3; sequence++) {
      Commit commit = commit("omop", sequence, null);
      index.record(commit.getId(), commit);
    }
    Commit other = commit("other", 1, null);
    index.record(other.getId(), other);

    // When the repo is dropped
    List<Commit> dropped = index.dropRepo("omop");

    // Then its commits are returned in sequence order and no lookup finds them, the other's stay
    assertThat(dropped).extracting(Commit::getSequence).containsExactly(1L, 2L, 3L);
    assertThat(index.latest("omop")).isEmpty();
    assertThat(index.page("omop", Long.MAX_VALUE, 50)).isEmpty();
    dropped.forEach(c -> assertThat(index.get(c.getId())).isEmpty());
    assertThat(index.latest("other")).contains(other);
    assertThat(index.dropRepo("omop")).isEmpty();
  }

  @Test
  void shouldForgetACommitWhenItIsTombstoned() {
    // Given a commit
    CommitIndex index = new CommitIndex();
    Commit commit = commit("omop", 1, null);
    index.record(commit.getId(), commit);

    // When a tombstone arrives
    index.record(commit.getId(), null);

    // Then it is gone everywhere
    assertThat(index.get(commit.getId())).isEmpty();
    assertThat(index.latest("omop")).isEmpty();
  }

  @Test
  void shouldFindTheOutputCommitOfEachRoundWhenAskedByItsSourceJobAndRound() {
    // Given output commits of a derived repo sealed for upstream job j1's end and its first restart
    CommitIndex index = new CommitIndex();
    Commit end = Commit.newBuilder(commit("gi-by-k", 1, null)).setSourceJob("j1").build();
    Commit restart =
        Commit.newBuilder(commit("gi-by-k", 2, null)).setSourceJob("j1").setSourceRound(1).build();
    index.record(end.getId(), end);
    index.record(restart.getId(), restart);

    // Then each is found by (repo, source job, round), and nothing for another job, round or repo
    assertThat(index.bySource("gi-by-k", "j1", 0)).contains(end);
    assertThat(index.bySource("gi-by-k", "j1", 1)).contains(restart);
    assertThat(index.bySource("gi-by-k", "j1", 2)).isEmpty();
    assertThat(index.bySource("gi-by-k", "j2", 0)).isEmpty();
    assertThat(index.bySource("other", "j1", 0)).isEmpty();

    // And a tombstone forgets it
    index.record(end.getId(), null);
    assertThat(index.bySource("gi-by-k", "j1", 0)).isEmpty();
    assertThat(index.bySource("gi-by-k", "j1", 1)).contains(restart);
  }

  private static Commit commit(String repo, long sequence, CommitStats stats) {
    String id = String.format("%032x", (repo.hashCode() & 0xffffL) * 1000 + sequence);
    return commit(repo, id, sequence, stats);
  }

  /** A commit of one update partition with no jobs (also for {@link CommitRefsTest}). */
  static Commit commit(String repo, String id, long sequence, CommitStats stats) {
    return Commit.newBuilder()
        .setId(id)
        .setRepo(repo)
        .setSequence(sequence)
        .setParent(null)
        .setGlobalId(id)
        .setCreatedAt(sequence)
        .setStartOffsets(List.of(new PartitionOffset(0, 0L)))
        .setEndOffsets(List.of(new PartitionOffset(0, sequence)))
        .setJobs(List.of())
        .setStats(stats)
        .build();
  }
}
