package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.Config;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.http.HttpServers;
import io.tusk.common.security.Audit;
import io.tusk.common.security.AuthConfig;
import io.tusk.common.security.RoleBindings;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.common.security.TokenVerifier;
import io.tusk.schemas.AuditEvent;
import io.tusk.schemas.Commit;
import io.tusk.schemas.RepoSpec;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The member history endpoints over HTTP, on stores of a {@code TopologyTestDriver}. */
class MemberApiTest {
  private TopologyFixture f;
  private Vertx vertx;
  private HttpServer server;
  private final HttpClient client = HttpClient.newHttpClient();
  private final List<AuditEvent> audited = new CopyOnWriteArrayList<>();
  private SecuredRouter routes;
  private Commit[] commits;

  @BeforeEach
  void setUp() throws Exception {
    f = new TopologyFixture();
    // Given a retention of 1 and A changed in commits 1 and 2 (jobs-free, so pruning runs)
    f.specs.put(
        REPO, RepoSpec.newBuilder(TopologyFixture.spec(REPO)).setHistoryRetention(1).build());
    commits = new Commit[3];
    for (int n = 1; n <= 2; n++) {
      f.row(claim(0, n - 1, "A", "a1", Integer.toString(n)));
      Commit c = commit(n, new long[] {n - 1, 0, 0}, new long[] {n, 0, 0});
      commits[n] = Commit.newBuilder(c).setJobs(List.of()).build();
      f.seal(commits[n]);
      f.barriersAtEnd(commits[n]);
    }
    MemberQueries queries =
        new MemberQueries(
            name -> Optional.ofNullable(f.specs.get(name)),
            new MemberQueries.Stores() {
              @Override
              public <K, V> ReadOnlyKeyValueStore<K, V> store(String name, int partition) {
                return f.driver.getKeyValueStore(name);
              }
            });
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    // Authentication as the service runs it: the test key set, its admin, no broker needed.
    AuthConfig auth = AuthConfig.from(Config.load(TestAuth.shared().env(), AuthConfig.KEYS));
    Security security =
        Security.of(
            "partition-service",
            auth,
            TokenVerifier.start(vertx, auth),
            RoleBindings.inMemory(),
            Audit.to(audited::add, "partition-service"),
            repo -> Optional.empty());
    routes = new SecuredRouter(router, security);
    // One instance: it holds every member partition.
    QueryRouting routing =
        new QueryRouting(
            vertx,
            partition -> Optional.empty(),
            new HostInfo("127.0.0.1", 1),
            "http",
            "member-api-test",
            null);
    new MemberApi(vertx, queries, routing).mount(routes);
    server =
        vertx
            .createHttpServer(HttpServers.options())
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    f.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
            .header("Authorization", TestAuth.shared().bearer(TestAuth.ADMIN))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldAnswerTheMemberAsJsonWhenItExists() throws Exception {
    // When A is asked for as of commit 2
    HttpResponse<String> response = get("/repos/" + REPO + "/members/A?at=" + commits[2].getId());

    // Then it is JSON with its version and rows
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("repo")).isEqualTo(REPO);
    assertThat(body.getLong("sequence")).isEqualTo(2);
    assertThat(
            body.getJsonArray("rows").getJsonObject(0).getJsonObject("values").getString("AMOUNT"))
        .isEqualTo("2");
  }

  @Test
  void shouldAnswerJsonErrorsWhenARequestCannotBeAnswered() throws Exception {
    // Then a commit past the retention is 410, an unknown member 404, a bad limit and a missing
    // commit 400, each with a JSON error naming the problem
    assertError(get("/repos/" + REPO + "/members/A?at=" + commits[1].getId()), 410, "gone");
    assertError(get("/repos/" + REPO + "/members/Z"), 404, "not_found");
    assertError(
        get(
            "/repos/"
                + REPO
                + "/diff?from="
                + commits[2].getId()
                + "&to="
                + commits[2].getId()
                + "&limit=x"),
        400,
        "bad_request");
    HttpResponse<String> missing = get("/repos/" + REPO + "/diff/A?to=" + commits[2].getId());
    assertError(missing, 400, "bad_request");
    assertThat(new JsonObject(missing.body()).getString("message")).contains("from");
  }

  private static void assertError(HttpResponse<String> response, int status, String error) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(new JsonObject(response.body()).getString("error")).isEqualTo(error);
  }

  @Test
  void shouldRefuseMemberRowsWithoutATokenAndAuditTheAdminsRead() throws Exception {
    // When a member is asked without a token / Then 401
    HttpResponse<String> anonymous =
        client.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + server.actualPort()
                            + "/repos/"
                            + REPO
                            + "/members/A"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);

    // When the admin reads it / Then the content read is audited, without the member key
    audited.clear();
    assertThat(get("/repos/" + REPO + "/members/A?at=" + commits[2].getId()).statusCode())
        .isEqualTo(200);
    List<AuditEvent> events =
        io.tusk.testfixtures.Await.until(
            "the member read audited",
            java.time.Duration.ofSeconds(10),
            () -> List.copyOf(audited),
            l -> !l.isEmpty());
    assertThat(events.get(0).getAction()).isEqualTo("GET /repos/:repo/members/:member");
    assertThat(events.get(0).getResource()).isEqualTo("repo:" + REPO);
    assertThat(events.get(0).getOutcome()).isEqualTo("success");
    assertThat(routes.undeclaredRoutes()).isEmpty();
  }
}
