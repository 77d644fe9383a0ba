package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.PIPELINE;
import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.SPEC_HASH;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Row;
import io.tusk.schemas.SealRequest;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs where branches, rewinds, re-runs and restarts meet (issue 8): whatever moved the head, a job
 * processes exactly the members whose output at its commit differs from their current output.
 */
class BranchJobsTest {
  private TopologyFixture f;
  private TestOutputTopic<String, Datum> datums;
  private TestOutputTopic<String, Job> jobs;
  private long offset;

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    datums = f.datums();
    jobs = f.jobs();
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  /** Seals commit {@code sequence} of the rows given (all in source partition 0). */
  private Commit seal(long sequence, boolean withJob, Row... rows) {
    long start = offset;
    for (Row row : rows) {
      f.row(row);
      offset++;
    }
    Commit commit = commit(sequence, new long[] {start, 0, 0}, new long[] {offset, 0, 0});
    if (!withJob) {
      commit = Commit.newBuilder(commit).setJobs(List.of()).setBranch("dev").build();
    }
    f.seal(commit);
    f.barriersAtEnd(commit);
    return commit;
  }

  private Row row(String member, String claim, String amount) {
    return claim(0, offset, member, claim, amount);
  }

  private Map<String, Datum> emittedAndSucceeded() {
    Map<String, Datum> emitted =
        datums.readKeyValuesToList().stream()
            .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
    f.succeed(List.copyOf(emitted.values()));
    return emitted;
  }

  private static JobRef job(String id, JobMode mode, JobKind kind) {
    return TopologyFixture.jobRef(id, mode, SPEC_HASH, kind);
  }

  private Job lastJob(String id) {
    return TopologyFixture.lastJob(jobs, id);
  }

  @Test
  void shouldProcessMembersChangedOnAnotherBranchWhenTheFollowedBranchIsSealedAfterIt() {
    // Given master sealed with M1 and M2, processed
    seal(1, true, row("M1", "a1", "1"), row("M2", "b1", "2"));
    assertThat(emittedAndSucceeded()).containsOnlyKeys("M1", "M2");

    // When a row of M1 is sealed on dev (no pipeline follows it), then a row of M2 on master
    Row m1Row = row("M1", "a2", "3");
    seal(2, false, m1Row);
    seal(3, true, row("M2", "b2", "4"));

    // Then master's job processes both: M1 changed between master's previous head and its new one
    Map<String, Datum> third = emittedAndSucceeded();
    assertThat(third).containsOnlyKeys("M1", "M2");
    assertThat(third.get("M1").getMemberObject().getRows()).hasSize(2).contains(m1Row);
  }

  @Test
  void shouldRemoveOutputsOfMembersAbsentAtTheNewHeadWhenABranchIsRewound() {
    // Given M1 in commit 1 and M2 created in commit 2, both processed
    Commit c1 = seal(1, true, row("M1", "a1", "1"));
    emittedAndSucceeded();
    seal(2, true, row("M2", "b1", "2"));
    assertThat(emittedAndSucceeded()).containsOnlyKeys("M2");

    // When master is moved back to commit 1 (a full job of kind BRANCH there)
    f.jobRequest(c1, job("rewind", JobMode.FULL, JobKind.BRANCH), 1);

    // Then M2's output is removed (a removal datum) and M1, unchanged, is skipped
    Map<String, Datum> rewound = emittedAndSucceeded();
    assertThat(rewound).containsOnlyKeys("M2");
    assertThat(rewound.get("M2").getMemberObject().getRows()).isEmpty();
    assertThat(rewound.get("M2").getMemberObject().getHash()).isEmpty();
    assertThat(lastJob("rewind").getState()).isEqualTo(JobState.SUCCESS);

    // When the next commit after the rewind adds M3
    seal(3, true, row("M3", "c1", "3"));

    // Then its job processes what differs from the rewound outputs: M2 again, and M3
    assertThat(emittedAndSucceeded()).containsOnlyKeys("M2", "M3");
  }

