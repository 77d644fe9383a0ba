package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.PIPELINE;
import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.SPEC_HASH;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.Hashing;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Jobs on the member side: queue order, modes, Pachyderm's skip, retries, removal datums. */
class MemberJobsTest {
  private TopologyFixture f;
  private TestOutputTopic<String, Datum> datums;
  private TestOutputTopic<String, JobPart> parts;
  private TestOutputTopic<String, Job> jobs;

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    datums = f.datums();
    parts = f.jobParts();
    jobs = f.jobs();
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  /** Commit 1: members A (claim a1) and B (claim b1). */
  private Commit firstCommit() {
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {2, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    return c1;
  }

  /** Commit 2: {@code rows} more rows of partition 0 from offset 2. */
  private Commit secondCommit(String member, String claimId) {
    f.row(claim(0, 2, member, claimId, "30"));
    Commit c2 = commit(2, new long[] {2, 0, 0}, new long[] {3, 0, 0});
    f.seal(c2);
    f.barriersAtEnd(c2);
    return c2;
  }

  private Map<String, Datum> emitted() {
    return datums.readKeyValuesToList().stream()
        .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
  }

  private static JobRef ref(String jobId, JobMode mode, String specHash, JobKind kind) {
    return TopologyFixture.jobRef(jobId, mode, specHash, kind);
  }

  private Job lastJob(String id) {
    return TopologyFixture.lastJob(jobs, id);
  }

  @Test
  void shouldStartAPipelinesNextJobOnlyWhenItsPreviousJobHasEnded() {
    // Given commit 1's job emitted two datums that have no result yet
    Commit c1 = firstCommit();
    Map<String, Datum> first = emitted();
    assertThat(first).containsOnlyKeys("A", "B");

    // When commit 2 changes A
    Commit c2 = secondCommit("A", "a2");

    // Then commit 2 completes but its job waits
    assertThat(datums.isEmpty()).isTrue();
    assertThat(parts.readValuesToList())
        .extracting(JobPart::getCommitId)
        .containsExactly(c1.getId());

    // When job 1's datums succeed (its JobDone reaches the member partition)
    f.succeed(List.copyOf(first.values()));

    // Then job 2 emits A only; its part counts both members and one datum
    Map<String, Datum> second = emitted();
    assertThat(second).containsOnlyKeys("A");
    assertThat(second.get("A").getJobId()).isEqualTo("job-" + c2.getId());
    assertThat(second.get("A").getCommitSequence()).isEqualTo(2);
    JobPart part = parts.readValue();
    assertThat(part.getCommitId()).isEqualTo(c2.getId());
    assertThat(part.getTotal()).isEqualTo(2);
    assertThat(part.getToProcess()).isEqualTo(1);
  }

  @Test
  void shouldEmitOnlyDatumsWhoseOutputIsNotCurrentWhenAFullJobRuns() {
    // Given two commits whose jobs succeeded (A changed in commit 2)
    firstCommit();
    f.succeed(List.copyOf(emitted().values()));
    Commit c2 = secondCommit("A", "a2");
    f.succeed(List.copyOf(emitted().values()));
    parts.readValuesToList();

    // When a FULL job runs at commit 2, and one at commit 1 (a branch rewind)
    f.jobRequest(c2, ref("full-2", JobMode.FULL, SPEC_HASH, JobKind.BRANCH), 1);
    f.jobRequest(
        commit(1, new long[] {0, 0, 0}, new long[] {2, 0, 0}),
        ref("full-1", JobMode.FULL, SPEC_HASH, JobKind.BRANCH),
        1);

    // Then the job at commit 2 emits nothing (every current output is of its datum hash) and
    // succeeds at once; the rewind to commit 1 re-emits A, whose current output is commit 2's
    Job full2 = lastJob("full-2");
    assertThat(full2.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(full2.getTotal()).isEqualTo(2);
    assertThat(full2.getSkipped()).isEqualTo(2);
    assertThat(full2.getKind()).isEqualTo(JobKind.BRANCH);
    Map<String, Datum> rewound = emitted();
    assertThat(rewound).containsOnlyKeys("A");
    assertThat(rewound.get("A").getJobId()).isEqualTo("full-1");
    assertThat(rewound.get("A").getMemberObject().getRows()).hasSize(1);
    f.succeed(List.copyOf(rewound.values()));
    assertThat(lastJob("full-1").getSkipped()).isEqualTo(1);

    // When a FULL job of an updated pipeline (new spec hash) runs at commit 2
    f.jobRequest(c2, ref("update-2", JobMode.FULL, "spec-hash-2", JobKind.UPDATE), 1);

    // Then every member is processed again, as of commit 2
    Map<String, Datum> updated = emitted();
    assertThat(updated).containsOnlyKeys("A", "B");
    assertThat(updated.get("A").getMemberObject().getRows()).hasSize(2);
    assertThat(updated.get("A").getDatumHash())
        .isEqualTo(Hashing.datumHash("spec-hash-2", updated.get("A").getMemberObject().getHash()));
    assertThat(updated.get("A").getMode()).isEqualTo(JobMode.FULL);
  }

  @Test
  void shouldProcessAMemberAgainWhenItsContentReturnsToAnEarlierState() {
    // Given A's claim a1 at 10 in commit 1, 30 in commit 2, both processed
    firstCommit();
    Map<String, Datum> first = emitted();
    f.succeed(List.copyOf(first.values()));
    f.row(claim(0, 2, "A", "a1", "30"));
    Commit c2 = commit(2, new long[] {2, 0, 0}, new long[] {3, 0, 0});
    f.seal(c2);
    f.barriersAtEnd(c2);
    f.succeed(List.copyOf(emitted().values()));

    // When commit 3 sets it back to 10
    f.row(claim(0, 3, "A", "a1", "10"));
    Commit c3 = commit(3, new long[] {3, 0, 0}, new long[] {4, 0, 0});
    f.seal(c3);
    f.barriersAtEnd(c3);

    // Then A is processed again (its output is commit 2's), with commit 1's datum hash
    Map<String, Datum> third = emitted();
    assertThat(third).containsOnlyKeys("A");
    assertThat(third.get("A").getDatumHash()).isEqualTo(first.get("A").getDatumHash());
  }

  @Test
  void shouldRetryAFailedDatumWhenTheNextIncrementalJobRuns() {
    // Given commit 1 where A's datum failed and B's succeeded
    firstCommit();
    Map<String, Datum> first = emitted();
    f.done(first.get("A"), DatumState.FAILED);
    f.done(first.get("B"), DatumState.SUCCESS);
    assertThat(lastJob("job-claims-commit-1").getState()).isEqualTo(JobState.FAILURE);

    // When commit 2 changes only B
    Commit c2 = secondCommit("B", "b2");

    // Then job 2 processes B and retries A with its unchanged datum
    Map<String, Datum> second = emitted();
    assertThat(second).containsOnlyKeys("A", "B");
    assertThat(second.get("A").getDatumHash()).isEqualTo(first.get("A").getDatumHash());
    assertThat(second.get("A").getJobId()).isEqualTo("job-" + c2.getId());

    // When A succeeds this time, and commit 3 changes nothing of A
    f.succeed(List.copyOf(second.values()));
    f.row(claim(0, 3, "B", "b3", "1"));
    Commit c3 = commit(3, new long[] {3, 0, 0}, new long[] {4, 0, 0});
    f.seal(c3);
    f.barriersAtEnd(c3);

    // Then A is not retried again
    assertThat(emitted()).containsOnlyKeys("B");
  }

  @Test
  void shouldReprocessEveryMemberWithTheExpectedOutputHashWhenAReprocessJobRuns() {
    // Given commit 1 whose datums succeeded
    Commit c1 = firstCommit();
    Map<String, Datum> first = emitted();
    f.succeed(List.copyOf(first.values()));

    // When a REPROCESS re-run of job 1 runs
    JobRef rerun =
        JobRef.newBuilder(ref("rerun-1", JobMode.REPROCESS, SPEC_HASH, JobKind.RERUN))
            .setRerunOf("job-" + c1.getId())
            .build();
    f.jobRequest(c1, rerun, 1);

    // Then every member is emitted again, carrying the output hash of its earlier success
    Map<String, Datum> again = emitted();
    assertThat(again).containsOnlyKeys("A", "B");
    assertThat(again.get("A").getDatumHash()).isEqualTo(first.get("A").getDatumHash());
    assertThat(again.get("A").getExpectedOutputHash())
        .isEqualTo(TopologyFixture.outputHash(first.get("A")));
    assertThat(again.get("A").getMode()).isEqualTo(JobMode.REPROCESS);

    // When both outputs come back identical
    for (Datum datum : again.values()) {
      f.datumResult(
          TopologyFixture.result("rerun-1", datum.getMemberObject().getMember(), DatumState.SUCCESS)
              .setIdentical(true)
              .build());
    }

    // Then the re-run succeeds, with its identity and reproducibility counts
    Job job = lastJob("rerun-1");
    assertThat(job.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(job.getRerunOf()).isEqualTo("job-" + c1.getId());
    assertThat(job.getIdentical()).isEqualTo(2);
  }

  @Test
  void shouldReEmitOnlyTheJobsFailedDatumsWhenAFailedOnlyRestartRuns() {
    // Given commit 1 with three members, two of whose datums failed
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    f.row(claim(0, 2, "C", "c1", "30"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {3, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    Map<String, Datum> first = emitted();
    f.done(first.get("A"), DatumState.FAILED);
    f.done(first.get("B"), DatumState.FAILED);
    f.done(first.get("C"), DatumState.SUCCESS);
    String jobId = "job-" + c1.getId();
    assertThat(lastJob(jobId).getFailed()).isEqualTo(2);

    // When the job's failed datums are restarted
    f.jobRequest(c1, ref(jobId, JobMode.FAILED_ONLY, SPEC_HASH, JobKind.COMMIT), 1);

    // Then exactly A and B are emitted again, in the same job
    Map<String, Datum> restarted = emitted();
    assertThat(restarted).containsOnlyKeys("A", "B");
    assertThat(restarted.values()).allSatisfy(d -> assertThat(d.getJobId()).isEqualTo(jobId));
    assertThat(restarted.get("A").getMode()).isEqualTo(JobMode.FAILED_ONLY);

    // When both succeed as restarts
    f.done(restarted.get("A"), DatumState.SUCCESS, true);
    f.done(restarted.get("B"), DatumState.SUCCESS, true);

    // Then the job is a success, and the pipeline's next job may run
    Job job = lastJob(jobId);
    assertThat(job.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(job.getFailed()).isZero();
    assertThat(job.getProcessed()).isEqualTo(3);
    secondCommit("C", "c2");
    assertThat(emitted()).containsOnlyKeys("C");
  }

  @Test
  void shouldRetryADatumStillPendingWhenAJobAfterAKilledJobRuns() {
    // Given a pipeline with a 5 s job timeout and commit 1's job, killed with A and B in flight
    f.pipelines.put(
        PIPELINE,
        PipelineSpec.newBuilder()
            .setName(PIPELINE)
            .setInputRepo(REPO)
            .setTransform(
                TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("t").build())
            .setParallelism(1)
            .setSpecHash(SPEC_HASH)
            .setCreatedAt(0)
            .setJobTimeoutMs(5000L)
            .build());
    Commit c1 = firstCommit();
    assertThat(emitted()).containsOnlyKeys("A", "B");
    f.driver.advanceWallClockTime(Duration.ofSeconds(6));
    assertThat(lastJob("job-" + c1.getId()).getState()).isEqualTo(JobState.KILLED);

    // When commit 2 changes A
    secondCommit("A", "a2");

    // Then A's new datum is emitted, and B's again: its outcome never came (a datum still in
    // flight when its job ended is retried; a late outcome would write the same output)
    assertThat(emitted()).containsOnlyKeys("A", "B");
  }
}
