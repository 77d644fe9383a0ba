package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Member queries forwarded to the partition service (a stand-in HTTP server here): path, query,
 * status, body and Retry-After pass through; commits named in the query are checked first; an
 * unreachable partition service is a 502 JSON error.
 */
class ProxyIT extends CommitServiceItBase {

  @Test
  void shouldForwardMemberAndDiffQueriesWhenThePartitionServiceAnswers() throws Exception {
    // Given a repo with two commits, and a partition service that echoes what it was asked
    String repo = createRepo(1, 1);
    String first = seal(repo, null).getString("id");
    String second = seal(repo, null).getString("id");
    complete(first);
    complete(second);
    CopyOnWriteArrayList<String> asked = new CopyOnWriteArrayList<>();
    CopyOnWriteArrayList<String> tokens = new CopyOnWriteArrayList<>();
    partitionHandler =
        request -> {
          asked.add(request.uri());
          tokens.add(String.valueOf(request.getHeader("Authorization")));
          request
              .response()
              .putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("uri", request.uri()).encode());
        };

    // When a member as of a commit, a diff and a member diff are asked of the commit service
    HttpResponse<Buffer> member = get("/repos/" + repo + "/members/p%207?at=" + first);
    HttpResponse<Buffer> diff =
        get("/repos/" + repo + "/diff?from=" + first + "&to=" + second + "&limit=10&after=p1");
    HttpResponse<Buffer> memberDiff =
        get("/repos/" + repo + "/diff/p7?from=" + first + "&to=" + second);

