package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
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
  private TestOutputTopic<String, Job> jobStarts;

  @BeforeEach
  void setUp() {
    fixture = new TopologyFixture();
    commits = fixture.commits();
    jobStarts = fixture.jobStarts();
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  @Test
  void shouldWriteStatsAndJobStartsOnlyWhenEveryPartIsIn() {
    // Given commit 1 completed in member partitions 0 and 1 of 3, and partition 1's part again
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {5, 5, 5});
    fixture.commitPart(part(c1, 0, 3, 10, 1, 4, 2));
    fixture.commitPart(part(c1, 1, 3, 20, 0, 6, 3));
    fixture.commitPart(part(c1, 1, 3, 20, 0, 6, 3));

    // Then nothing is written yet
    assertThat(commits.isEmpty()).isTrue();
    assertThat(jobStarts.isEmpty()).isTrue();

    // When partition 2's part arrives
    fixture.commitPart(part(c1, 2, 3, 5, 2, 1, 0));

    // Then the commit gets the summed stats and its job starts RUNNING with the counts
    List<Commit> written = commits.readValuesToList();
    assertThat(written).hasSize(1);
    assertThat(written.get(0).getId()).isEqualTo(c1.getId());
    assertThat(written.get(0).getEndOffsets()).isEqualTo(c1.getEndOffsets());
    assertThat(written.get(0).getStats()).isEqualTo(new CommitStats(35L, 3L, 11L, 5L, NOW));
    List<Job> jobs = jobStarts.readValuesToList();
    assertThat(jobs).hasSize(1);
    Job job = jobs.get(0);
    assertThat(job.getId()).isEqualTo("job-" + c1.getId());
    assertThat(job.getPipeline()).isEqualTo(TopologyFixture.PIPELINE);
    assertThat(job.getRepo()).isEqualTo(TopologyFixture.REPO);
    assertThat(job.getCommitId()).isEqualTo(c1.getId());
    assertThat(job.getGlobalId()).isEqualTo(c1.getGlobalId());
    assertThat(job.getState()).isEqualTo(JobState.RUNNING);
    assertThat(job.getTotal()).isEqualTo(11);
    assertThat(job.getToProcess()).isEqualTo(5);
    assertThat(job.getSkipped()).isEqualTo(6);
    assertThat(job.getProcessed()).isZero();
    assertThat(job.getFailed()).isZero();
    assertThat(job.getRecovered()).isZero();
    assertThat(job.getCreatedAt()).isEqualTo(NOW);
    assertThat(job.getFinishedAt()).isNull();
  }

  @Test
  void shouldStartTheJobAsSuccessWhenNoMemberChanged() {
    // Given a commit whose only part changed no member
    Commit c2 = commit(2, new long[] {5}, new long[] {7});

    // When its part arrives
    fixture.commitPart(part(c2, 0, 1, 2, 0, 8, 0));

    // Then its job is done at once, every member skipped
    Job job = jobStarts.readValue();
    assertThat(job.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(job.getTotal()).isEqualTo(8);
    assertThat(job.getToProcess()).isZero();
    assertThat(job.getSkipped()).isEqualTo(8);
    assertThat(job.getFinishedAt()).isEqualTo(NOW);
  }

  @Test
  void shouldIgnoreAPartWhenItsCommitWasAggregated() {
    // Given an aggregated commit
    Commit c1 = commit(1, new long[] {0}, new long[] {3});
    fixture.commitPart(part(c1, 0, 1, 3, 0, 2, 2));
    assertThat(commits.readValuesToList()).hasSize(1);
    jobStarts.readValuesToList();

    // When its part arrives again
    fixture.commitPart(part(c1, 0, 1, 3, 0, 2, 2));

    // Then nothing is written again
    assertThat(commits.isEmpty()).isTrue();
    assertThat(jobStarts.isEmpty()).isTrue();
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
