package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.security.SecuredRouter;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Who may do what on the commit service, with real tokens and role bindings on the real broker:
 * creators own what they create, others are refused until an owner grants them a role, a pipeline
 * needs its input readable, lists show only what the caller may read, and the audit trail records
 * mutations, content reads and denials without member keys.
 */
class AuthIT extends CommitServiceItBase {

  private static WebClient as(String subject) {
    return clientOf(service.port(), subject);
  }

  private static HttpResponse<Buffer> call(
      WebClient client, HttpMethod method, String path, JsonObject body) throws Exception {
    var request = client.request(method, path);
    return await(body == null ? request.send() : request.sendJsonObject(body));
  }

  private static void assertForbidden(HttpResponse<Buffer> response, String message) {
    assertError(response, 403, message);
    assertThat(response.bodyAsJsonObject().getString("error")).isEqualTo("forbidden");
  }

  @Test
  void shouldAnswer401WithoutATokenButServeHealthOpenly() throws Exception {
    WebClient anonymous =
        WebClient.create(
            vertx,
            new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.port()));
    HttpResponse<Buffer> repos = await(anonymous.get("/repos").send());
    assertError(repos, 401, "bearer token");
    assertThat(repos.getHeader("WWW-Authenticate")).startsWith("Bearer");
    assertError(await(anonymous.post("/repos/x/commits").send()), 401, "bearer token");
    assertThat(await(anonymous.get("/health").send()).statusCode()).isEqualTo(200);
    assertError(await(anonymous.get("/metrics").send()), 401, "bearer token");
  }

  @Test
  void shouldMakeTheCreatorOwnerAndRefuseOthersUntilAnOwnerGrantsThemARole() throws Exception {
    // Given alice creates a repo
    String alice = "alice-" + suffix();
    String bob = "bob-" + suffix();
    String repo = "auth-repo-" + suffix();
    assertThat(call(as(alice), HttpMethod.POST, "/repos", repoBody(repo)).statusCode())
        .isEqualTo(201);

    // Then she reads and seals it; bob can neither read it nor see it listed
    assertThat(call(as(alice), HttpMethod.GET, "/repos/" + repo, null).statusCode()).isEqualTo(200);
    assertThat(call(as(alice), HttpMethod.POST, "/repos/" + repo + "/commits", null).statusCode())
        .isEqualTo(201);
    assertForbidden(
        call(as(bob), HttpMethod.GET, "/repos/" + repo, null),
        bob + " needs role 'reader' on repo '" + repo + "'");
    assertThat(names(call(as(bob), HttpMethod.GET, "/repos", null))).doesNotContain(repo);
    assertThat(names(call(as(alice), HttpMethod.GET, "/repos", null))).contains(repo);
    // and a repo that does not exist answers bob the same as one he may not read
    assertForbidden(
        call(as(bob), HttpMethod.GET, "/repos/no-such-" + repo, null),
        "needs role 'reader' on repo 'no-such-" + repo + "'");
    JsonObject whoami = call(as(alice), HttpMethod.GET, "/auth/whoami", null).bodyAsJsonObject();
    assertThat(whoami.getString("subject")).isEqualTo(alice);
    assertThat(whoami.getBoolean("admin")).isFalse();
    assertThat(roles(whoami.getJsonArray("bindings"), "repo:" + repo))
        .containsExactlyInAnyOrder("owner", "content");

    // When alice grants bob reader
    String binding = "/auth/bindings/repo:" + repo + "/reader/" + bob;
    assertThat(call(as(alice), HttpMethod.PUT, binding, null).statusCode()).isEqualTo(200);

    // Then bob reads it, still cannot seal it nor grant, and loses it when revoked
    assertThat(call(as(bob), HttpMethod.GET, "/repos/" + repo, null).statusCode()).isEqualTo(200);
    assertForbidden(
        call(as(bob), HttpMethod.POST, "/repos/" + repo + "/commits", null),
        "needs role 'writer' on repo '" + repo + "'");
    assertForbidden(
        call(as(bob), HttpMethod.PUT, "/auth/bindings/repo:" + repo + "/owner/" + bob, null),
        "needs role 'owner' on resource 'repo:" + repo + "'");
    assertThat(call(as(bob), HttpMethod.GET, "/repos/" + repo + "/members/m1", null).statusCode())
        .isEqualTo(403);
    JsonArray onRepo =
        call(as(alice), HttpMethod.GET, "/auth/bindings/repo:" + repo, null)
            .bodyAsJsonObject()
            .getJsonArray("bindings");
    assertThat(onRepo.size()).isEqualTo(3);
    assertThat(call(as(alice), HttpMethod.DELETE, binding, null).statusCode()).isEqualTo(204);
    assertForbidden(call(as(bob), HttpMethod.GET, "/repos/" + repo, null), "needs role 'reader'");
  }

  @Test
  void shouldRefuseBindingsThatCannotBeHeldAndAdminRoutesToOthers() throws Exception {
    String carol = "carol-" + suffix();
    String repo = "auth-repo-" + suffix();
    assertThat(call(as(carol), HttpMethod.POST, "/repos", repoBody(repo)).statusCode())
        .isEqualTo(201);
    assertError(
        call(as(carol), HttpMethod.PUT, "/auth/bindings/repo:" + repo + "/admin/" + carol, null),
        400,
        "admin is held on the cluster only");
    assertError(
        call(as(carol), HttpMethod.PUT, "/auth/bindings/table:x/reader/" + carol, null),
        400,
        "repo:<name>, pipeline:<name> or cluster");
    assertForbidden(
        call(as(carol), HttpMethod.PUT, "/auth/bindings/cluster/admin/" + carol, null),
        "needs role 'owner' on resource 'cluster'");
    assertForbidden(call(as(carol), HttpMethod.GET, "/audit", null), "role 'admin' on the cluster");
    assertForbidden(call(as(carol), HttpMethod.GET, "/auth/bindings", null), "role 'admin'");
  }

  @Test
  void shouldNeedTheInputReadableAndMakeTheCreatorOwnDerivedReposWhenAPipelineIsCreated()
      throws Exception {
    // Given dave's repo, and erin who may not read it
    String dave = "dave-" + suffix();
    String erin = "erin-" + suffix();
    String repo = "auth-repo-" + suffix();
    String pipeline = "auth-pipe-" + suffix();
    assertThat(call(as(dave), HttpMethod.POST, "/repos", repoBody(repo)).statusCode())
        .isEqualTo(201);

    // When erin creates a pipeline on it / Then she is refused, naming the input
    assertForbidden(
        call(as(erin), HttpMethod.POST, "/pipelines", pipelineBody(pipeline, repo)),
        "needs role 'reader' on the pipeline's input");

    // When dave makes her reader (no content) and she creates it, then a pipeline on its outputs
    assertThat(
            call(as(dave), HttpMethod.PUT, "/auth/bindings/repo:" + repo + "/reader/" + erin, null)
                .statusCode())
        .isEqualTo(200);
    assertThat(
            call(as(erin), HttpMethod.POST, "/pipelines", pipelineBody(pipeline, repo))
                .statusCode())
        .isEqualTo(201);
    JsonObject downstream =
        pipelineBody(pipeline + "-2", repo)
            .put("input", new JsonObject().put("pipeline", pipeline).put("memberKey", "cohortKey"));
    HttpResponse<Buffer> second = call(as(erin), HttpMethod.POST, "/pipelines", downstream);
    assertThat(second.statusCode()).as(second.bodyAsString()).isEqualTo(201);

    // Then she owns both pipelines and the derived repo, without the content right
    JsonObject whoami = call(as(erin), HttpMethod.GET, "/auth/whoami", null).bodyAsJsonObject();
    assertThat(roles(whoami.getJsonArray("bindings"), "pipeline:" + pipeline))
        .containsExactly("owner");
    String derived = pipeline + "-by-cohortkey";
    assertThat(call(as(erin), HttpMethod.GET, "/repos/" + derived, null).statusCode())
        .isEqualTo(200);
    assertThat(names(call(as(erin), HttpMethod.GET, "/pipelines", null)))
        .containsExactlyInAnyOrder(pipeline, pipeline + "-2");
    assertForbidden(
        call(as(erin), HttpMethod.GET, "/repos/" + derived + "/members/m1", null),
        "'content' right on repo '" + derived + "'");
    assertForbidden(
        call(as(dave), HttpMethod.DELETE, "/pipelines/" + pipeline + "-2", null),
        "needs role 'owner' on pipeline '" + pipeline + "-2'");

    // When erin deletes her downstream pipeline / Then its bindings are gone too
    assertThat(
            call(as(erin), HttpMethod.DELETE, "/pipelines/" + pipeline + "-2", null).statusCode())
        .isEqualTo(204);
    JsonArray left =
        get("/auth/bindings/pipeline:" + pipeline + "-2")
            .bodyAsJsonObject()
            .getJsonArray("bindings");
    assertThat(left).isEmpty();
  }

  @Test
  void shouldLetOnlyAdminsCreatePipelinesRunningCommandsOutsideTheAllowList() throws Exception {
    // Given frank's repo, on a commit service whose allow list holds only python3
    String frank = "frank-" + suffix();
    String repo = "auth-repo-" + suffix();
    String pipeline = "auth-cmd-" + suffix();
    assertThat(call(as(frank), HttpMethod.POST, "/repos", repoBody(repo)).statusCode())
        .isEqualTo(201);

    // When frank creates pipelines running sh, as the transform or as errCmd
    HttpResponse<Buffer> shell =
        call(as(frank), HttpMethod.POST, "/pipelines", commandPipeline(pipeline, repo, "sh"));
    JsonObject withErrCmd =
        commandPipeline(pipeline, repo, ALLOWED_COMMAND).put("errCmd", new JsonArray().add("sh"));
    HttpResponse<Buffer> errCmd = call(as(frank), HttpMethod.POST, "/pipelines", withErrCmd);

    // Then both are refused naming the command and the key, and nothing is created
    assertForbidden(shell, "the command 'sh' is not in TUSK_ALLOWED_COMMANDS");
    assertForbidden(errCmd, "the command 'sh' is not in TUSK_ALLOWED_COMMANDS");
    assertThat(get("/pipelines/" + pipeline).statusCode()).isEqualTo(404);

    // When he creates one running python3, then it is created; updating it to sh is refused
    assertThat(
            call(
                    as(frank),
                    HttpMethod.POST,
                    "/pipelines",
                    commandPipeline(pipeline, repo, ALLOWED_COMMAND))
                .statusCode())
        .isEqualTo(201);
    assertForbidden(
        call(
            as(frank),
            HttpMethod.PUT,
            "/pipelines/" + pipeline,
            commandPipeline(pipeline, repo, "sh")),
        "the command 'sh' is not in TUSK_ALLOWED_COMMANDS");
    assertThat(get("/pipelines/" + pipeline).bodyAsString()).contains(ALLOWED_COMMAND);

    // And an admin may create a pipeline running sh
    HttpResponse<Buffer> byAdmin =
        post("/pipelines", commandPipeline(pipeline + "-admin", repo, "sh"));
    assertThat(byAdmin.statusCode()).as(byAdmin.bodyAsString()).isEqualTo(201);
  }

  private static JsonObject commandPipeline(String name, String repo, String executable) {
    return new JsonObject()
        .put("name", name)
        .put("input", new JsonObject().put("repo", repo))
        .put(
            "transform",
            new JsonObject().put("cmd", new JsonArray().add(executable).add("transform.py")));
  }

  @Test
  void shouldAuditMutationsContentReadsAndDenialsWithoutMemberKeys() throws Exception {
    // Given a moment, then frank's repo, his member read, and gina's denied seal
    String since = Instant.now().minusSeconds(1).toString();
    String frank = "frank-" + suffix();
    String gina = "gina-" + suffix();
    String repo = "auth-repo-" + suffix();
    assertThat(call(as(frank), HttpMethod.POST, "/repos", repoBody(repo)).statusCode())
        .isEqualTo(201);
    call(as(frank), HttpMethod.GET, "/repos/" + repo + "/members/member-secret-4711", null);
    assertThat(call(as(gina), HttpMethod.POST, "/repos/" + repo + "/commits", null).statusCode())
        .isEqualTo(403);

    // When the admin reads the audit trail since then
    List<JsonObject> events =
        eventually(
            () -> auditOf(since, frank, gina),
            list -> list.size() >= 3,
            "three audit events of " + frank + " and " + gina);

    // Then each is there with principal, action, resource and outcome, and no member key
    assertThat(events)
        .anySatisfy(
            e -> {
              assertThat(e.getString("principal")).isEqualTo(frank);
              assertThat(e.getString("action")).isEqualTo("POST /repos");
              assertThat(e.getString("outcome")).isEqualTo("success");
              assertThat(e.getInteger("status")).isEqualTo(201);
            })
        .anySatisfy(
            e -> {
              assertThat(e.getString("action")).isEqualTo("GET /repos/:repo/members/:member");
              assertThat(e.getString("resource")).isEqualTo("repo:" + repo);
            })
        .anySatisfy(
            e -> {
              assertThat(e.getString("principal")).isEqualTo(gina);
              assertThat(e.getString("outcome")).isEqualTo("denied");
              assertThat(e.getString("detail")).contains("writer");
            });
    assertThat(events).allSatisfy(e -> assertThat(e.encode()).doesNotContain("member-secret-4711"));
    assertThat(events).allSatisfy(e -> assertThat(e.getString("time")).isNotBlank());
  }

  @Test
  void shouldDeclareEveryRouteOfTheRouterWithWhatItNeeds() {
    SecuredRouter routes = service.routes();
    assertThat(routes.undeclaredRoutes()).isEmpty();
    assertThat(routes.routes()).isNotEmpty();
    assertThat(routes.routes().stream().map(SecuredRouter.Declared::toString))
        .contains("GET /audit", "PUT /auth/bindings/:resource/:role/:subject");
  }

  private static List<JsonObject> auditOf(String since, String... principals) {
    HttpResponse<Buffer> page = get("/audit?limit=1000&since=" + since);
    assertThat(page.statusCode()).as(page.bodyAsString()).isEqualTo(200);
    Set<String> wanted = Set.of(principals);
    return page.bodyAsJsonObject().getJsonArray("events").stream()
        .map(JsonObject.class::cast)
        .filter(e -> wanted.contains(e.getString("principal")))
        .toList();
  }

  private static List<String> names(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonArray().stream()
        .map(o -> ((JsonObject) o).getString("name"))
        .toList();
  }

  private static List<String> roles(JsonArray bindings, String resource) {
    return bindings.stream()
        .map(JsonObject.class::cast)
        .filter(b -> b.getString("resource").equals(resource))
        .map(b -> b.getString("role"))
        .toList();
  }
}
