package io.tusk.partition;

import io.tusk.schemas.DatumResult;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.SealRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job tracker (docs/versioning-and-processing.md): merges {@code tusk.job-parts} and {@code
 * tusk.datum-results} (same key, job ID, and same partition count, so no repartitioning). A job
 * exists once the parts of all its member partitions are in; its results count as processed
 * (SUCCESS), failed (FAILED) or recovered (RECOVERED), and a result flagged {@code restart}
 * supersedes an earlier FAILED of the same member in the same job. The job ends when every datum
 * has a result (SUCCESS when none failed, else FAILURE), or is KILLED once its pipeline's {@code
 * jobTimeoutMs} has passed (later results are then ignored). Every change goes to {@code
 * tusk.jobs}; an end also writes a {@link SealRequest} to {@code tusk.seal-requests}: the commit
 * service seals the pipeline's output commits and then announces the end to the member partitions
 * (JobDone), so the pipeline's next job starts only after the output commits are cut.
 *
 * <p>A FAILED_ONLY re-run of an ended job sends parts of its own (a restart round): once they are
 * all in and the round's results counted, the job ends again with its updated counts.
 */
final class JobTracker implements Processor<String, Object, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(JobTracker.class);

  private final Function<String, Optional<PipelineSpec>> pipelines;
  private final Duration interval;
  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, JobPart> parts;
  private KeyValueStore<String, JobProgress> jobs;
  private KeyValueStore<Bytes, Long> failedMembers;
  private KeyValueStore<String, Long> deadlines;

  JobTracker(Function<String, Optional<PipelineSpec>> pipelines, Duration interval) {
    this.pipelines = Objects.requireNonNull(pipelines, "pipelines");
    this.interval = Objects.requireNonNull(interval, "interval");
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    parts = context.getStateStore(PartitionStores.JOB_PARTS);
    jobs = context.getStateStore(PartitionStores.JOB_PROGRESS);
    failedMembers = context.getStateStore(PartitionStores.JOB_FAILED_MEMBERS);
    deadlines = context.getStateStore(PartitionStores.JOB_DEADLINES);
    // Timeouts are wall-clock: a job whose datums never come back must end without new input.
    context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, this::killExpired);
  }

  @Override
  public void process(Record<String, Object> record) {
    String jobId = record.key();
    if (jobId == null || record.value() == null) {
      log.warn("Job part or datum result without job ID or value ignored");
      return;
    }
    JobProgress progress = jobs.get(jobId);
    if (progress == null) {
      progress = JobProgress.EMPTY;
    }
    if (record.value() instanceof JobPart part) {
      onPart(jobId, progress, part);
    } else if (record.value() instanceof DatumResult result) {
      onResult(jobId, progress, result);
    } else {
      log.warn("Unexpected value for job {} ignored", jobId);
    }
  }

  private void onPart(String jobId, JobProgress progress, JobPart part) {
    int partitions = part.getMemberPartitions();
    int partition = part.getMemberPartition();
    if (partition < 0 || partition >= partitions) {
      log.error(
          "Part of job {} names member partition {} of {}; ignored", jobId, partition, partitions);
      return;
    }
    boolean restart = part.getJob().getMode() == JobMode.FAILED_ONLY;
    if (!restart && progress.job() != null) {
      log.debug("Part {} of existing job {} ignored", partition, jobId);
      return;
    }
    if (restart && progress.job() != null && !progress.ended()) {
      log.error("Restart part {} of job {} that has not ended; ignored", partition, jobId);
      return;
    }
    Bytes key = StoreKeys.jobPart(jobId, restart, partition);
    if (parts.get(key) != null) {
      log.debug("Duplicate part {} of job {} ignored", partition, jobId);
      return;
    }
    parts.put(key, part);
    List<KeyValue<Bytes, JobPart>> collected = new ArrayList<>();
    Bytes prefix = StoreKeys.jobParts(jobId, restart);
    try (KeyValueIterator<Bytes, JobPart> all = parts.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(collected::add);
    }
    if (collected.size() < partitions) {
      return;
    }
    collected.forEach(kv -> parts.delete(kv.key));
    long now = context.currentSystemTimeMs();
    if (restart) {
      long toProcess = collected.stream().mapToLong(kv -> kv.value.getToProcess()).sum();
      JobProgress round = progress.withRestartRound(toProcess);
      if (progress.job() == null) {
        // A restart of a job never seen here: nothing to count, but the member partitions wait
        // for its end before they run the pipeline's next job.
        log.error("Restart of unknown job {} ({} datums) is not tracked", jobId, toProcess);
        jobs.put(jobId, round.withoutRestartRound());
        forwardEnd(part.getRepo(), part.getJob().getPipeline(), jobId, part.getGlobalId(), 1, now);
        return;
      }
      if (progress.job().getState() == JobState.KILLED) {
        // A killed job stays killed; the re-run's end is still announced so the member
        // partitions move on.
        Job killed = progress.job();
        jobs.put(jobId, round.withoutRestartRound());
        forwardEnd(
            killed.getRepo(),
            killed.getPipeline(),
            jobId,
            killed.getGlobalId(),
            round.restartRounds(),
            now);
        return;
      }
      log.info(
          "Job {} restarts {} failed datums (round {})", jobId, toProcess, round.restartRounds());
      settle(jobId, round, now);
    } else {
      Job job = create(jobId, collected, now);
      pipelines
          .apply(job.getPipeline())
          .map(PipelineSpec::getJobTimeoutMs)
          .filter(timeout -> timeout != null && timeout > 0)
          .ifPresent(timeout -> deadlines.put(jobId, job.getCreatedAt() + timeout));
      settle(jobId, progress.withJob(job), now);
    }
  }

  /** The job as created from its parts: counts summed, identity from the job reference. */
  private static Job create(String jobId, List<KeyValue<Bytes, JobPart>> collected, long now) {
    JobPart first = collected.get(0).value;
    JobRef ref = first.getJob();
    long total = 0;
    long toProcess = 0;
    long createdAt = now;
    String error = null;
    for (KeyValue<Bytes, JobPart> kv : collected) {
      total += kv.value.getTotal();
      toProcess += kv.value.getToProcess();
      createdAt = Math.min(createdAt, kv.value.getCreatedAt());
      if (error == null) {
        error = kv.value.getError();
      }
    }
    return Job.newBuilder()
        .setId(jobId)
        .setPipeline(ref.getPipeline())
        .setRepo(first.getRepo())
        .setCommitId(first.getCommitId())
        .setGlobalId(first.getGlobalId())
        .setState(JobState.RUNNING)
        .setTotal(total)
        .setToProcess(toProcess)
        .setProcessed(0)
        .setSkipped(Math.max(0, total - toProcess))
        .setFailed(0)
        .setRecovered(0)
        .setCreatedAt(createdAt)
        .setFinishedAt(null)
        .setKind(ref.getKind())
        .setMode(ref.getMode())
        .setRerunOf(ref.getRerunOf())
        .setSequence(first.getSequence())
        .setSpecHash(ref.getSpecHash())
        .setError(error)
        .build();
  }

  private void onResult(String jobId, JobProgress progress, DatumResult result) {
    if (progress.job() != null && progress.job().getState() == JobState.KILLED) {
      log.debug("Result of killed job {} ignored", jobId);
      return;
    }
    long processed = progress.processed();
    long failed = progress.failed();
    long recovered = progress.recovered();
    long restartResults = progress.restartResults();
    Bytes member = StoreKeys.jobMember(jobId, result.getMember());
    if (result.getRestart()) {
      restartResults++;
      if (failedMembers.get(member) != null) {
        StoreKeys.drop(failedMembers, member);
        failed--;
      } else {
        log.warn("Restart result of job {} supersedes no earlier failure of its member", jobId);
      }
    }
    switch (result.getState()) {
      case SUCCESS -> processed++;
      case RECOVERED -> recovered++;
      case FAILED -> {
        failed++;
        failedMembers.put(member, 1L);
      }
    }
    long identical = progress.identical();
    long different = progress.different();
    if (result.getIdentical() != null) {
      if (result.getIdentical()) {
        identical++;
      } else {
        different++;
      }
    }
    JobProgress counted =
        progress.withCounts(processed, failed, recovered, identical, different, restartResults);
    settle(jobId, counted, context.currentSystemTimeMs());
  }

  /**
   * Stores the progress and, once the job exists, writes it with its live counts; ends it when
   * every datum has a result (or its restart round is complete).
   */
  private void settle(String jobId, JobProgress progress, long now) {
    Job job = progress.job();
    if (job == null) {
      jobs.put(jobId, progress);
      return;
    }
    boolean ends;
    if (!progress.ended()) {
      ends = progress.done() >= job.getToProcess();
    } else {
      ends = progress.restartRoundDone();
      if (ends) {
        progress = progress.withoutRestartRound();
      }
    }
    Job.Builder updated =
        Job.newBuilder(job)
            .setProcessed(progress.processed())
            .setFailed(progress.failed())
            .setRecovered(progress.recovered())
            .setIdentical(progress.identical())
            .setDifferent(progress.different());
    if (ends || progress.ended()) {
      // A part that could not run (e.g. its commit was pruned) fails the job with its error.
      boolean failed = progress.failed() > 0 || job.getError() != null;
      updated.setState(failed ? JobState.FAILURE : JobState.SUCCESS);
    }
    if (ends) {
      updated.setFinishedAt(now);
    }
    Job written = updated.build();
    jobs.put(jobId, progress.withJob(written));
    context.forward(new Record<>(jobId, written, now), PartitionSinks.JOBS);
    if (ends) {
      StoreKeys.drop(deadlines, jobId);
      end(written, progress.ended() ? progress.restartRounds() : 0, now);
    }
  }

  /** Announces the end of the job (round 0) or of its restart round {@code round}. */
  private void end(Job job, int round, long now) {
    log.info(
        "Job {} of pipeline {} ended {}: {} processed, {} failed, {} recovered, {} skipped",
        job.getId(),
        job.getPipeline(),
        job.getState(),
        job.getProcessed(),
        job.getFailed(),
        job.getRecovered(),
        job.getSkipped());
    forwardEnd(job.getRepo(), job.getPipeline(), job.getId(), job.getGlobalId(), round, now);
  }

  /**
   * A {@link SealRequest}: the commit service seals the pipeline's output commits, then tells the
   * job's member partitions that it ended.
   */
  private void forwardEnd(
      String repo, String pipeline, String jobId, String globalId, int round, long now) {
    SealRequest seal =
        SealRequest.newBuilder()
            .setPipeline(pipeline)
            .setJobId(jobId)
            .setGlobalId(globalId)
            .setRepo(repo)
            .setRequestedAt(now)
            .setRound(round)
            .build();
    context.forward(new Record<>(jobId, seal, now), PartitionSinks.SEAL_REQUESTS);
  }

  /** Kills every running job whose deadline has passed. */
  private void killExpired(long now) {
    List<KeyValue<String, Long>> expired = new ArrayList<>();
    try (KeyValueIterator<String, Long> all = deadlines.all()) {
      all.forEachRemaining(
          kv -> {
            if (kv.value <= now) {
              expired.add(kv);
            }
          });
    }
    for (KeyValue<String, Long> kv : expired) {
      StoreKeys.drop(deadlines, kv.key);
      JobProgress progress = jobs.get(kv.key);
      if (progress == null || progress.job() == null || progress.ended()) {
        continue;
      }
      Job job = progress.job();
      long timeout = kv.value - job.getCreatedAt();
      Job killed =
          Job.newBuilder(job)
              .setState(JobState.KILLED)
              .setFinishedAt(now)
              .setError("job timeout after " + describe(timeout))
              .build();
      jobs.put(kv.key, progress.withJob(killed));
      context.forward(new Record<>(kv.key, killed, now), PartitionSinks.JOBS);
      end(killed, progress.restartOpen() ? progress.restartRounds() : 0, now);
    }
  }

  private static String describe(long millis) {
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }
}
