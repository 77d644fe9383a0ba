package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.T0;
import static io.tusk.lineage.Fixtures.completedCommit;
import static io.tusk.lineage.Fixtures.datumResult;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.outputCommit;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.JobState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Jobs, their datums and logs, commits by repo, global IDs and the catalog over HTTP. */
class JobsApiTest extends ApiTestBase {

  @Test
  void shouldAnswerAJobByUniquePrefixAsByItsIdWhenPrefixIsLongEnough() throws Exception {
    // Given two jobs whose IDs share their first six characters, one with a datum
    String a = "3f9a2c" + "0".repeat(25) + "1";
    String b = "3f9a2c" + "1".repeat(25) + "2";
    pipe(topics.jobs, a, job(a, Ids.newId(), "risk", JobState.SUCCESS, 3));
    pipe(topics.jobs, b, job(b, Ids.newId(), "risk", JobState.RUNNING, 1));
    pipe(topics.datumResults, a, datumResult(a, "m1", DatumState.SUCCESS, "log m1", false));

    // When each is asked for by a unique prefix / Then the answer is the full ID's
    assertThat(json("/jobs/3f9a2c0")).isEqualTo(json("/jobs/" + a));
    assertThat(json("/jobs/3f9a2c1").getString("id")).isEqualTo(b);
    assertThat(json("/jobs/3f9a2c00/datums")).isEqualTo(json("/jobs/" + a + "/datums"));
    assertThat(json("/jobs/3f9a2c00/datums/m1/logs").getString("log")).isEqualTo("log m1");
    assertThat(json("/jobs/3f9a2c00/logs")).isEqualTo(json("/jobs/" + a + "/logs"));

    // When the shared prefix is asked for / Then 409 listing both, in ID order
    assertError(get("/jobs/3f9a2c"), 409, "conflict", a + ", " + b);
    // And a prefix under six characters is a 400, one no job starts with a 404
    assertError(get("/jobs/3f9a2"), 400, "bad_request", "too short");
    assertError(get("/jobs/abcdef12"), 404, "not_found", "abcdef12");
  }

  @Test
  void shouldPageDatumsByMemberAndFilterByStateWhenFailedDatumIsRestarted() throws Exception {
    // Given a job with three successes and two failures, one of which was restarted and succeeded
    String jobId = Ids.newId();
    pipe(topics.jobs, jobId, job(jobId, Ids.newId(), "risk", JobState.RUNNING, 3));
    for (String member : List.of("a", "b", "c")) {
      pipe(topics.datumResults, jobId, datumResult(jobId, member, DatumState.SUCCESS, null, false));
    }
    pipe(topics.datumResults, jobId, datumResult(jobId, "d", DatumState.FAILED, "boom d", false));
    pipe(topics.datumResults, jobId, datumResult(jobId, "e", DatumState.FAILED, "boom e", false));
    pipe(topics.datumResults, jobId, datumResult(jobId, "e", DatumState.SUCCESS, "ok e", true));

    // When the failed datums are asked for
    JsonObject failed = json("/jobs/" + jobId + "/datums?state=failed");

    // Then only the one still failed is listed, with its fields
    assertThat(failed.getJsonArray("datums")).hasSize(1);
    JsonObject d = failed.getJsonArray("datums").getJsonObject(0);
    assertThat(d.getString("member")).isEqualTo("d");
    assertThat(d.getString("state")).isEqualTo("FAILED");
    assertThat(d.getInteger("attempts")).isEqualTo(3);
    assertThat(d.getString("error")).isEqualTo("exit code 1");
    assertThat(d.getLong("durationMicros")).isEqualTo(1500L);
    assertThat(d.getString("processorId")).isEqualTo("processor-1");
    assertThat(d.getBoolean("restart")).isFalse();
    assertThat(d.getString("datumHash")).isEqualTo("datum-d");
    assertThat(failed.getValue("next")).isNull();
    // And the restarted one counts as a success
    JsonArray succeeded = json("/jobs/" + jobId + "/datums?state=SUCCESS").getJsonArray("datums");
    assertThat(members(succeeded)).containsExactly("a", "b", "c", "e");
    assertThat(succeeded.getJsonObject(3).getBoolean("restart")).isTrue();

    // When all datums are paged two at a time / Then every member comes once, in order
    List<String> paged = new ArrayList<>();
    String next = null;
    int pages = 0;
    do {
      JsonObject page =
          json("/jobs/" + jobId + "/datums?limit=2" + (next == null ? "" : "&after=" + next));
      paged.addAll(members(page.getJsonArray("datums")));
      next = page.getString("next");
      pages++;
    } while (next != null);
    assertThat(paged).containsExactly("a", "b", "c", "d", "e");
    assertThat(pages).isEqualTo(3);
  }

