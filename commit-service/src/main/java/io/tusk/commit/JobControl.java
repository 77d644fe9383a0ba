package io.tusk.commit;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.JobRefs;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Future;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs started on an existing commit of a finished job: re-runs (a new job over the same input
 * commit) and restarts (the failed datums of the same job again). Both are {@code JobRequest}s
 * written by {@link CommitSealer#requestJobs}, queued with the repo's other changes.
 */
final class JobControl {
  private static final Logger log = LoggerFactory.getLogger(JobControl.class);
  private static final Set<JobState> ENDED =
      Set.of(JobState.SUCCESS, JobState.FAILURE, JobState.KILLED);

  private final ControlPlane control;
  private final JobIndex jobs;

  JobControl(ControlPlane control, JobIndex jobs) {
    this.control = control;
    this.jobs = jobs;
  }

  /**
   * The job a reference names (its ID or a unique prefix, {@link JobRefs}): 400 for a malformed or
   * too short one, 404 for an unknown one, 409 for an ambiguous prefix.
   */
  Job job(String ref) {
    String checked = JobRefs.resolve("id", ref, jobs::idsWithPrefix);
    return jobs.get(checked)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "no job '"
                        + checked
                        + "' (a job is known once the partition service has started it)"));
  }

  /**
   * The job a reference names, if it names exactly one known job (nothing thrown: for access
   * decisions).
   */
  java.util.Optional<Job> find(String ref) {
    return JobRefs.find(ref, jobs::idsWithPrefix).flatMap(jobs::get);
  }

  /** The jobs whose input commit is {@code commitId}, oldest first. */
  List<Job> ofCommit(String commitId) {
    return jobs.ofCommit(commitId);
  }

  /**
   * Re-runs a job: a new job (kind RERUN) of its pipeline over its input commit, REPROCESS (every
   * member, outputs compared with the earlier ones) or FULL (only datums without a success). 410
   * when the job's commit is below the history floor.
   */
  Future<ControlPlane.StartedJob> rerun(String id, boolean reprocess) {
    Job job = job(id);
    target(job);
    return control.tasks.submit(
        ControlPlane.repoQueue(job.getRepo()),
        () -> {
          Target target = target(job);
          JobRef ref =
              JobRef.newBuilder(
                      ControlPlane.jobRef(
                          target.pipeline(),
                          JobKind.RERUN,
                          reprocess ? JobMode.REPROCESS : JobMode.FULL))
                  .setRerunOf(job.getId())
                  .build();
          control.sealer.requestJobs(target.repo(), target.commit(), List.of(ref));
          log.info("Job {} re-runs job {} ({})", ref.getJobId(), job.getId(), ref.getMode());
          return new ControlPlane.StartedJob(job.getRepo(), job.getCommitId(), ref);
        });
  }

  /**
   * Restarts the failed datums of an ended job: the same job ID, mode FAILED_ONLY. 409 unless the
   * job has ended with failed datums and its pipeline's spec is still the one it ran; 410 when its
   * commit is below the history floor.
   */
  Future<ControlPlane.StartedJob> restart(String id) {
    Job requested = job(id);
    requireRestartable(requested);
    requireSameSpec(requested, target(requested).pipeline());
    return control.tasks.submit(
        ControlPlane.repoQueue(requested.getRepo()),
        () -> {
          Job job = job(requested.getId());
          requireRestartable(job);
          Target target = target(job);
          requireSameSpec(job, target.pipeline());
          // Jobs recorded before spec hashes were kept have none: they run the current spec.
          String specHash =
              job.getSpecHash().isEmpty() ? target.pipeline().getSpecHash() : job.getSpecHash();
          JobRef ref =
              JobRef.newBuilder()
                  .setPipeline(job.getPipeline())
                  .setJobId(job.getId())
                  .setSpecHash(specHash)
                  .setKeptSpecHashes(target.pipeline().getKeptSpecHashes())
                  .setKind(job.getKind())
                  .setMode(JobMode.FAILED_ONLY)
                  .setRerunOf(job.getRerunOf())
                  .build();
          control.sealer.requestJobs(target.repo(), target.commit(), List.of(ref));
          log.info("Restarting {} failed datums of job {}", job.getFailed(), job.getId());
          return new ControlPlane.StartedJob(job.getRepo(), job.getCommitId(), ref);
        });
  }

  /** What a job request for {@code job} needs: its pipeline as it is now, its repo and commit. */
  private record Target(PipelineSpec pipeline, RepoSpec repo, Commit commit) {}

  private Target target(Job job) {
    PipelineSpec pipeline =
        control
            .pipelines
            .get(job.getPipeline())
            .orElseThrow(
                () ->
                    ApiException.conflict(
                        "pipeline '"
                            + job.getPipeline()
                            + "' of job "
                            + job.getId()
                            + " was deleted"));
    if (!pipeline.getInputRepo().equals(job.getRepo())) {
      throw ApiException.conflict(
          "pipeline '"
              + pipeline.getName()
              + "' now reads repo '"
              + pipeline.getInputRepo()
              + "', not the job's repo '"
              + job.getRepo()
              + "'");
    }
    RepoSpec repo = control.repo(job.getRepo());
    Commit commit =
        control
            .commits
            .get(job.getCommitId())
            .orElseThrow(
                () ->
                    ApiException.conflict(
                        "commit " + job.getCommitId() + " of job " + job.getId() + " is unknown"));
    control.requireKept(commit, "the input commit of job " + job.getId());
    return new Target(pipeline, repo, commit);
  }

  /**
   * A restart re-runs datums into the same job, whose outputs are recorded under its spec hash: 409
   * once the pipeline runs another spec.
   */
  private static void requireSameSpec(Job job, PipelineSpec pipeline) {
    if (!job.getSpecHash().isEmpty() && !job.getSpecHash().equals(pipeline.getSpecHash())) {
      throw ApiException.conflict(
          "pipeline '"
              + pipeline.getName()
              + "' was updated since job "
              + job.getId()
              + " ran (spec hash "
              + job.getSpecHash()
              + ", now "
              + pipeline.getSpecHash()
              + "): its UPDATE job reprocessed every member; to run this job's commit again,"
              + " rerun the job");
    }
  }

  private static void requireRestartable(Job job) {
    if (!ENDED.contains(job.getState())) {
      throw ApiException.conflict(
          "job " + job.getId() + " is " + job.getState() + "; only an ended job can restart");
    }
    if (job.getFailed() == 0) {
      throw ApiException.conflict("job " + job.getId() + " has no failed datums to restart");
    }
  }
}
