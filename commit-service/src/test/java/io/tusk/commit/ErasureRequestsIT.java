package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Erase;
import io.tusk.schemas.Erasure;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Seal;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * Erasure requests against the real broker: the erasure commit and its {@link Erase} in the
 * member's by-member partition before the seal, the log record without the member key, 410 for
 * reads of the erased member, and the refusals (no reason, a pipeline on another branch, a derived
 * repo, not an admin).
 */
class ErasureRequestsIT extends CommitServiceItBase {
  private static final String MEMBER = "member-4711";

  @Test
  void shouldSealAnErasureCommitWithTheEraseInTheMembersPartitionAndLogNoMemberKey()
      throws Exception {
    // Given a repo with 3 member partitions, a pipeline on master and a first commit
    String repo = createRepo(1, 3);
    String pipeline = "it-erase-p-" + suffix();
    assertThat(post("/pipelines", pipelineBody(pipeline, repo)).statusCode()).isEqualTo(201);
    JsonObject first = seal(repo, null);

    // When an admin erases a member
    HttpResponse<Buffer> erased =
        post(
            "/repos/" + repo + "/members/" + MEMBER + "/erasure",
            new JsonObject().put("reason", "ticket 4711"));

    // Then the answer is the request, with its commit and a job for the pipeline, and no key
    assertThat(erased.statusCode()).as(erased.bodyAsString()).isEqualTo(201);
    JsonObject request = erased.bodyAsJsonObject();
    assertThat(erased.bodyAsString()).doesNotContain(MEMBER);
    assertThat(request.getString("repo")).isEqualTo(repo);
    assertThat(request.getString("requestedBy")).isEqualTo(TestAuth.ADMIN);
    assertThat(request.getString("reason")).isEqualTo("ticket 4711");
    assertThat(request.getLong("commitSequence")).isEqualTo(2);
    assertThat(request.getString("state")).isEqualTo("processing");
    String id = request.getString("id");
    String commitId = request.getString("commitId");
    Commit commit = storedCommit(commitId);
    assertThat(commit.getErasure()).isEqualTo(id);
    assertThat(commit.getParent()).isEqualTo(first.getString("id"));
    assertThat(commit.getJobs()).extracting(j -> j.getPipeline()).containsExactly(pipeline);

    // And the member's by-member partition holds the Erase, then the seal of its commit
    int partition = Utils.toPositive(Utils.murmur2(MEMBER.getBytes(StandardCharsets.UTF_8))) % 3;
    Map<Integer, List<MemberEvent>> events = byMemberEvents(repo, 3);
    List<Object> mine = events.get(partition).stream().map(e -> (Object) e.getEvent()).toList();
    assertThat(mine).hasSize(3);
    assertThat(mine.get(1)).isInstanceOf(Erase.class);
    Erase erase = (Erase) mine.get(1);
    assertThat(erase.getRequest()).isEqualTo(id);
    assertThat(erase.getSequence()).isEqualTo(2);
    assertThat(((Seal) mine.get(2)).getCommit().getId()).isEqualTo(commitId);
    events.forEach(
        (p, list) -> {
          if (p != partition) {
            assertThat(list).allMatch(e -> e.getEvent() instanceof Seal);
          }
        });

    // And the erasure log holds the request with a salted hash, never the key
    Erasure logged;
    try (CompactedTopicView<Erasure> view =
        CompactedTopicView.start(
            settings.withInstanceId("it-erasures-" + suffix()), topics.erasures, DEADLINE)) {
      logged = eventually(() -> view.get(id).orElse(null), e -> e != null, "erasure " + id);
    }
    assertThat(logged.toString()).doesNotContain(MEMBER);
    assertThat(logged.getCommitId()).isEqualTo(commitId);
    assertThat(ErasureLog.names(logged, repo, MEMBER)).isTrue();
    assertThat(ErasureLog.names(logged, repo, MEMBER + "0")).isFalse();
    assertThat(get("/erasures/" + id).bodyAsJsonObject().getString("commitId")).isEqualTo(commitId);
    assertThat(get("/erasures?repo=" + repo).bodyAsJsonObject().getJsonArray("erasures"))
        .hasSize(1);

    // And its status lists where the member may remain, with a bound per topic
    JsonObject status = get("/erasures/" + id).bodyAsJsonObject();
    assertThat(status.getJsonArray("places").stream().map(p -> ((JsonObject) p).getString("topic")))
        .contains(
            TopicNames.updates(repo),
            TopicNames.byMember(repo),
            TopicNames.members(repo),
            TopicNames.output(pipeline),
            TopicNames.DATUM_RESULTS);
    JsonObject updates =
        status.getJsonArray("places").stream()
            .map(p -> (JsonObject) p)
            .filter(p -> p.getString("topic").equals(TopicNames.updates(repo)))
            .findFirst()
            .orElseThrow();
    assertThat(updates.getString("bound")).isEqualTo("never");

    // And a verification needs the member key again, then scans: the erase event is still there
    assertError(
        post("/erasures/" + id + "/verify", new JsonObject().put("member", "someone-else")),
        400,
        "member");
    HttpResponse<Buffer> started =
        post("/erasures/" + id + "/verify", new JsonObject().put("member", MEMBER));
    assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
    JsonObject verified =
        eventually(
            () -> get("/erasures/" + id).bodyAsJsonObject(),
            e -> e.getJsonObject("verification") != null,
            "the verification of " + id);
    JsonObject verification = verified.getJsonObject("verification");
    assertThat(verification.getLong("found")).isPositive();
    assertThat(verification.getJsonArray("places").getList())
        .contains(TopicNames.byMember(repo) + "/" + partition);
    assertThat(verified.encode()).doesNotContain(MEMBER);

    // And reads of the erased member the partition service no longer finds answer 410 "erased"
    partitionHandler = r -> r.response().setStatusCode(404).end("{\"error\":\"not_found\"}");
    assertError(get("/repos/" + repo + "/members/" + MEMBER), 410, id);
    assertThat(get("/repos/" + repo + "/members/other-member").statusCode()).isEqualTo(404);
  }

  @Test
  void shouldRefuseErasuresThatCouldNotForgetTheMember() throws Exception {
    // Given a repo with a pipeline following another branch
    String repo = createRepo(1, 1);
    seal(repo, null);
    seal(repo, "dev");
    String pipeline = "it-erase-dev-" + suffix();
    JsonObject spec = pipelineBody(pipeline, repo);
    spec.getJsonObject("input").put("branch", "dev");
    assertThat(post("/pipelines", spec).statusCode()).isEqualTo(201);
    String path = "/repos/" + repo + "/members/" + MEMBER + "/erasure";

    // Then without a reason: 400; with the other branch's pipeline: 409 naming it
    assertError(post(path, new JsonObject()), 400, "reason");
    assertError(post(path, new JsonObject().put("reason", "x")), 409, pipeline);
    // And on an unknown branch: 404; from a non-admin: 403
    assertError(post(path, new JsonObject().put("reason", "x").put("branch", "nope")), 404, "nope");
    WebClient user = clientOf(service.port(), "erasure-it-user");
    HttpResponse<Buffer> refused =
        await(user.post(path).sendJsonObject(new JsonObject().put("reason", "x")));
    assertError(refused, 403, "admin");
    user.close();
  }
}
