package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Seal;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pipelines against the real broker: YAML and JSON specs, the full job a new pipeline runs on its
 * branch's head, updates (version, update jobs, keepOutputsOnUpdate), pipelines on other branches,
 * deletion, and the namespace repos and pipelines share.
 */
class PipelinesIT extends CommitServiceItBase {

  @Test
  void shouldProcessTheHeadWhenAPipelineIsCreatedOnABranchWithACommit() throws Exception {
    // Given a repo with 2 member partitions and one commit
    String repo = createRepo(1, 2);
    JsonObject commit = seal(repo, null);
    String pipeline = "it-pipe-" + suffix();

    // When a command pipeline is created from a YAML spec
    HttpResponse<Buffer> created =
        send(
            HttpMethod.POST,
            "/pipelines",
            "application/yaml",
            String.join(
                "\n",
                "name: " + pipeline,
                "input: {repo: " + repo + "}",
                "transform:",
                "  cmd: [python3, gi.py]",
                "  env: {MODE: strict}",
                "  inputFormat: json",
                "datumTries: 2",
                "datumTimeout: 30s",
                "jobTimeout: 1h",
                "errCmd: [sh, -c, 'exit 0']",
                ""));

    // Then the answer is its spec, with a full job of kind UPDATE on the commit
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    JsonObject spec = created.bodyAsJsonObject();
    assertThat(spec.getJsonObject("transform").getString("kind")).isEqualTo("COMMAND");
    assertThat(spec.getJsonObject("transform").getJsonArray("cmd").getList())
        .containsExactly("python3", "gi.py");
    assertThat(spec.getInteger("datumTries")).isEqualTo(2);
    assertThat(spec.getLong("datumTimeoutMs")).isEqualTo(30_000);
    assertThat(spec.getLong("jobTimeoutMs")).isEqualTo(3_600_000);
    assertThat(spec.getJsonArray("errCmd").getList()).containsExactly("sh", "-c", "exit 0");
    assertThat(spec.getInteger("version")).isEqualTo(1);
    JsonObject job = spec.getJsonObject("job");
    assertThat(job.getString("kind")).isEqualTo("UPDATE");
    assertThat(job.getString("mode")).isEqualTo("FULL");
    assertThat(job.getString("commitId")).isEqualTo(commit.getString("id"));
    assertThat(job.getString("repo")).isEqualTo(repo);
    assertThat(job.getString("specHash")).isEqualTo(spec.getString("specHash"));

    // And each by-member partition has the seal, then the job request on that commit
    for (List<MemberEvent> events : byMemberEvents(repo, 2).values()) {
      assertThat(events).hasSize(2);
      assertThat(events.get(0).getEvent()).isInstanceOf(Seal.class);
      JobRequest request = (JobRequest) events.get(1).getEvent();
      assertThat(request.getCommit().getId()).isEqualTo(commit.getString("id"));
      assertThat(request.getJobs()).hasSize(1);
      assertThat(request.getJobs().get(0).getJobId()).isEqualTo(job.getString("jobId"));
      assertThat(request.getJobs().get(0).getKind()).isEqualTo(JobKind.UPDATE);
      assertThat(request.getJobs().get(0).getMode()).isEqualTo(JobMode.FULL);
    }
  }

  @Test
  void shouldBumpTheVersionAndReprocessWhenAPipelineIsUpdated() throws Exception {
    // Given a pipeline of parallelism 2 on a repo with a commit
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    HttpResponse<Buffer> created =
        post("/pipelines", pipelineBody(pipeline, repo).put("parallelism", 2));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    JsonObject first = created.bodyAsJsonObject();
    JsonObject commit = seal(repo, null);

    // When its transform is updated (the body leaves out the name and parallelism)
    JsonObject update =
        new JsonObject()
            .put("input", new JsonObject().put("repo", repo))
            .put("transform", new JsonObject().put("java", "gibleed-insights-v2"));
    HttpResponse<Buffer> updated = put("/pipelines/" + pipeline, update);

    // Then it is version 2 with a new spec hash, and a full UPDATE job runs on the head
    assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
    JsonObject second = updated.bodyAsJsonObject();
    assertThat(second.getInteger("version")).isEqualTo(2);
    assertThat(second.getInteger("parallelism")).isEqualTo(2);
    assertThat(second.getLong("createdAt")).isEqualTo(first.getLong("createdAt"));
    assertThat(second.getLong("updatedAt")).isGreaterThanOrEqualTo(first.getLong("createdAt"));
    assertThat(second.getString("specHash")).isNotEqualTo(first.getString("specHash"));
    assertThat(second.getJsonObject("job").getString("kind")).isEqualTo("UPDATE");
    assertThat(second.getJsonObject("job").getString("mode")).isEqualTo("FULL");
    assertThat(second.getJsonObject("job").getString("commitId")).isEqualTo(commit.getString("id"));
    assertThat(second.getJsonObject("job").getString("specHash"))
        .isEqualTo(second.getString("specHash"));

    // When it is updated again keeping its outputs
    HttpResponse<Buffer> kept =
        put("/pipelines/" + pipeline, update.copy().put("keepOutputsOnUpdate", true));

    // Then it is version 3 and no job started
    assertThat(kept.statusCode()).as(kept.bodyAsString()).isEqualTo(200);
    assertThat(kept.bodyAsJsonObject().getInteger("version")).isEqualTo(3);
    assertThat(kept.bodyAsJsonObject().getValue("job")).isNull();
    JsonObject inspected = get("/pipelines/" + pipeline).bodyAsJsonObject();
    assertThat(inspected.getInteger("version")).isEqualTo(3);
    assertThat(inspected.getBoolean("keepOutputsOnUpdate")).isTrue();
    assertThat(inspected.containsKey("job")).isFalse();

    // And exactly one job request reached the member side (the first update's)
    List<MemberEvent> events = byMemberEvents(repo, 1).get(0);
    assertThat(events.stream().filter(e -> e.getEvent() instanceof JobRequest)).hasSize(1);

    // And an update cannot change the parallelism, rename, or name an unknown pipeline
    assertError(
        put("/pipelines/" + pipeline, update.copy().put("parallelism", 3)), 400, "parallelism");
    assertError(
        put("/pipelines/" + pipeline, update.copy().put("name", "other")), 400, "name 'other'");
    assertError(put("/pipelines/it-no-such-pipeline", update), 404, "no pipeline");
  }

