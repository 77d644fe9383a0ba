package io.tusk.partition;

import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 6 of the commit protocol: merges {@code tusk.job-starts} and {@code tusk.datum-results}
 * (same key, job ID, and same partition count, so no repartitioning) into each job's counts, and
 * writes the job to {@code tusk.jobs} on every change. Results that arrive before their job's start
 * are counted and kept until it arrives.
 */
final class JobTracker implements Processor<String, Object, String, Job> {
  private static final Logger log = LoggerFactory.getLogger(JobTracker.class);

  private ProcessorContext<String, Job> context;
  private KeyValueStore<String, JobProgress> jobs;

  @Override
  public void init(ProcessorContext<String, Job> context) {
    this.context = context;
    jobs = context.getStateStore(PartitionTopology.JOB_PROGRESS_STORE);
  }

  @Override
  public void process(Record<String, Object> record) {
    String jobId = record.key();
    if (jobId == null || record.value() == null) {
      log.warn("Job start or datum result without job ID or value ignored");
      return;
    }
    JobProgress progress = jobs.get(jobId);
    if (progress == null) {
      progress = JobProgress.EMPTY;
    }
    if (record.value() instanceof Job start) {
      if (progress.start() != null) {
        log.debug("Duplicate start of job {} ignored", jobId);
        return;
      }
      progress = progress.withStart(start);
    } else if (record.value() instanceof DatumResult result) {
      progress = progress.withResult(result.getState() == DatumState.SUCCESS);
    } else {
      log.warn("Unexpected value for job {} ignored", jobId);
      return;
    }
    long now = context.currentSystemTimeMs();
    Job job = progress.start() == null ? null : current(progress, now);
    if (job != null && job.getFinishedAt() != null && progress.finishedAt() == null) {
      progress = progress.finished(job.getFinishedAt());
      log.info(
          "Job {} of pipeline {} finished {}: {} processed, {} failed, {} skipped",
          jobId,
          job.getPipeline(),
          job.getState(),
          job.getProcessed(),
          job.getFailed(),
          job.getSkipped());
    }
    jobs.put(jobId, progress);
    if (job != null) {
      context.forward(new Record<>(jobId, job, now));
    }
  }

  /**
   * The job with its live counts: done once processed + failed reaches toProcess, SUCCESS when no
   * datum failed, FAILURE otherwise. A job that was done stays done with its first finish time.
   */
  static Job current(JobProgress progress, long now) {
    Job start = progress.start();
    long processed = progress.processed();
    long failed = progress.failed();
    boolean done = processed + failed >= start.getToProcess();
    JobState state = done ? (failed == 0 ? JobState.SUCCESS : JobState.FAILURE) : start.getState();
    Long finishedAt = null;
    if (done) {
      if (progress.finishedAt() != null) {
        finishedAt = progress.finishedAt();
      } else if (start.getFinishedAt() != null) {
        finishedAt = start.getFinishedAt();
      } else {
        finishedAt = now;
      }
    }
    return Job.newBuilder(start)
        .setProcessed(processed)
        .setFailed(failed)
        .setState(state)
        .setFinishedAt(finishedAt)
        .build();
  }
}
