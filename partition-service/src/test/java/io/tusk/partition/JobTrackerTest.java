package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.NOW;
import static io.tusk.partition.TopologyFixture.PIPELINE;
import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.part;
import static io.tusk.partition.TopologyFixture.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobState;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.SealRequest;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The job tracker on a {@code TopologyTestDriver}. */
class JobTrackerTest {
  private TopologyFixture fixture;
  private TestOutputTopic<String, Job> jobs;
  private TestOutputTopic<String, SealRequest> seals;
  private TestOutputTopic<String, MemberEvent> byMember;

  @BeforeEach
  void setUp() {
    fixture = new TopologyFixture().playCommitService(false);
    jobs = fixture.jobs();
    seals = fixture.sealRequests();
    byMember = fixture.byMemberOut(REPO);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  @Test
  void shouldCreateTheJobOnlyWhenEveryMemberPartitionsPartIsIn() {
    // Given parts of member partitions 0 and 1 of 3 (and partition 1's part again)
    fixture.jobPart(part("job-1", JobMode.INCREMENTAL, 0, 3, 4, 2));
    fixture.jobPart(part("job-1", JobMode.INCREMENTAL, 1, 3, 6, 3));
    fixture.jobPart(part("job-1", JobMode.INCREMENTAL, 1, 3, 6, 3));

    // Then no job exists yet
    assertThat(jobs.isEmpty()).isTrue();

    // When partition 2's part arrives
    fixture.jobPart(part("job-1", JobMode.INCREMENTAL, 2, 3, 1, 0));

    // Then the job runs with the summed counts and the identity of its job reference
    Job job = jobs.readValue();
    assertThat(job.getId()).isEqualTo("job-1");
    assertThat(job.getPipeline()).isEqualTo(PIPELINE);
    assertThat(job.getRepo()).isEqualTo(REPO);
    assertThat(job.getCommitId()).isEqualTo("c1");
    assertThat(job.getGlobalId()).isEqualTo("g1");
    assertThat(job.getSequence()).isEqualTo(1);
    assertThat(job.getSpecHash()).isEqualTo(TopologyFixture.SPEC_HASH);
    assertThat(job.getMode()).isEqualTo(JobMode.INCREMENTAL);
    assertThat(job.getState()).isEqualTo(JobState.RUNNING);
    assertThat(job.getTotal()).isEqualTo(11);
    assertThat(job.getToProcess()).isEqualTo(5);
    assertThat(job.getSkipped()).isEqualTo(6);
    assertThat(job.getCreatedAt()).isEqualTo(NOW);
    assertThat(job.getFinishedAt()).isNull();
    assertThat(seals.isEmpty()).isTrue();
  }

  @Test
  void shouldSucceedAndAnnounceTheEndWhenEveryDatumIsProcessed() {
    // Given a job with two datums to process of five members
    fixture.jobPart(part("job-1", JobMode.INCREMENTAL, 0, 1, 5, 2));
    assertThat(jobs.readValue().getState()).isEqualTo(JobState.RUNNING);

    // When one datum succeeds
    fixture.datumResult("job-1", "A", DatumState.SUCCESS);

    // Then the job runs on with one processed
    Job running = jobs.readValue();
    assertThat(running.getState()).isEqualTo(JobState.RUNNING);
    assertThat(running.getProcessed()).isEqualTo(1);
    assertThat(byMember.isEmpty()).isTrue();

    // When the second is recovered by the error command
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(7));
    fixture.datumResult("job-1", "B", DatumState.RECOVERED);

    // Then the job succeeded, with its counts and finish time
    Job done = jobs.readValue();
    assertThat(done.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(done.getProcessed()).isEqualTo(1);
    assertThat(done.getRecovered()).isEqualTo(1);
    assertThat(done.getFailed()).isZero();
    assertThat(done.getSkipped()).isEqualTo(3);
    assertThat(done.getFinishedAt()).isEqualTo(NOW + 7000);

    // And its end goes to the commit service, which seals output commits and tells the repo's
    // member partitions
    SealRequest seal = seals.readValue();
    assertThat(seal.getJobId()).isEqualTo("job-1");
    assertThat(seal.getRepo()).isEqualTo(REPO);
    assertThat(seal.getPipeline()).isEqualTo(PIPELINE);
    assertThat(seal.getGlobalId()).isEqualTo("g1");
  }

  @Test
  void shouldEndAtOnceWhenNothingIsToProcess() {
    // When the only part of a job emitted no datum
    fixture.jobPart(part("job-0", JobMode.INCREMENTAL, 0, 1, 8, 0));

    // Then the job succeeded at once with every member skipped, and its end is announced
    Job job = jobs.readValue();
    assertThat(job.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(job.getSkipped()).isEqualTo(8);
    assertThat(job.getFinishedAt()).isEqualTo(NOW);
    assertThat(endsAnnounced()).containsExactly("job-0");
  }

  @Test
  void shouldCountResultsWhenTheyArriveBeforeTheJobExists() {
    // Given a result of a job whose part has not arrived
    fixture.datumResult("job-2", "A", DatumState.SUCCESS);
    assertThat(jobs.isEmpty()).isTrue();

    // When the part arrives
    fixture.jobPart(part("job-2", JobMode.INCREMENTAL, 0, 1, 1, 1));

    // Then the job is done with the early result counted
    Job done = jobs.readValue();
    assertThat(done.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(done.getProcessed()).isEqualTo(1);
  }

  @Test
  void shouldFailTheJobWhenAnyDatumFailed() {
    // Given a job with two datums to process
    fixture.jobPart(part("job-3", JobMode.INCREMENTAL, 0, 1, 2, 2));

    // When one fails and one succeeds
    fixture.datumResult("job-3", "A", DatumState.FAILED);
    fixture.datumResult("job-3", "B", DatumState.SUCCESS);

    // Then it ends in FAILURE with both counted
    List<Job> written = jobs.readValuesToList();
    assertThat(written)
        .extracting(Job::getState)
        .containsExactly(JobState.RUNNING, JobState.RUNNING, JobState.FAILURE);
    Job done = written.get(2);
    assertThat(done.getFailed()).isEqualTo(1);
    assertThat(done.getProcessed()).isEqualTo(1);
    assertThat(done.getFinishedAt()).isNotNull();
    assertThat(endsAnnounced()).hasSize(1);
  }

  @Test
  void shouldCountIdenticalAndDifferentOutputsWhenAReprocessJobRuns() {
    // Given a REPROCESS job of three datums
    fixture.jobPart(part("job-4", JobMode.REPROCESS, 0, 1, 3, 3));

    // When two outputs equal the earlier run's and one differs
    fixture.datumResult(result("job-4", "A", DatumState.SUCCESS).setIdentical(true).build());
    fixture.datumResult(result("job-4", "B", DatumState.SUCCESS).setIdentical(true).build());
    fixture.datumResult(result("job-4", "C", DatumState.SUCCESS).setIdentical(false).build());

    // Then the finished job counts them
    Job done = last(jobs.readValuesToList());
    assertThat(done.getMode()).isEqualTo(JobMode.REPROCESS);
    assertThat(done.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(done.getIdentical()).isEqualTo(2);
    assertThat(done.getDifferent()).isEqualTo(1);
  }

  @Test
  void shouldSupersedeTheEarlierFailureWhenARestartedDatumSucceeds() {
    // Given a job that ended in FAILURE with one of its two datums failed
    fixture.jobPart(part("job-5", JobMode.INCREMENTAL, 0, 2, 3, 1));
    fixture.jobPart(part("job-5", JobMode.INCREMENTAL, 1, 2, 3, 1));
    fixture.datumResult("job-5", "A", DatumState.FAILED);
    fixture.datumResult("job-5", "B", DatumState.SUCCESS);
    assertThat(last(jobs.readValuesToList()).getState()).isEqualTo(JobState.FAILURE);
    assertThat(endsAnnounced()).hasSize(1);
    seals.readValuesToList();

    // When a FAILED_ONLY re-run sends its parts (one datum in partition 0, none in 1)
    fixture.jobPart(part("job-5", JobMode.FAILED_ONLY, 0, 2, 3, 1));
    fixture.jobPart(part("job-5", JobMode.FAILED_ONLY, 1, 2, 3, 0));
    assertThat(endsAnnounced()).isEmpty();

    // And the restarted datum succeeds
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(3));
    fixture.datumResult(result("job-5", "A", DatumState.SUCCESS).setRestart(true).build());

    // Then the failure is superseded: the job is a success, and its end is announced again
    Job job = last(jobs.readValuesToList());
    assertThat(job.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(job.getFailed()).isZero();
    assertThat(job.getProcessed()).isEqualTo(2);
    assertThat(job.getToProcess()).isEqualTo(2);
    assertThat(job.getFinishedAt()).isEqualTo(NOW + 3000);
    assertThat(endsAnnounced()).containsExactly("job-5");
  }

  @Test
  void shouldKeepTheJobFailedWhenTheRestartedDatumFailsAgain() {
    // Given a failed job and a restart round of its one failed datum
    fixture.jobPart(part("job-6", JobMode.INCREMENTAL, 0, 1, 1, 1));
    fixture.datumResult("job-6", "A", DatumState.FAILED);
    fixture.jobPart(part("job-6", JobMode.FAILED_ONLY, 0, 1, 1, 1));

    // When the restart fails again
    fixture.datumResult(result("job-6", "A", DatumState.FAILED).setRestart(true).build());

    // Then the job counts one failure, not two, and ended again
    Job job = last(jobs.readValuesToList());
    assertThat(job.getState()).isEqualTo(JobState.FAILURE);
    assertThat(job.getFailed()).isEqualTo(1);
    assertThat(endsAnnounced()).hasSize(2);
  }

  @Test
  void shouldKillTheJobWhenItRunsLongerThanItsPipelinesTimeout() {
    // Given a pipeline with a 30 s job timeout and a running job of two datums
    fixture.pipelines.put(PIPELINE, pipeline(30_000L));
    fixture.jobPart(part("job-7", JobMode.INCREMENTAL, 0, 1, 2, 2));
    fixture.datumResult("job-7", "A", DatumState.SUCCESS);
    jobs.readValuesToList();

    // When 20 s pass, then 11 more
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(20));
    assertThat(jobs.isEmpty()).isTrue();
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(11));

    // Then it is killed with the reason, and its end is announced
    Job killed = jobs.readValue();
    assertThat(killed.getState()).isEqualTo(JobState.KILLED);
    assertThat(killed.getError()).isEqualTo("job timeout after 30s");
    assertThat(killed.getProcessed()).isEqualTo(1);
    assertThat(killed.getFinishedAt()).isNotNull();
    assertThat(endsAnnounced()).containsExactly("job-7");

    // When the last result arrives late
    fixture.datumResult("job-7", "B", DatumState.SUCCESS);

    // Then it is ignored
    assertThat(jobs.isEmpty()).isTrue();
    assertThat(endsAnnounced()).isEmpty();
  }

  @Test
  void shouldNotKillTheJobWhenItEndsBeforeItsTimeout() {
    // Given a pipeline with a 30 s job timeout and a job that ends after 10 s
    fixture.pipelines.put(PIPELINE, pipeline(30_000L));
    fixture.jobPart(part("job-8", JobMode.INCREMENTAL, 0, 1, 1, 1));
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(10));
    fixture.datumResult("job-8", "A", DatumState.SUCCESS);
    jobs.readValuesToList();

    // When the timeout passes
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(30));

    // Then nothing more is written
    assertThat(jobs.isEmpty()).isTrue();
    assertThat(endsAnnounced()).hasSize(1);
  }

