package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import org.junit.jupiter.api.Test;

class JobIndexTest {

  static Job job(String id, String commitId, long createdAt, JobState state) {
    return Job.newBuilder()
        .setId(id)
        .setPipeline("p")
        .setRepo("r")
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setState(state)
        .setTotal(10)
        .setToProcess(4)
        .setProcessed(2)
        .setSkipped(6)
        .setFailed(1)
        .setCreatedAt(createdAt)
        .build();
  }

  @Test
  void shouldListTheJobsOfACommitOldestFirstWhenSeveralRanOnIt() {
    // Given two jobs on commit c1 (written newest first) and one on c2
    JobIndex index = new JobIndex();
    index.record("j2", job("j2", "c1", 200, JobState.RUNNING));
    index.record("j1", job("j1", "c1", 100, JobState.SUCCESS));
    index.record("j3", job("j3", "c2", 300, JobState.RUNNING));

    // Then c1 lists j1 then j2, c2 lists j3, an unknown commit nothing
    assertThat(index.ofCommit("c1")).extracting(Job::getId).containsExactly("j1", "j2");
    assertThat(index.ofCommit("c2")).extracting(Job::getId).containsExactly("j3");
    assertThat(index.ofCommit("c9")).isEmpty();
  }

  @Test
  void shouldKeepTheLatestStateWhenAJobIsUpdatedOrDeleted() {
    // Given a running job that then succeeds
    JobIndex index = new JobIndex();
    index.record("j1", job("j1", "c1", 100, JobState.RUNNING));
    index.record("j1", job("j1", "c1", 100, JobState.SUCCESS));

    // Then the index holds it once, in its latest state
    assertThat(index.get("j1").map(Job::getState)).contains(JobState.SUCCESS);
    assertThat(index.ofCommit("c1")).hasSize(1);

    // When it is deleted (a tombstone)
    index.record("j1", null);

    // Then it is gone by ID and by commit
    assertThat(index.get("j1")).isEmpty();
    assertThat(index.ofCommit("c1")).isEmpty();
  }

  @Test
  void shouldListAJobUnderItsNewCommitWhenARecordMovesIt() {
    // Given two jobs on commit c1
    JobIndex index = new JobIndex();
    index.record("j1", job("j1", "c1", 100, JobState.RUNNING));
    index.record("j2", job("j2", "c1", 200, JobState.RUNNING));

    // When j1 is written again with commit c2, and updated there
    index.record("j1", job("j1", "c2", 100, JobState.RUNNING));
    index.record("j1", job("j1", "c2", 100, JobState.SUCCESS));

    // Then c1 lists only j2 and c2 lists j1 once, in its latest state
    assertThat(index.ofCommit("c1")).extracting(Job::getId).containsExactly("j2");
    assertThat(index.ofCommit("c2")).extracting(Job::getState).containsExactly(JobState.SUCCESS);
  }

  @Test
  void shouldListJobIdsInOrderWhenTheyStartWithAPrefix() {
    // Given three jobs, two of which share their first six characters (recorded out of order)
    JobIndex index = new JobIndex();
    String a = "3f9a2c00000000000000000000000001";
    String b = "3f9a2c11000000000000000000000002";
    String c = "3f9a2d00000000000000000000000003";
    index.record(b, job(b, "c1", 200, JobState.RUNNING));
    index.record(c, job(c, "c1", 300, JobState.RUNNING));
    index.record(a, job(a, "c1", 100, JobState.SUCCESS));

    // Then a prefix lists the IDs it starts in ID order, up to the limit; the full ID itself
    assertThat(index.idsWithPrefix("3f9a2c", 10)).containsExactly(a, b);
    assertThat(index.idsWithPrefix("3f9a2", 2)).containsExactly(a, b);
    assertThat(index.idsWithPrefix("3f9a2c1", 10)).containsExactly(b);
    assertThat(index.idsWithPrefix(c, 10)).containsExactly(c);
    assertThat(index.idsWithPrefix("ffffff", 10)).isEmpty();

    // When a job is deleted / Then it no longer matches
    index.record(b, null);
    assertThat(index.idsWithPrefix("3f9a2c", 10)).containsExactly(a);
  }
}