  @Test
  void shouldOnlyCompareAndKeepTheCurrentOutputsWhenAnOlderJobIsReprocessed() {
    // Given commit 1 (M1, M2) and commit 2 (M1 gains a row), both processed
    Commit c1 = seal(1, true, row("M1", "a1", "1"), row("M2", "b1", "2"));
    Map<String, Datum> first = emittedAndSucceeded();
    Commit c2 = seal(2, true, row("M1", "a2", "3"));
    assertThat(emittedAndSucceeded()).containsOnlyKeys("M1");

    // When job 1 is re-run with reprocess
    JobRef rerun =
        JobRef.newBuilder(job("rerun", JobMode.REPROCESS, JobKind.RERUN))
            .setRerunOf("job-" + c1.getId())
            .build();
    f.jobRequest(c1, rerun, 1);

    // Then every member of commit 1 is recomputed, compare-only, against its commit-1 output
    Map<String, Datum> compared = emittedAndSucceeded();
    assertThat(compared).containsOnlyKeys("M1", "M2");
    assertThat(compared.values()).allSatisfy(d -> assertThat(d.getCompareOnly()).isTrue());
    assertThat(compared.get("M1").getExpectedOutputHash())
        .isEqualTo(TopologyFixture.outputHash(first.get("M1")));
    Job job = lastJob("rerun");
    assertThat(job.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(job.getIdentical()).isEqualTo(2);

    // And the current outputs still follow commit 2: a full job there has nothing to do
    f.jobRequest(c2, job("again", JobMode.FULL, JobKind.BRANCH), 1);
    assertThat(emittedAndSucceeded()).isEmpty();
  }

  @Test
  void shouldSkipUnchangedMembersWhoseKeptOutputsCameFromAnEarlierSpec() {
    // Given commit 1 (M1, M2) processed under spec 1, then the pipeline updated to spec 2 keeping
    // its outputs (no job), and commit 2 changing M2
    Commit c1 = seal(1, true, row("M1", "a1", "1"), row("M2", "b1", "2"));
    emittedAndSucceeded();
    f.row(row("M2", "b2", "3"));
    offset++;
    Commit c2 =
        Commit.newBuilder(commit(2, new long[] {2, 0, 0}, new long[] {3, 0, 0}))
            .setJobs(List.of(keeping("job-2", JobMode.INCREMENTAL, JobKind.COMMIT)))
            .build();
    f.seal(c2);
    f.barriersAtEnd(c2);
    assertThat(emittedAndSucceeded()).containsOnlyKeys("M2");

    // When master is moved (a full job under spec 2, which keeps spec 1's outputs)
    f.jobRequest(c2, keeping("move", JobMode.FULL, JobKind.BRANCH), 1);

    // Then M1, unchanged since its spec-1 output, is skipped; nothing is processed again
    assertThat(emittedAndSucceeded()).isEmpty();
    assertThat(c1.getId()).isNotEqualTo(c2.getId());
  }

  /** A job of spec 2, which keeps the outputs of spec 1 ({@code SPEC_HASH}). */
  private static JobRef keeping(String id, JobMode mode, JobKind kind) {
    return JobRef.newBuilder(job(id, mode, kind))
        .setSpecHash("spec-hash-2")
        .setKeptSpecHashes(List.of(SPEC_HASH))
        .build();
  }

  @Test
  void shouldRetryADatumThatNeverGotItsOutcomeWhenTheNextJobRuns() {
    // Given commit 1 whose datum for M2 is lost (no outcome ever comes), its job killed
    f.pipelines.put(PIPELINE, TopologyFixture.pipeline(5000L));
    seal(1, true, row("M1", "a1", "1"), row("M2", "b1", "2"));
    Map<String, Datum> first =
        datums.readKeyValuesToList().stream()
            .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
    f.done(first.get("M1"), DatumState.SUCCESS);
    f.driver.advanceWallClockTime(java.time.Duration.ofSeconds(6));

    // When commit 2 changes M1 only
    seal(2, true, row("M1", "a2", "3"));

    // Then M2 is processed again too: its output never arrived
    assertThat(emittedAndSucceeded()).containsOnlyKeys("M1", "M2");
  }

  @Test
  void shouldRefuseAJobOverACommitOlderThanTheHistoryFloor() {
    // Given a retention of 2 commits and four commits
    f.specs.put(
        REPO,
        io.tusk.schemas.RepoSpec.newBuilder(f.specs.get(REPO)).setHistoryRetention(2).build());
    Commit c1 = seal(1, true, row("M1", "a1", "1"));
    emittedAndSucceeded();
    for (int n = 2; n <= 4; n++) {
      seal(n, true, row("M1", "a" + n, "1"));
      emittedAndSucceeded();
    }

    // When a full job over commit 1 is requested (its versions are pruned)
    f.jobRequest(c1, job("too-old", JobMode.FULL, JobKind.BRANCH), 1);

    // Then nothing is emitted and the job fails, saying why
    assertThat(datums.isEmpty()).isTrue();
    Job refused = lastJob("too-old");
    assertThat(refused.getState()).isEqualTo(JobState.FAILURE);
    assertThat(refused.getError()).contains("history floor");
  }

  @Test
  void shouldKeepHistoryBackToTheOldestBranchHead() {
    // Given a retention of 2 commits, and a branch whose head stays at commit 1
    f.specs.put(
        REPO,
        io.tusk.schemas.RepoSpec.newBuilder(f.specs.get(REPO)).setHistoryRetention(2).build());
    f.branchHeads.put(REPO, 1L);
    Commit c1 = seal(1, true, row("M1", "a1", "1"));
    emittedAndSucceeded();

    // When four more commits change M1
    for (int n = 2; n <= 5; n++) {
      seal(n, true, row("M1", "a" + n, "1"));
      emittedAndSucceeded();
    }

    // Then a full job over commit 1 (the branch's head) still runs, on M1 as of commit 1
    f.jobRequest(c1, job("at-head", JobMode.FULL, JobKind.BRANCH), 1);
    Map<String, Datum> rewound = emittedAndSucceeded();
    assertThat(rewound).containsOnlyKeys("M1");
    assertThat(rewound.get("M1").getMemberObject().getRows()).hasSize(1);
    assertThat(lastJob("at-head").getState()).isEqualTo(JobState.SUCCESS);
  }

  @Test
  void shouldNotEndARestartWhenTheFirstEndOfItsJobIsAnnouncedAgain() {
    // Given commit 1 whose datum for M1 failed, and its failed datums restarted
    f.playCommitService(false);
    TestOutputTopic<String, SealRequest> seals = f.sealRequests();
    Commit c1 = seal(1, true, row("M1", "a1", "1"));
    Datum datum = datums.readValuesToList().get(0);
    f.done(datum, DatumState.FAILED);
    SealRequest end = seals.readValuesToList().get(0);
    assertThat(end.getRound()).isZero();
    announce(end.getJobId(), 0);
    f.jobRequest(c1, job(end.getJobId(), JobMode.FAILED_ONLY, JobKind.COMMIT), 1);
    Datum restarted = datums.readValuesToList().get(0);

    // When the first end of the job is announced again (a seal request read twice)
    announce(end.getJobId(), 0);
    seal(2, true, row("M1", "a2", "2"));

    // Then the restart still runs: commit 2's job waits
    assertThat(datums.isEmpty()).isTrue();

    // When the restart's round ends and is announced
    f.done(restarted, DatumState.SUCCESS, true);
    SealRequest restartEnd = seals.readValuesToList().get(0);
    assertThat(restartEnd.getRound()).isEqualTo(1);
    announce(restartEnd.getJobId(), restartEnd.getRound());

    // Then commit 2's job runs
    assertThat(datums.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("M1");
  }

  private void announce(String jobId, int round) {
    f.event(
        REPO,
        null,
        JobDone.newBuilder().setPipeline(PIPELINE).setJobId(jobId).setRound(round).build());
  }

  @Test
  void shouldCarryTheJobInHeadersOfEveryDatumRecord() {
    // When a commit's datum is emitted
    Commit c1 = seal(1, true, row("M1", "a1", "1"));

    // Then its record names job, datum hash and repo in headers, for a processor that cannot
    // decode it
    var record = datums.readRecord();
    assertThat(new String(record.headers().lastHeader("tusk.job").value()))
        .isEqualTo("job-" + c1.getId());
    assertThat(new String(record.headers().lastHeader("tusk.datum-hash").value()))
        .isEqualTo(record.value().getDatumHash());
    assertThat(new String(record.headers().lastHeader("tusk.repo").value())).isEqualTo(REPO);
  }
}