  @Test
  void shouldAnnounceTheEndWhenARestartOfAnUnknownJobHasAllItsParts() {
    // When both parts of a restart of a job the tracker never saw arrive
    fixture.jobPart(part("job-9", JobMode.FAILED_ONLY, 0, 2, 1, 0));
    fixture.jobPart(part("job-9", JobMode.FAILED_ONLY, 1, 2, 1, 0));

    // Then no job is written, but the member partitions are told it ended
    assertThat(jobs.isEmpty()).isTrue();
    assertThat(endsAnnounced()).containsExactly("job-9");
  }

  /** Jobs whose end was handed to the commit service (seal requests naming the input repo). */
  private List<String> endsAnnounced() {
    return seals.readValuesToList().stream()
        .filter(seal -> !seal.getRepo().isEmpty())
        .map(SealRequest::getJobId)
        .toList();
  }

  private static Job last(List<Job> written) {
    assertThat(written).isNotEmpty();
    return written.get(written.size() - 1);
  }

  private static PipelineSpec pipeline(Long jobTimeoutMs) {
    return PipelineSpec.newBuilder()
        .setName(PIPELINE)
        .setInputRepo(REPO)
        .setTransform(TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("t").build())
        .setParallelism(1)
        .setSpecHash(TopologyFixture.SPEC_HASH)
        .setCreatedAt(0)
        .setJobTimeoutMs(jobTimeoutMs)
        .build();
  }
}