  @Test
  void shouldAnswerDatumLogAndBoundedJobLogsWhenDatumsHaveLogs() throws Exception {
    // Given a job whose datums logged, except one
    String jobId = Ids.newId();
    pipe(topics.datumResults, jobId, datumResult(jobId, "a", DatumState.SUCCESS, "log a", false));
    pipe(topics.datumResults, jobId, datumResult(jobId, "b", DatumState.SUCCESS, null, false));
    pipe(topics.datumResults, jobId, datumResult(jobId, "c", DatumState.FAILED, "log c", false));

    // When one datum's log is asked for / Then it is answered
    JsonObject log = json("/jobs/" + jobId + "/datums/c/logs");
    assertThat(log.getString("log")).isEqualTo("log c");
    assertThat(log.getString("state")).isEqualTo("FAILED");

    // When the job's logs are asked for one at a time / Then the logged datums come in pages
    JsonObject first = json("/jobs/" + jobId + "/logs?limit=1");
    assertThat(first.getJsonArray("logs")).hasSize(1);
    assertThat(first.getJsonArray("logs").getJsonObject(0).getString("log")).isEqualTo("log a");
    JsonObject second = json("/jobs/" + jobId + "/logs?limit=1&after=" + first.getString("next"));
    assertThat(second.getJsonArray("logs").getJsonObject(0).getString("member")).isEqualTo("c");
    assertThat(second.getValue("next")).isNull();
    // And a datum that does not exist is a 404
    assertError(get("/jobs/" + jobId + "/datums/zz/logs"), 404, "not_found", "no datum");
  }

  @Test
  void shouldListRecentJobsNewestFirstPerPipelineAndOverall() throws Exception {
    // Given three jobs of risk and one of cost, created one after the other
    List<String> riskJobs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String id = Ids.newId();
      riskJobs.add(id);
      pipe(topics.jobs, id, job(id, Ids.newId(), Ids.newId(), "risk", T0 + i, JobState.SUCCESS));
    }
    String costJob = Ids.newId();
    pipe(
        topics.jobs,
        costJob,
        job(costJob, Ids.newId(), Ids.newId(), "cost", T0 + 10, JobState.RUNNING));

    // When risk's jobs are paged two at a time
    JsonObject first = json("/jobs?pipeline=risk&limit=2");
    JsonObject second = json("/jobs?pipeline=risk&limit=2&after=" + first.getString("next"));

