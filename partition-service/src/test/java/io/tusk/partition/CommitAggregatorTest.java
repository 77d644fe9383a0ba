package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.JobPart;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The commit aggregator (step 4 of the commit protocol) on a {@code TopologyTestDriver}. */
class CommitAggregatorTest {
  private static final long NOW = Instant.parse("2026-11-26T00:00:00Z").toEpochMilli();

  private TopologyFixture fixture;
  private TestOutputTopic<String, Commit> commits;
  private TestOutputTopic<String, JobPart> jobParts;

  @BeforeEach
  void setUp() {
    fixture = new TopologyFixture();
    commits = fixture.commits();
    jobParts = fixture.jobParts();
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  @Test
  void shouldWriteStatsOnlyWhenEveryPartIsIn() {
    // Given commit 1 completed in member partitions 0 and 1 of 3, and partition 1's part again
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {5, 5, 5});
    fixture.commitPart(part(c1, 0, 3, 10, 1, 4, 2));
    fixture.commitPart(part(c1, 1, 3, 20, 0, 6, 3));
    fixture.commitPart(part(c1, 1, 3, 20, 0, 6, 3));

    // Then nothing is written yet
    assertThat(commits.isEmpty()).isTrue();

    // When partition 2's part arrives
    fixture.commitPart(part(c1, 2, 3, 5, 2, 1, 0));

    // Then the commit gets the summed stats, and no job is made here
    List<Commit> written = commits.readValuesToList();
    assertThat(written).hasSize(1);
    assertThat(written.get(0).getId()).isEqualTo(c1.getId());
    assertThat(written.get(0).getEndOffsets()).isEqualTo(c1.getEndOffsets());
    assertThat(written.get(0).getStats()).isEqualTo(new CommitStats(35L, 3L, 11L, 5L, NOW));
    assertThat(jobParts.isEmpty()).isTrue();
  }

  @Test
  void shouldIgnoreAPartWhenItsCommitWasAggregated() {
    // Given an aggregated commit
    Commit c1 = commit(1, new long[] {0}, new long[] {3});
    fixture.commitPart(part(c1, 0, 1, 3, 0, 2, 2));
    assertThat(commits.readValuesToList()).hasSize(1);

    // When its part arrives again
    fixture.commitPart(part(c1, 0, 1, 3, 0, 2, 2));

    // Then nothing is written again
    assertThat(commits.isEmpty()).isTrue();
  }

  static CommitPart part(
      Commit commit,
      int partition,
      int partitions,
      long rows,
      long rejected,
      long members,
      long changed) {
    return new CommitPart(commit, partition, partitions, rows, rejected, members, changed);
  }
}
