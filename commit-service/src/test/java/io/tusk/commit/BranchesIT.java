package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Branch;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Seal;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Branches against the real broker: master from repo creation, seals on a branch, moves that write
 * the branch record and a full job per following pipeline to every by-member partition, deletes,
 * serialized concurrent moves, and the errors of each.
 */
class BranchesIT extends CommitServiceItBase {

  @Test
  void shouldHaveMasterWithoutHeadWhenARepoIsCreated() throws Exception {
    // Given a new repo
    String repo = createRepo(1, 1);

    // Then it has one branch, master, with no head
    JsonArray branches = get("/repos/" + repo + "/branches").bodyAsJsonArray();
    assertThat(branches).hasSize(1);
    JsonObject master = branches.getJsonObject(0);
    assertThat(master.getString("repo")).isEqualTo(repo);
    assertThat(master.getString("name")).isEqualTo("master");
    assertThat(master.getValue("head")).isNull();
    assertThat(master.getJsonArray("pipelines")).isEmpty();

    // And the record is in tusk.branches under <repo>/master
    assertThat(storedBranch(repo, "master").getHead()).isNull();
  }

  @Test
  void shouldMoveTheHeadAndRequestFullJobsWhenABranchIsRewound() throws Exception {
    // Given a repo with 2 member partitions, a pipeline on master and two commits
    String repo = createRepo(1, 2);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject first = seal(repo, null);
    JsonObject second = seal(repo, "master");
    assertThat(get("/repos/" + repo + "/branches/master").bodyAsJsonObject().getString("head"))
        .isEqualTo(second.getString("id"));

    // When master is moved back to the first commit
    HttpResponse<Buffer> moved =
        put(
            "/repos/" + repo + "/branches/master",
            new JsonObject().put("head", first.getString("id")));

    // Then the answer is the branch at the first commit with one full job for the pipeline
    assertThat(moved.statusCode()).as(moved.bodyAsString()).isEqualTo(200);
    JsonObject branch = moved.bodyAsJsonObject();
    assertThat(branch.getString("head")).isEqualTo(first.getString("id"));
    assertThat(branch.getLong("headSequence")).isEqualTo(1);
    assertThat(branch.getJsonArray("pipelines").getList()).containsExactly(pipeline);
    assertThat(branch.getJsonArray("jobs")).hasSize(1);
    JsonObject job = branch.getJsonArray("jobs").getJsonObject(0);
    assertThat(job.getString("pipeline")).isEqualTo(pipeline);
    assertThat(job.getString("kind")).isEqualTo("BRANCH");
    assertThat(job.getString("mode")).isEqualTo("FULL");
    assertThat(Ids.isValid(job.getString("jobId"))).isTrue();

    // And every by-member partition has the two seals, then the job request on the first commit
    Map<Integer, List<MemberEvent>> events = byMemberEvents(repo, 2);
    for (List<MemberEvent> partition : events.values()) {
      assertThat(partition).hasSize(3);
      assertThat(((Seal) partition.get(0).getEvent()).getCommit().getId())
          .isEqualTo(first.getString("id"));
      assertThat(((Seal) partition.get(1).getEvent()).getCommit().getId())
          .isEqualTo(second.getString("id"));
      JobRequest request = (JobRequest) partition.get(2).getEvent();
      assertThat(request.getCommit().getId()).isEqualTo(first.getString("id"));
      assertThat(request.getMemberPartitions()).isEqualTo(2);
      assertThat(request.getJobs()).hasSize(1);
      JobRef ref = request.getJobs().get(0);
      assertThat(ref.getJobId()).isEqualTo(job.getString("jobId"));
      assertThat(ref.getKind()).isEqualTo(JobKind.BRANCH);
      assertThat(ref.getMode()).isEqualTo(JobMode.FULL);
      assertThat(ref.getPipeline()).isEqualTo(pipeline);
    }

    // And the branch record in tusk.branches points at the first commit
    Branch stored =
        eventually(
            () -> storedBranch(repo, "master"),
            b -> first.getString("id").equals(b.getHead()),
            "master moved");
    assertThat(stored.getHeadSequence()).isEqualTo(1);

    // And the next seal still follows the newest commit (the log is linear) and moves master
    JsonObject third = seal(repo, null);
    assertThat(third.getString("parent")).isEqualTo(second.getString("id"));
    assertThat(third.getLong("sequence")).isEqualTo(3);
    assertThat(get("/repos/" + repo + "/branches/master").bodyAsJsonObject().getString("head"))
        .isEqualTo(third.getString("id"));
  }