    // Then each is the partition service's answer to the same path and query
    assertThat(member.statusCode()).as(member.bodyAsString()).isEqualTo(200);
    assertThat(member.getHeader("Content-Type")).startsWith("application/json");
    assertThat(member.bodyAsJsonObject().getString("uri"))
        .isEqualTo("/repos/" + repo + "/members/p%207?at=" + first);
    assertThat(diff.bodyAsJsonObject().getString("uri"))
        .isEqualTo(
            "/repos/" + repo + "/diff?from=" + first + "&to=" + second + "&limit=10&after=p1");
    assertThat(memberDiff.bodyAsJsonObject().getString("uri"))
        .isEqualTo("/repos/" + repo + "/diff/p7?from=" + first + "&to=" + second);
    assertThat(asked).hasSize(3);
    // And the caller's token goes along: the partition service checks it too
    assertThat(tokens).hasSize(3).allSatisfy(t -> assertThat(t).startsWith("Bearer "));
  }

  @Test
  void shouldForwardTheFullIdsOfCommitReferences() throws Exception {
    // Given a repo with three complete commits on master, and a partition service that echoes
    String repo = createRepo(1, 1);
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(seal(repo, null).getString("id"));
      complete(ids.get(i));
    }
    partitionHandler =
        request ->
            request
                .response()
                .putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("uri", request.uri()).encode());

    // When member and diff queries name commits by branch, ancestry and prefix
    HttpResponse<Buffer> member = get("/repos/" + repo + "/members/p7?at=master~2");
    HttpResponse<Buffer> diff =
        get("/repos/" + repo + "/diff?from=master%5E&to=" + ids.get(2).substring(0, 10) + "&x=1");
    HttpResponse<Buffer> commit = get("/repos/" + repo + "/commits/master~1");
    HttpResponse<Buffer> anyRepo = get("/commits/" + ids.get(1).substring(0, 8));

    // Then the partition service is asked with the full IDs they resolve to
    assertThat(member.bodyAsJsonObject().getString("uri"))
        .as(member.bodyAsString())
        .isEqualTo("/repos/" + repo + "/members/p7?at=" + ids.get(0));
    assertThat(diff.bodyAsJsonObject().getString("uri"))
        .as(diff.bodyAsString())
        .isEqualTo("/repos/" + repo + "/diff?from=" + ids.get(1) + "&to=" + ids.get(2) + "&x=1");
    // And commit reads answer the commit a reference names
    assertThat(commit.statusCode()).as(commit.bodyAsString()).isEqualTo(200);
    assertThat(commit.bodyAsJsonObject().getString("id")).isEqualTo(ids.get(1));
    assertThat(anyRepo.statusCode()).as(anyRepo.bodyAsString()).isEqualTo(200);
    assertThat(anyRepo.bodyAsJsonObject().getString("id")).isEqualTo(ids.get(1));
    // And a reference past the first commit is a 404 saying so
    assertError(get("/repos/" + repo + "/members/p7?at=master~3"), 404, "chain ends after 2");
  }

  @Test
  void shouldPassErrorsThroughWhenThePartitionServiceRefuses() throws Exception {
    // Given a partition service that is rebalancing
    String repo = createRepo(1, 1);
    partitionHandler =
        request ->
            request
                .response()
                .setStatusCode(503)
                .putHeader("Content-Type", "application/json")
                .putHeader("Retry-After", "2")
                .end(
                    new JsonObject()
                        .put("error", "unavailable")
                        .put("message", "rebalancing")
                        .encode());

    // When a member is asked
    HttpResponse<Buffer> answer = get("/repos/" + repo + "/members/p7");

    // Then the 503 and its Retry-After reach the caller
    assertThat(answer.statusCode()).isEqualTo(503);
    assertThat(answer.getHeader("Retry-After")).isEqualTo("2");
    assertThat(answer.bodyAsJsonObject().getString("message")).isEqualTo("rebalancing");
  }

  @Test
  void shouldCheckReposAndCommitsBeforeForwarding() throws Exception {
    // Given a repo with a commit, another repo's commit, and a partition service that counts
    String repo = createRepo(1, 1);
    String other = seal(createRepo(1, 1), null).getString("id");
    CopyOnWriteArrayList<String> asked = new CopyOnWriteArrayList<>();
    CopyOnWriteArrayList<String> tokens = new CopyOnWriteArrayList<>();
    partitionHandler =
        request -> {
          asked.add(request.uri());
          tokens.add(String.valueOf(request.getHeader("Authorization")));
          request.response().end("{}");
        };

    // Then unknown repos and commits and commits of other repos are answered here
    assertError(get("/repos/it-no-such-repo/members/p7"), 404, "no repo");
    assertError(get("/repos/" + repo + "/members/p7?at=" + Ids.newId()), 404, "no commit");
    assertError(get("/repos/" + repo + "/members/p7?at=no!pe"), 400, "at must be a commit ref");
    assertError(get("/repos/" + repo + "/members/p7?at=nope"), 404, "no commit or branch 'nope'");
    assertError(get("/repos/" + repo + "/members/p7?at=master"), 404, "has no commit yet");
    assertError(get("/repos/" + repo + "/diff?from=" + other), 400, "from '" + other + "'");
    assertError(get("/repos/" + repo + "/diff/p7?to=" + Ids.newId()), 404, "no commit");
    assertThat(asked).isEmpty();
  }

  @Test
  void shouldAnswer503WhenACommitIsSealedButNotComplete() throws Exception {
    // Given a complete commit and a newer one that is only sealed, and a partition service that
    // counts what it is asked
    String repo = createRepo(1, 1);
    String complete = seal(repo, null).getString("id");
    complete(complete);
    String sealed = seal(repo, null).getString("id");
    CopyOnWriteArrayList<String> asked = new CopyOnWriteArrayList<>();
    CopyOnWriteArrayList<String> tokens = new CopyOnWriteArrayList<>();
    partitionHandler =
        request -> {
          asked.add(request.uri());
          tokens.add(String.valueOf(request.getHeader("Authorization")));
          request.response().putHeader("Content-Type", "application/json").end("{}");
        };

    // When the member is asked as of the sealed commit, and diffs to or from it
    List<HttpResponse<Buffer>> answers =
        List.of(
            get("/repos/" + repo + "/members/p7?at=" + sealed),
            get("/repos/" + repo + "/diff?from=" + complete + "&to=" + sealed),
            get("/repos/" + repo + "/diff/p7?from=" + sealed + "&to=" + complete));

    // Then each is a 503 with Retry-After: 1 saying the commit is not complete, not forwarded
    for (HttpResponse<Buffer> answer : answers) {
      assertError(answer, 503, "commit " + sealed);
      assertThat(answer.getHeader("Retry-After")).isEqualTo("1");
      assertThat(answer.bodyAsJsonObject().getString("message")).contains("not complete yet");
    }
    assertThat(asked).isEmpty();

    // And once it is complete, the same query is forwarded
    complete(sealed);
    assertThat(get("/repos/" + repo + "/members/p7?at=" + sealed).statusCode()).isEqualTo(200);
    assertThat(asked).hasSize(1);
  }

  @Test
  void shouldAnswer502WhenThePartitionServiceIsUnreachable() throws Exception {
    // Given a partition service that has stopped
    String repo = createRepo(1, 1);
    int port = partitionServer.actualPort();
    await(partitionServer.close());
    try {
      // When a member is asked
      HttpResponse<Buffer> answer = get("/repos/" + repo + "/members/p7");

      // Then the answer is a JSON 502 naming the partition service
      assertError(answer, 502, "partition service");
      assertThat(answer.bodyAsJsonObject().getString("error")).isEqualTo("bad_gateway");
    } finally {
      partitionServer =
          vertx
              .createHttpServer()
              .requestHandler(request -> partitionHandler.handle(request))
              .listen(port, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    }
  }
}
