package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The job tracker (step 6 of the commit protocol) on a {@code TopologyTestDriver}. */
class JobTrackerTest {
  private static final long NOW = Instant.parse("2026-11-26T00:00:00Z").toEpochMilli();

  private TopologyFixture fixture;
  private TestOutputTopic<String, Job> jobs;

  @BeforeEach
  void setUp() {
    fixture = new TopologyFixture();
    jobs = fixture.jobs();
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  @Test
  void shouldCountResultsAndSucceedWhenEveryDatumIsProcessed() {
    // Given a started job with two datums to process
    fixture.jobStart(start("job-1", 5, 2));
    Job started = jobs.readValue();
    assertThat(started.getState()).isEqualTo(JobState.RUNNING);
    assertThat(started.getProcessed()).isZero();

    // When one datum succeeds
    fixture.datumResult("job-1", "A", DatumState.SUCCESS);

    // Then the job runs on with one processed
    Job running = jobs.readValue();
    assertThat(running.getState()).isEqualTo(JobState.RUNNING);
    assertThat(running.getProcessed()).isEqualTo(1);
    assertThat(running.getFinishedAt()).isNull();

    // When the second datum succeeds
    fixture.driver.advanceWallClockTime(Duration.ofSeconds(7));
    fixture.datumResult("job-1", "B", DatumState.SUCCESS);

    // Then the job succeeded, with its counts and finish time
    Job done = jobs.readValue();
    assertThat(done.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(done.getProcessed()).isEqualTo(2);
    assertThat(done.getFailed()).isZero();
    assertThat(done.getTotal()).isEqualTo(5);
    assertThat(done.getSkipped()).isEqualTo(3);
    assertThat(done.getFinishedAt()).isEqualTo(NOW + 7000);
  }

  @Test
  void shouldCountResultsWhenTheyArriveBeforeTheJobStarts() {
    // Given a result of a job whose start has not arrived
    fixture.datumResult("job-2", "A", DatumState.SUCCESS);
    assertThat(jobs.isEmpty()).isTrue();

    // When the start arrives
    fixture.jobStart(start("job-2", 1, 1));

    // Then the job is done with the early result counted
    Job done = jobs.readValue();
    assertThat(done.getState()).isEqualTo(JobState.SUCCESS);
    assertThat(done.getProcessed()).isEqualTo(1);
  }

  @Test
  void shouldFailTheJobWhenAnyDatumFailed() {
    // Given a started job with two datums to process
    fixture.jobStart(start("job-3", 2, 2));

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
  }

  private static Job start(String id, long total, long toProcess) {
    return Job.newBuilder()
        .setId(id)
        .setPipeline(TopologyFixture.PIPELINE)
        .setRepo(TopologyFixture.REPO)
        .setCommitId("c")
        .setGlobalId("c")
        .setState(JobState.RUNNING)
        .setTotal(total)
        .setToProcess(toProcess)
        .setProcessed(0)
        .setSkipped(total - toProcess)
        .setFailed(0)
        .setRecovered(0)
        .setCreatedAt(NOW)
        .setFinishedAt(null)
        .build();
  }
}