  @Test
  void shouldStartJobsOnlyFromItsBranchWhenAPipelineFollowsABranch() throws Exception {
    // Given a repo and a pipeline on branch dev, which does not exist yet
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    JsonObject body = pipelineBody(pipeline, repo);
    body.getJsonObject("input").put("branch", "dev");
    HttpResponse<Buffer> created = post("/pipelines", body);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().getString("inputBranch")).isEqualTo("dev");

    // Then dev exists, without head, followed by the pipeline
    JsonObject dev = get("/repos/" + repo + "/branches/dev").bodyAsJsonObject();
    assertThat(dev.getValue("head")).isNull();
    assertThat(dev.getJsonArray("pipelines").getList()).containsExactly(pipeline);

    // When master and dev are sealed
    JsonObject onMaster = seal(repo, "master");
    JsonObject onDev = seal(repo, "dev");

    // Then only the dev commit has a job of the pipeline
    assertThat(onMaster.getJsonArray("jobs")).isEmpty();
    assertThat(onDev.getJsonArray("jobs")).hasSize(1);
    assertThat(onDev.getJsonArray("jobs").getJsonObject(0).getString("pipeline"))
        .isEqualTo(pipeline);

    // And dev cannot be deleted while the pipeline follows it
    assertError(delete("/repos/" + repo + "/branches/dev"), 409, pipeline);
  }

  @Test
  void shouldFreeTheNameWhenAPipelineIsDeleted() throws Exception {
    // Given a pipeline
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);

    // Then its name is taken for repos too, and a repo's name for pipelines
    assertError(post("/repos", repoBody(pipeline)), 409, "pipeline '" + pipeline + "'");
    assertError(post("/pipelines", pipelineBody(repo, repo)), 409, "repo '" + repo + "'");

    // When it is deleted
    HttpResponse<Buffer> deleted = delete("/pipelines/" + pipeline);

    // Then it is gone from inspect and list, and commits no longer start its jobs
    assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(204);
    assertError(get("/pipelines/" + pipeline), 404, "no pipeline");
    JsonArray all = get("/pipelines").bodyAsJsonArray();
    assertThat(all.stream().map(p -> ((JsonObject) p).getString("name"))).doesNotContain(pipeline);
    assertThat(seal(repo, null).getJsonArray("jobs")).isEmpty();
    assertError(delete("/pipelines/" + pipeline), 404, "no pipeline");

    // And the name can be used again
    assertThat(post("/repos", repoBody(pipeline)).statusCode()).isEqualTo(201);
  }

  @Test
  void shouldNameTheFieldWhenASpecDocumentIsBad() throws Exception {
    // Given a repo
    String repo = createRepo(1, 1);

    // Then bad YAML, unknown fields and bad values are 400s naming what is wrong
    assertError(
        send(HttpMethod.POST, "/pipelines", "application/yaml", "name: [x"), 400, "not valid YAML");
    assertError(
        send(
            HttpMethod.POST,
            "/pipelines",
            "text/yaml",
            "name: p\ninput: {repo: " + repo + "}\ntransform: {java: x}\ndatum_tries: 2\n"),
        400,
        "datum_tries is not a known field");
    assertError(
        post("/pipelines", pipelineBody("it-p-" + suffix(), repo).put("jobTimeout", "soon")),
        400,
        "jobTimeout must be a duration");
    assertError(
        post(
            "/pipelines",
            pipelineBody("it-p-" + suffix(), repo)
                .put("input", new JsonObject().put("pipeline", "it-nope").put("memberKey", "K"))),
        400,
        "input.pipeline 'it-nope' is not an existing pipeline");
  }
}
