package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.JobState;
import io.tusk.schemas.MemberEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Re-runs and restarts against the real broker: the job is read from {@code tusk.jobs} (written
 * here as the job tracker would), and the job request reaches every by-member partition of the
 * repo.
 */
class JobsIT extends CommitServiceItBase {

  @Test
  void shouldRequestANewJobOnTheSameCommitWhenAJobIsRerun() throws Exception {
    // Given a pipeline, a commit with its job, and the job ended in tusk.jobs
    String repo = createRepo(1, 2);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject commit = seal(repo, null);
    String jobId = commit.getJsonArray("jobs").getJsonObject(0).getString("jobId");
    writeJob(job(jobId, pipeline, repo, commit.getString("id"), JobState.SUCCESS, 0));

    // When it is re-run with reprocess=true, then with reprocess=false
    HttpResponse<Buffer> reprocess = eventuallyAccepted("/jobs/" + jobId + "/rerun?reprocess=true");
    HttpResponse<Buffer> full = post("/jobs/" + jobId + "/rerun", null);

    // Then each answer is 202 with a new job of kind RERUN on the same commit
    JsonObject first = reprocess.bodyAsJsonObject();
    assertThat(first.getString("kind")).isEqualTo("RERUN");
    assertThat(first.getString("mode")).isEqualTo("REPROCESS");
    assertThat(first.getString("rerunOf")).isEqualTo(jobId);
    assertThat(first.getString("commitId")).isEqualTo(commit.getString("id"));
    assertThat(first.getString("repo")).isEqualTo(repo);
    assertThat(first.getString("jobId")).isNotEqualTo(jobId);
    assertThat(full.statusCode()).as(full.bodyAsString()).isEqualTo(202);
    assertThat(full.bodyAsJsonObject().getString("mode")).isEqualTo("FULL");

    // And every by-member partition has both job requests after the seal
    for (List<MemberEvent> events : byMemberEvents(repo, 2).values()) {
      assertThat(events).hasSize(3);
      JobRef rerun = ((JobRequest) events.get(1).getEvent()).getJobs().get(0);
      assertThat(rerun.getJobId()).isEqualTo(first.getString("jobId"));
      assertThat(rerun.getKind()).isEqualTo(JobKind.RERUN);
      assertThat(rerun.getMode()).isEqualTo(JobMode.REPROCESS);
      assertThat(rerun.getRerunOf()).isEqualTo(jobId);
      JobRequest second = (JobRequest) events.get(2).getEvent();
      assertThat(second.getCommit().getId()).isEqualTo(commit.getString("id"));
      assertThat(second.getJobs().get(0).getMode()).isEqualTo(JobMode.FULL);
    }
  }

  @Test
  void shouldRequestTheSameJobForItsFailedDatumsWhenAJobIsRestarted() throws Exception {
    // Given a job that ended with 2 failed datums, one still running, one without failures
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    String commitId = seal(repo, null).getString("id");
    String failed = Ids.newId();
    String running = Ids.newId();
    String clean = Ids.newId();
    writeJob(job(failed, pipeline, repo, commitId, JobState.FAILURE, 2));
    writeJob(job(running, pipeline, repo, commitId, JobState.RUNNING, 1));
    writeJob(job(clean, pipeline, repo, commitId, JobState.SUCCESS, 0));

    // When the failed job is restarted, named by a unique prefix of its ID
    HttpResponse<Buffer> restarted =
        eventuallyAccepted("/jobs/" + failed.substring(0, 10) + "/restart");

    // Then the request carries the same job ID in mode FAILED_ONLY
    JsonObject started = restarted.bodyAsJsonObject();
    assertThat(started.getString("jobId")).isEqualTo(failed);
    assertThat(started.getString("mode")).isEqualTo("FAILED_ONLY");
    assertThat(started.getString("kind")).isEqualTo("COMMIT");
    List<MemberEvent> events = byMemberEvents(repo, 1).get(0);
    JobRef ref = ((JobRequest) events.get(events.size() - 1).getEvent()).getJobs().get(0);
    assertThat(ref.getJobId()).isEqualTo(failed);
    assertThat(ref.getMode()).isEqualTo(JobMode.FAILED_ONLY);

    // And a running job or one without failures cannot restart; unknown jobs are 404s
    eventuallyKnown(running);
    assertError(post("/jobs/" + running + "/restart", null), 409, "is RUNNING");
    eventuallyKnown(clean);
    assertError(post("/jobs/" + clean + "/restart", null), 409, "no failed datums");
    assertError(post("/jobs/" + Ids.newId() + "/restart", null), 404, "no job");
    assertError(post("/jobs/" + Ids.newId() + "/rerun", null), 404, "no job");
    assertError(post("/jobs/not-a-job/rerun", null), 400, "id must be a job ID");
    assertError(post("/jobs/" + failed.substring(0, 5) + "/rerun", null), 400, "too short");
    // And a prefix two jobs share is a 409 listing both
    String shared = Ids.newId().substring(0, 6);
    String twinA = shared + Ids.newId().substring(6);
    String twinB = shared + Ids.newId().substring(6);
    writeJob(job(twinA, pipeline, repo, commitId, JobState.SUCCESS, 0));
    writeJob(job(twinB, pipeline, repo, commitId, JobState.SUCCESS, 0));
    eventuallyKnown(twinA);
    eventuallyKnown(twinB);
    HttpResponse<Buffer> ambiguous = post("/jobs/" + shared + "/rerun", null);
    assertError(ambiguous, 409, "ambiguous");
    assertThat(ambiguous.bodyAsString()).contains(twinA).contains(twinB);
    assertError(post("/jobs/" + failed + "/rerun?reprocess=maybe", null), 400, "reprocess");
  }