    // Then they come newest first, each once
    assertThat(ids(first.getJsonArray("jobs"))).containsExactly(riskJobs.get(2), riskJobs.get(1));
    assertThat(ids(second.getJsonArray("jobs"))).containsExactly(riskJobs.get(0));
    assertThat(second.getValue("next")).isNull();
    // And without a pipeline every job is listed, newest first
    assertThat(ids(json("/jobs").getJsonArray("jobs")))
        .containsExactly(costJob, riskJobs.get(2), riskJobs.get(1), riskJobs.get(0));
  }

  @Test
  void shouldAnswerJobWithOutputCommitWhenDerivedRepoWasSealedByIt() throws Exception {
    // Given a finished job and the output commit its end sealed in a derived repo
    String jobId = Ids.newId();
    String globalId = Ids.newId();
    pipe(topics.jobs, jobId, job(jobId, globalId, globalId, "risk", T0, JobState.SUCCESS));
    String outputCommitId = Ids.newId();
    pipe(
        topics.commits,
        outputCommitId,
        outputCommit(outputCommitId, "risk-by-provider", jobId, globalId, 1));

    // When the job is asked for
    JsonObject job = json("/jobs/" + jobId);

    // Then it names its output commit and duration
    assertThat(job.getString("outputCommit")).isEqualTo(outputCommitId);
    assertThat(job.getJsonArray("outputCommits")).containsExactly(outputCommitId);
    assertThat(job.getLong("durationMs")).isEqualTo(300L);
  }

  @Test
  void shouldAnswerEveryCommitAndJobOfGlobalIdWithOverallState() throws Exception {
    // Given a source commit, its job, the output commit the job sealed and the downstream job
    String globalId = Ids.newId();
    String upstreamJob = Ids.newId();
    String downstreamJob = Ids.newId();
    String outputCommitId = Ids.newId();
    pipe(topics.commits, globalId, sealedCommit(globalId, "claims", upstreamJob, "risk"));
    pipe(
        topics.jobs,
        upstreamJob,
        job(upstreamJob, globalId, globalId, "risk", T0 + 1, JobState.SUCCESS));
    pipe(
        topics.commits,
        outputCommitId,
        outputCommit(outputCommitId, "risk-by-provider", upstreamJob, globalId, 5));
    pipe(
        topics.jobs,
        downstreamJob,
        job(downstreamJob, outputCommitId, globalId, "summary", T0 + 20, JobState.RUNNING));

    // When the global ID is asked for while the downstream job runs
    JsonObject running = json("/global/" + globalId);

    // Then both commits and both jobs are listed, oldest first, and the state is running
    assertThat(running.getString("state")).isEqualTo("running");
    assertThat(ids(running.getJsonArray("commits"))).containsExactly(globalId, outputCommitId);
    assertThat(ids(running.getJsonArray("jobs"))).containsExactly(upstreamJob, downstreamJob);
    assertThat(running.getJsonArray("commits").getJsonObject(1).getString("sourceJob"))
        .isEqualTo(upstreamJob);

    // When the downstream job fails / Then the global ID's state is failure
    pipe(
        topics.jobs,
        downstreamJob,
        job(downstreamJob, outputCommitId, globalId, "summary", T0 + 20, JobState.FAILURE));
    assertThat(json("/global/" + globalId).getString("state")).isEqualTo("failure");
    // And an unknown global ID is a 404
    assertError(get("/global/" + Ids.newId()), 404, "not_found", "global ID");
  }

  @Test
  void shouldStayRunningUntilEveryJobOfTheDagEndedWhenUpstreamJobSucceedsFirst() throws Exception {
    // Given a DAG risk -> risk-by-provider -> summary, and risk's job over a complete commit
    catalog
        .repo("claims")
        .pipeline("risk", "claims")
        .derivedRepo("risk", "provider")
        .pipeline("summary", "risk-by-provider");
    String globalId = Ids.newId();
    String riskJob = Ids.newId();
    String summaryJob = Ids.newId();
    pipe(
        topics.commits,
        globalId,
        completedCommit(sealedCommit(globalId, "claims", riskJob, "risk")));
    pipe(topics.jobs, riskJob, job(riskJob, globalId, globalId, "risk", T0, JobState.SUCCESS));

    // When risk's job succeeded but its output commit is not sealed yet / Then still running
    assertThat(json("/global/" + globalId).getString("state")).isEqualTo("running");

    // When the output commit names summary's job, not indexed yet / Then still running
    String outputCommitId = Ids.newId();
    Commit sealedOutput =
        Commit.newBuilder(sealedCommit(outputCommitId, "risk-by-provider", summaryJob, "summary"))
            .setGlobalId(globalId)
            .setSourceJob(riskJob)
            .build();
    pipe(topics.commits, outputCommitId, completedCommit(sealedOutput));
    assertThat(json("/global/" + globalId).getString("state")).isEqualTo("running");

    // When summary's job runs, then succeeds / Then running, then success
    pipe(
        topics.jobs,
        summaryJob,
        job(summaryJob, outputCommitId, globalId, "summary", T0 + 5, JobState.RUNNING));
    assertThat(json("/global/" + globalId).getString("state")).isEqualTo("running");
    pipe(
        topics.jobs,
        summaryJob,
        job(summaryJob, outputCommitId, globalId, "summary", T0 + 5, JobState.SUCCESS));
    assertThat(json("/global/" + globalId).getString("state")).isEqualTo("success");
  }

  @Test
  void shouldListReposPipelinesAndRepoCommitsNewestFirst() throws Exception {
    // Given a repo, a pipeline and two commits of the repo
    catalog.repo("claims").pipeline("risk", "claims");
    Commit first =
        Commit.newBuilder(sealedCommit(Ids.newId(), "claims", Ids.newId(), "risk"))
            .setSequence(1)
            .build();
    Commit second =
        Commit.newBuilder(sealedCommit(Ids.newId(), "claims", Ids.newId(), "risk"))
            .setSequence(2)
            .build();
    pipe(topics.commits, first.getId(), first);
    pipe(topics.commits, second.getId(), second);

    // When they are asked for
    JsonObject repos = json("/repos");
    JsonObject pipelines = json("/pipelines");
    JsonObject commits = json("/repos/claims/commits?limit=1");

    // Then the repo with its updates topic, the pipeline, and the newest commit with a cursor
    assertThat(repos.getJsonArray("repos").getJsonObject(0).getString("updatesTopic"))
        .isEqualTo("claims.updates");
    assertThat(pipelines.getJsonArray("pipelines").getJsonObject(0).getString("inputRepo"))
        .isEqualTo("claims");
    assertThat(ids(commits.getJsonArray("commits"))).containsExactly(second.getId());
    JsonObject older = json("/repos/claims/commits?limit=1&after=" + commits.getString("next"));
    assertThat(ids(older.getJsonArray("commits"))).containsExactly(first.getId());
    assertError(get("/repos/nothing/commits"), 404, "not_found", "no repo");
  }

  @Test
  void shouldListOnlyTheCommitsOfTheRepoCreatedAgainUnderItsName() throws Exception {
    // Given three commits of claims, then claims deleted and created again with one new commit
    catalog.repo("claims");
    for (int sequence = 1; sequence <= 3; sequence++) {
      Commit old =
          Commit.newBuilder(sealedCommit(Ids.newId(), "claims", Ids.newId(), "risk"))
              .setSequence(sequence)
              .build();
      pipe(topics.commits, old.getId(), old);
    }
    long recreatedAt = T0 + 1_000_000;
    catalog.repos.put(
        "claims",
        io.tusk.schemas.RepoSpec.newBuilder(catalog.repos.get("claims"))
            .setCreatedAt(recreatedAt)
            .build());
    Commit fresh =
        Commit.newBuilder(sealedCommit(Ids.newId(), "claims", Ids.newId(), "risk"))
            .setSequence(1)
            .setCreatedAt(recreatedAt + 1)
            .build();
    pipe(topics.commits, fresh.getId(), fresh);

    // When its commits are listed, a page of one at a time
    JsonObject page = json("/repos/claims/commits?limit=1");

    // Then only the new repo's commit is there, with no next page
    assertThat(ids(page.getJsonArray("commits"))).containsExactly(fresh.getId());
    assertThat(page.getString("next")).isNull();

    // And once the repo is gone, its commits are not listed: no repo
    catalog.repos.remove("claims");
    assertError(get("/repos/claims/commits"), 404, "not_found", "no repo");
  }

  @Test
  void shouldAnswer400NamingParameterWhenQueryParametersAreBad() throws Exception {
    String jobId = Ids.newId();
    // When parameters are malformed or out of bounds / Then 400 naming each
    assertError(get("/jobs/" + jobId + "/datums?state=bogus"), 400, "bad_request", "'state'");
    assertError(get("/jobs/" + jobId + "/datums?limit=0"), 400, "bad_request", "'limit'");
    assertError(get("/jobs/" + jobId + "/logs?limit=1001"), 400, "bad_request", "'limit'");
    assertError(get("/jobs?limit=abc"), 400, "bad_request", "'limit'");
    assertError(get("/jobs?pipeline=Bad!"), 400, "bad_request", "'pipeline'");
    assertError(get("/jobs?after=***"), 400, "bad_request", "'after'");
    assertError(get("/global/xyz"), 400, "bad_request", "'id'");
    // And a job nobody knows is a 404, also for its datums
    assertError(get("/jobs/" + jobId + "/datums"), 404, "not_found", "no job");
  }

  private static List<String> members(JsonArray datums) {
    return datums.stream().map(d -> ((JsonObject) d).getString("member")).toList();
  }

  private static List<String> ids(JsonArray items) {
    return items.stream().map(d -> ((JsonObject) d).getString("id")).toList();
  }
}