  @Test
  void shouldCreateAndMoveBranchesToTheCommitsReferencesName() throws Exception {
    // Given master at the newest of 3 commits
    String repo = createRepo(1, 1);
    List<String> commits = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      commits.add(seal(repo, null).getString("id"));
    }

    // When dev is created at master^ and then moved to dev~1, expecting its head by prefix
    HttpResponse<Buffer> created =
        post(
            "/repos/" + repo + "/branches",
            new JsonObject().put("name", "dev").put("head", "master^"));
    HttpResponse<Buffer> moved =
        put(
            "/repos/" + repo + "/branches/dev",
            new JsonObject()
                .put("head", "dev~1")
                .put("expectedHead", commits.get(1).substring(0, 9)));

    // Then each answer is the branch at the commit the reference named
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().getString("head")).isEqualTo(commits.get(1));
    assertThat(moved.statusCode()).as(moved.bodyAsString()).isEqualTo(200);
    assertThat(moved.bodyAsJsonObject().getString("head")).isEqualTo(commits.get(0));

    // And a stale expected head, by reference, is still a conflict
    HttpResponse<Buffer> stale =
        put(
            "/repos/" + repo + "/branches/dev",
            new JsonObject().put("head", "master").put("expectedHead", "master~1"));
    assertThat(stale.statusCode()).as(stale.bodyAsString()).isEqualTo(409);
  }

  @Test
  void shouldSealOnABranchWithoutJobsForPipelinesOfOtherBranches() throws Exception {
    // Given a repo with a pipeline on master and a commit
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject first = seal(repo, null);

    // When a branch dev is created at that commit, and a commit is sealed on dev
    HttpResponse<Buffer> created =
        post(
            "/repos/" + repo + "/branches",
            new JsonObject().put("name", "dev").put("head", first.getString("id")));
    JsonObject onDev = seal(repo, "dev");

    // Then dev was created with no jobs (no pipeline follows it), and the dev commit has no job
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.getHeader("Location")).isEqualTo("/repos/" + repo + "/branches/dev");
    assertThat(created.bodyAsJsonObject().getJsonArray("jobs")).isEmpty();
    assertThat(onDev.getString("branch")).isEqualTo("dev");
    assertThat(onDev.getJsonArray("jobs")).isEmpty();
    assertThat(onDev.getString("parent")).isEqualTo(first.getString("id"));

    // And dev moved to it while master stayed
    JsonArray branches = get("/repos/" + repo + "/branches").bodyAsJsonArray();
    assertThat(branches.stream().map(b -> ((JsonObject) b).getString("name")))
        .containsExactly("dev", "master");
    assertThat(branches.getJsonObject(0).getString("head")).isEqualTo(onDev.getString("id"));
    assertThat(branches.getJsonObject(1).getString("head")).isEqualTo(first.getString("id"));

    // And a seal on a branch that does not exist creates it
    JsonObject onFeature = seal(repo, "feature-1");
    assertThat(get("/repos/" + repo + "/branches/feature-1").bodyAsJsonObject().getString("head"))
        .isEqualTo(onFeature.getString("id"));

    // When dev is deleted
    HttpResponse<Buffer> deleted = delete("/repos/" + repo + "/branches/dev");

    // Then it is gone, from the API and from tusk.branches
    assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(204);
    assertError(get("/repos/" + repo + "/branches/dev"), 404, "no branch 'dev'");
    try (CompactedTopicView<Branch> view =
        CompactedTopicView.start(
            settings.withInstanceId("it-branches-" + suffix()), topics.branches, DEADLINE)) {
      eventually(
          () -> view.get(TopicNames.branchKey(repo, "feature-1")).isPresent(),
          present -> present,
          "feature-1 in the view");
      assertThat(view.get(TopicNames.branchKey(repo, "dev"))).isEmpty();
    }
  }

  @Test
  void shouldApplyOneMoveWhenConcurrentMovesExpectTheSameHead() throws Exception {
    // Given master at the newest of 4 commits
    String repo = createRepo(1, 1);
    List<String> commits = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      commits.add(seal(repo, null).getString("id"));
    }
    String head = commits.get(3);

    // When 3 moves to different commits, each expecting the current head, arrive at once
    List<Future<HttpResponse<Buffer>>> requests = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      requests.add(
          client
              .put("/repos/" + repo + "/branches/master")
              .sendJsonObject(
                  new JsonObject().put("head", commits.get(i)).put("expectedHead", head)));
    }
    List<Integer> statuses = new ArrayList<>();
    String winner = null;
    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> response = await(requests.get(i));
      statuses.add(response.statusCode());
      if (response.statusCode() == 200) {
        winner = commits.get(i);
      } else {
        assertError(response, 409, "not at expectedHead");
      }
    }

    // Then exactly one applied, and master is where it moved
    assertThat(statuses).containsOnlyOnce(200);
    assertThat(get("/repos/" + repo + "/branches/master").bodyAsJsonObject().getString("head"))
        .isEqualTo(winner);
  }

  @Test
  void shouldAnswerJsonErrorsWhenBranchRequestsConflictOrNameNothing() throws Exception {
    // Given two repos with a commit each, and a pipeline following master of the first
    String repo = createRepo(1, 1);
    String other = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    String commit = seal(repo, null).getString("id");
    String otherCommit = seal(other, null).getString("id");
    String branches = "/repos/" + repo + "/branches";

    // Then a head from another repo is a 400, an unknown commit a 404
    assertError(
        put(branches + "/master", new JsonObject().put("head", otherCommit)),
        400,
        "is a commit of repo '" + other + "'");
    assertError(
        post(branches, new JsonObject().put("name", "dev").put("head", otherCommit)), 400, "head");
    assertError(
        put(branches + "/master", new JsonObject().put("head", Ids.newId())), 404, "no commit");

    // And invalid names are 400s, unknown branches and repos 404s
    assertError(post(branches, new JsonObject().put("name", "Dev")), 400, "name 'Dev'");
    assertError(get(branches + "/BAD"), 400, "branch 'BAD'");
    assertError(post("/repos/" + repo + "/commits?branch=a.b", null), 400, "branch 'a.b'");
    assertError(get("/repos/Not.A.Repo/branches"), 400, "repo 'Not.A.Repo'");
    assertError(put(branches + "/nope", new JsonObject().put("head", commit)), 404, "no branch");
    assertError(delete(branches + "/nope"), 404, "no branch 'nope'");
    assertError(get("/repos/it-no-such-repo/branches"), 404, "no repo");
    assertError(put(branches + "/master", new JsonObject()), 400, "head is required");

    // And master cannot be deleted or created again, nor moved from a head it is not at
    assertError(delete(branches + "/master"), 409, "master cannot be deleted");
    assertError(post(branches, new JsonObject().put("name", "master")), 409, "already exists");
    assertError(
        put(
            branches + "/master",
            new JsonObject().put("head", commit).put("expectedHead", otherCommit)),
        409,
        "expectedHead");
  }

  @Test
  void shouldAnswer410WhenABranchIsCreatedOrMovedBelowTheHistoryFloor() throws Exception {
    // Given a repo keeping 2 commits of history, and 3 commits: the floor is sequence 2
    String repo = "it-repo-" + suffix();
    HttpResponse<Buffer> created = post("/repos", repoBody(repo).put("historyRetention", 2));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String first = seal(repo, null).getString("id");
    String second = seal(repo, null).getString("id");
    seal(repo, null);
    String branches = "/repos/" + repo + "/branches";

    // When a branch is created at the first commit, and master is moved there
    HttpResponse<Buffer> create =
        post(branches, new JsonObject().put("name", "old").put("head", first));
    HttpResponse<Buffer> move = put(branches + "/master", new JsonObject().put("head", first));

    // Then both are 410s naming the commit, its sequence and the oldest sequence kept
    for (HttpResponse<Buffer> refused : List.of(create, move)) {
      assertError(refused, 410, "commit " + first + " (head, sequence 1)");
      assertThat(refused.bodyAsJsonObject().getString("error")).isEqualTo("gone");
      assertThat(refused.bodyAsJsonObject().getString("message"))
          .contains("oldest sequence kept is 2");
    }
    assertError(get(branches + "/old"), 404, "no branch 'old'");

    // And the floor itself is still kept: a branch there and a rewind there work
    HttpResponse<Buffer> atFloor =
        post(branches, new JsonObject().put("name", "kept").put("head", second));
    assertThat(atFloor.statusCode()).as(atFloor.bodyAsString()).isEqualTo(201);
    HttpResponse<Buffer> rewind = put(branches + "/master", new JsonObject().put("head", second));
    assertThat(rewind.statusCode()).as(rewind.bodyAsString()).isEqualTo(200);
  }

  private static Branch storedBranch(String repo, String branch) {
    try (CompactedTopicView<Branch> view =
        CompactedTopicView.start(
            settings.withInstanceId("it-branches-" + suffix()), topics.branches, DEADLINE)) {
      return eventually(
          () -> view.get(TopicNames.branchKey(repo, branch)).orElse(null),
          b -> b != null,
          "branch " + branch + " of " + repo);
    }
  }
}