  @Test
  void shouldRefuseARerunWhenThePipelineWasDeleted() throws Exception {
    // Given an ended job of a pipeline that was deleted
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject commit = seal(repo, null);
    String jobId = commit.getJsonArray("jobs").getJsonObject(0).getString("jobId");
    writeJob(job(jobId, pipeline, repo, commit.getString("id"), JobState.SUCCESS, 0));
    assertThat(delete("/pipelines/" + pipeline).statusCode()).isEqualTo(204);

    // Then a re-run is a conflict naming the pipeline
    eventuallyKnown(jobId);
    assertError(post("/jobs/" + jobId + "/rerun", null), 409, "was deleted");
  }

  @Test
  void shouldAnswer410WhenAJobBelowTheHistoryFloorIsRerunOrRestarted() throws Exception {
    // Given a repo keeping 1 commit of history, a pipeline, and a failed job on its first commit
    String repo = "it-repo-" + suffix();
    HttpResponse<Buffer> created = post("/repos", repoBody(repo).put("historyRetention", 1));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject first = seal(repo, null);
    String jobId = first.getJsonArray("jobs").getJsonObject(0).getString("jobId");
    writeJob(job(jobId, pipeline, repo, first.getString("id"), JobState.FAILURE, 1));
    eventuallyTracked(first.getString("id"), jobId);

    // When a second commit moves the floor to sequence 2
    seal(repo, null);

    // Then a re-run and a restart of the job are 410s naming its commit and the floor
    for (String action : List.of("rerun?reprocess=true", "rerun", "restart")) {
      HttpResponse<Buffer> refused = post("/jobs/" + jobId + "/" + action, null);
      assertError(
          refused, 410, "commit " + first.getString("id") + " (the input commit of job " + jobId);
      assertThat(refused.bodyAsJsonObject().getString("message"))
          .contains("sequence 1")
          .contains("oldest sequence kept is 2");
    }
  }

  @Test
  void shouldRefuseARestartWhenThePipelineWasUpdatedSinceTheJob() throws Exception {
    // Given a job that failed under the pipeline's current spec
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    HttpResponse<Buffer> created = post("/pipelines", pipelineBody(pipeline, repo));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String specHash = created.bodyAsJsonObject().getString("specHash");
    JsonObject commit = seal(repo, null);
    String jobId = commit.getJsonArray("jobs").getJsonObject(0).getString("jobId");
    writeJob(
        Job.newBuilder(job(jobId, pipeline, repo, commit.getString("id"), JobState.FAILURE, 2))
            .setSpecHash(specHash)
            .build());

    // When it is restarted, then the pipeline is updated (errCmd is part of the spec hash) and the
    // job restarted again
    HttpResponse<Buffer> sameSpec = eventuallyAccepted("/jobs/" + jobId + "/restart");
    HttpResponse<Buffer> updated =
        put("/pipelines/" + pipeline, pipelineBody(pipeline, repo).put("errCmd", List.of("true")));
    HttpResponse<Buffer> afterUpdate = post("/jobs/" + jobId + "/restart", null);

    // Then the first restart ran under the job's spec hash, the second is a 409 that says why
    assertThat(sameSpec.bodyAsJsonObject().getString("specHash")).isEqualTo(specHash);
    assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
    assertThat(updated.bodyAsJsonObject().getString("specHash")).isNotEqualTo(specHash);
    assertError(afterUpdate, 409, "was updated since job " + jobId);
    assertThat(afterUpdate.bodyAsJsonObject().getString("message"))
        .contains("UPDATE job reprocessed every member")
        .contains("rerun the job");
  }

  /** POSTs until the service's view has the job (404 before), then expects 202. */
  private static HttpResponse<Buffer> eventuallyAccepted(String path) {
    HttpResponse<Buffer> response =
        eventually(() -> postNow(path), r -> r.statusCode() != 404, "POST " + path);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response;
  }

  /**
   * Waits until the service's view of {@code tusk.jobs} has a job that cannot restart (the probe, a
   * restart, must have no effect).
   */
  private static void eventuallyKnown(String jobId) {
    eventually(
        () -> postNow("/jobs/" + jobId + "/restart").statusCode(),
        status -> status != 404,
        "job " + jobId + " known");
  }

  /** Waits until the service's view of {@code tusk.jobs} has a job, reading its commit. */
  private static void eventuallyTracked(String commitId, String jobId) {
    eventually(
        () -> get("/commits/" + commitId).bodyAsJsonObject().getJsonArray("jobs"),
        jobs ->
            jobs.stream()
                .map(JsonObject.class::cast)
                .anyMatch(j -> jobId.equals(j.getString("jobId")) && j.getString("state") != null),
        "job " + jobId + " known");
  }

  private static HttpResponse<Buffer> postNow(String path) {
    try {
      return post(path, null);
    } catch (Exception e) {
      throw new IllegalStateException("POST " + path + " failed", e);
    }
  }

  static Job job(
      String id, String pipeline, String repo, String commitId, JobState state, long failed) {
    return Job.newBuilder()
        .setId(id)
        .setPipeline(pipeline)
        .setRepo(repo)
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setState(state)
        .setTotal(5)
        .setToProcess(5)
        .setProcessed(5 - failed)
        .setSkipped(0)
        .setFailed(failed)
        .setCreatedAt(System.currentTimeMillis())
        .setSpecHash("")
        .build();
  }

  /** Writes a job to {@code tusk.jobs} as the job tracker does. */
  static void writeJob(Job job) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-tracker-" + suffix(), null))) {
      producer
          .send(
              new ProducerRecord<>(
                  topics.jobs.name(), topics.jobs.key(job.getId()), topics.jobs.value(job)))
          .get(30, TimeUnit.SECONDS);
    }
  }
}
