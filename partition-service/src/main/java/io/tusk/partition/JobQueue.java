package io.tusk.partition;

import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.Seal;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs on the member side (docs/versioning-and-processing.md "Jobs on the member side"): a seal's
 * jobs and the job requests of branch moves, re-runs, restarts and pipeline updates join a
 * per-pipeline queue in arrival order, which is the same in every member partition (one transaction
 * wrote each to all of them), so every partition runs a pipeline's jobs in the same order. The
 * queue's head is emitted ({@link DatumEmission}) once its commit is complete here and the
 * pipeline's previous job has ended ({@link JobDone}): jobs of one pipeline never overlap, so a
 * job's outputs are an exact offset cut of {@code <pipeline>.output}. Datum outcomes ({@link
 * DatumDone}) update the datum states the emission decides with.
 */
final class JobQueue {
  private static final Logger log = LoggerFactory.getLogger(JobQueue.class);

  private final MemberTask task;
  private final DatumEmission emission;
  private final Erasures erasures;

  JobQueue(MemberTask task, DatumEmission emission, Erasures erasures) {
    this.task = task;
    this.emission = emission;
    this.erasures = erasures;
  }

  /** Queues the jobs a seal starts. */
  void onSeal(String repo, Seal seal) {
    for (JobRef job : seal.getCommit().getJobs()) {
      enqueue(repo, seal.getCommit(), job, seal.getMemberPartitions());
    }
  }

  /** Queues the jobs of a request over an existing commit. */
  void onJobRequest(String repo, JobRequest request) {
    for (JobRef job : request.getJobs()) {
      enqueue(repo, request.getCommit(), job, request.getMemberPartitions());
    }
  }

  /** Appends a job to its pipeline's queue, unless the same job (and mode) is queued already. */
  private void enqueue(String repo, Commit commit, JobRef job, int memberPartitions) {
    Bytes key = StoreKeys.named(repo, job.getPipeline());
    PipelineJobs jobs = task.stores.pipelineJobs().get(key);
    if (jobs == null) {
      jobs = PipelineJobs.EMPTY;
    }
    for (long n = jobs.head(); n < jobs.tail(); n++) {
      JobRequest queued = task.stores.jobQueue().get(StoreKeys.queued(repo, job.getPipeline(), n));
      if (queued != null
          && queued.getJobs().get(0).getJobId().equals(job.getJobId())
          && queued.getJobs().get(0).getMode() == job.getMode()) {
        log.debug("Job {} is queued already; ignored", job.getJobId());
        return;
      }
    }
    task.stores
        .jobQueue()
        .put(
            StoreKeys.queued(repo, job.getPipeline(), jobs.tail()),
            JobRequest.newBuilder()
                .setCommit(commit)
                .setJobs(List.of(job))
                .setMemberPartitions(memberPartitions)
                .build());
    task.stores.pipelineJobs().put(key, jobs.enqueued());
  }

  /** Records a datum's outcome in the member's datum state. */
  void onDatumDone(String repo, String member, DatumDone done) {
    if (erasures.onDatumDone(repo, member, done)) {
      return; // an erased member's state is deleted, not recorded
    }
    Bytes key = StoreKeys.pipelineMember(repo, done.getPipeline(), member);
    DatumStatus status = task.stores.datumStates().get(key);
    DatumStatus next =
        (status == null ? DatumStatus.none() : status)
            .done(done.getDatumHash(), done.getJobId(), done.getSucceeded(), done.getOutputHash());
    task.stores.datumStates().put(key, next);
    // The member stays among those whose last datum did not succeed (retried by the next job)
    // until the datum last emitted succeeds; a late success of an older one does not count.
    if (next.state() == DatumStatus.State.SUCCEEDED) {
      StoreKeys.drop(task.stores.failedDatums(), key);
    } else {
      task.stores.failedDatums().put(key, next.jobId());
    }
  }

  /**
   * Ends the pipeline's running job. A restart (FAILED_ONLY) keeps its job's ID, so the end of
   * round 0 (the job's first end, maybe announced again) never ends a restart, nor a restart's end
   * a first run.
   */
  void onJobDone(String repo, JobDone done) {
    Bytes key = StoreKeys.named(repo, done.getPipeline());
    PipelineJobs jobs = task.stores.pipelineJobs().get(key);
    if (jobs == null || jobs.isEmpty() || jobs.state() == PipelineJobs.State.WAITING) {
      log.debug("End of job {} that is not running here ignored", done.getJobId());
      return;
    }
    Bytes head = StoreKeys.queued(repo, done.getPipeline(), jobs.head());
    JobRequest running = task.stores.jobQueue().get(head);
    if (running == null || !running.getJobs().get(0).getJobId().equals(done.getJobId())) {
      log.debug("End of job {} that is not running here ignored", done.getJobId());
      return;
    }
    boolean restart = running.getJobs().get(0).getMode() == JobMode.FAILED_ONLY;
    if (restart != done.getRound() > 0) {
      log.debug(
          "End of round {} of job {} is not the running round; ignored",
          done.getRound(),
          done.getJobId());
      return;
    }
    StoreKeys.drop(task.stores.jobQueue(), head);
    task.stores.pipelineJobs().put(key, jobs.next());
  }

  /** The smallest commit sequence of the repo's queued jobs (Long.MAX_VALUE: none). */
  long oldestQueuedCommit(String repo) {
    long oldest = Long.MAX_VALUE;
    Bytes prefix = StoreKeys.repo(repo);
    try (KeyValueIterator<Bytes, JobRequest> all =
        task.stores.jobQueue().range(prefix, StoreKeys.upperBound(prefix))) {
      while (all.hasNext()) {
        oldest = Math.min(oldest, all.next().value.getCommit().getSequence());
      }
    }
    return oldest;
  }

  /** Starts and emits the queued jobs of the repo's pipelines, within the budget. */
  void run(String repo, Progress progress, Budget budget) {
    List<KeyValue<Bytes, PipelineJobs>> all = new ArrayList<>();
    Bytes prefix = StoreKeys.repo(repo);
    try (KeyValueIterator<Bytes, PipelineJobs> it =
        task.stores.pipelineJobs().range(prefix, StoreKeys.upperBound(prefix))) {
      it.forEachRemaining(all::add);
    }
    for (KeyValue<Bytes, PipelineJobs> kv : all) {
      String pipeline = StoreKeys.decodeName(kv.key);
      PipelineJobs jobs = kv.value;
      while (!budget.exhausted() && !jobs.isEmpty()) {
        JobRequest head = task.stores.jobQueue().get(StoreKeys.queued(repo, pipeline, jobs.head()));
        if (head == null) {
          log.error("Queue of pipeline {} lost entry {}; skipped", pipeline, jobs.head());
          jobs = jobs.next();
          continue;
        }
        if (jobs.state() == PipelineJobs.State.WAITING) {
          if (head.getCommit().getSequence() > progress.lastCompleted()) {
            break;
          }
          jobs = emission.start(repo, head, jobs, progress);
        }
        if (jobs.state() == PipelineJobs.State.EMITTING) {
          jobs = emission.run(repo, head, jobs, progress, budget);
        }
        if (jobs.state() == PipelineJobs.State.RUNNING) {
          break;
        }
      }
      if (!jobs.equals(kv.value)) {
        task.stores.pipelineJobs().put(kv.key, jobs);
      }
    }
  }
}
