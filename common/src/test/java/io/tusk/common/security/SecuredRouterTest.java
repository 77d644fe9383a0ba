package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.tusk.common.config.Config;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.ops.Observability;
import io.tusk.localstack.AuthKeys;
import io.tusk.schemas.AuditEvent;
import io.tusk.testfixtures.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The route guard over a real HTTP server, real tokens and the real rules (role bindings changed in
 * memory): 401 without a valid token, 403 naming the role and resource, through with the role;
 * mutations, content reads and denials in the audit trail, never a member key.
 */
class SecuredRouterTest {
  @TempDir static Path dir;
  static Vertx vertx;
  static AuthKeys keys;
  static RoleBindings bindings;
  static final List<AuditEvent> audited = new CopyOnWriteArrayList<>();
  static SecuredRouter routes;
  static HttpServer server;
  static WebClient client;
  static Observability observability;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    keys = AuthKeys.loadOrCreate(dir.resolve("keys"));
    AuthConfig config =
        AuthConfig.from(
            Config.load(
                Map.of(
                    "TUSK_AUTH_JWKS_FILE",
                    keys.jwksFile().toString(),
                    "TUSK_AUTH_ISSUER",
                    AuthKeys.ISSUER,
                    "TUSK_AUTH_ADMINS",
                    "root"),
                AuthConfig.KEYS));
    bindings = RoleBindings.inMemory();
    Security security =
        Security.of(
            "test-service",
            config,
            TokenVerifier.start(vertx, config),
            bindings,
            Audit.to(audited::add, "test-service"),
            repo -> repo.equals("risk-by-k") ? Optional.of("risk") : Optional.empty());
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    routes = new SecuredRouter(router, security);
    routes
        .get("/open", Need.open(), SecuredRouterTest::ok)
        .get("/whoami", Need.authenticated(), SecuredRouterTest::ok)
        .get("/repos/:repo", Need.reader(Resource.Kind.REPO, "repo"), SecuredRouterTest::ok)
        .post(
            "/repos/:repo/commits", Need.writer(Resource.Kind.REPO, "repo"), SecuredRouterTest::ok)
        .get(
            "/repos/:repo/members/:member",
            Need.content(Resource.Kind.REPO, "repo"),
            SecuredRouterTest::ok)
        .get(
            "/repos/:repo/rejected",
            Need.reader(Resource.Kind.REPO, "repo")
                .withContentWhen(ctx -> "true".equals(ctx.queryParams().get("content"))),
            SecuredRouterTest::ok)
        .get(
            "/jobs/:id",
            Need.resolved(
                Role.READER,
                "the pipeline of job :id",
                ctx ->
                    Future.succeededFuture(
                        ctx.pathParam("id").equals("j1")
                            ? Optional.of(Resource.pipeline("risk"))
                            : Optional.empty())),
            SecuredRouterTest::ok)
        .get("/jobs", Need.readerIfGiven(Resource.Kind.PIPELINE, "pipeline"), SecuredRouterTest::ok)
        .put(
            "/pipelines/:pipeline",
            Need.owner(Resource.Kind.PIPELINE, "pipeline")
                .and(
                    Need.resolved(
                        Role.READER,
                        "the input repo '?input'",
                        ctx ->
                            Future.succeededFuture(
                                Optional.of(Resource.repo(ctx.queryParams().get("input")))))),
            SecuredRouterTest::ok)
        .get("/audit", Need.admin(), SecuredRouterTest::ok);
    observability = new Observability("test-service");
    routes.observability(observability);
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    client = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void clear() {
    audited.clear();
    bindings
        .all()
        .forEach(
            b ->
                bindings.apply(
                    RoleBindings.key(
                        Resource.parse(b.getResource()), Role.parse(b.getRole()), b.getSubject()),
                    null));
  }

  private static void ok(RoutingContext ctx) {
    ctx.json(Map.of("subject", SecuredRouter.principal(ctx).subject()));
  }

  private static void bind(String subject, Resource resource, Role role) {
    bindings.apply(
        RoleBindings.key(resource, role, subject),
        RoleBindings.binding(resource, role, subject, "test", 0));
  }

  private static HttpResponse<Buffer> call(HttpMethod method, String path, String subject)
      throws Exception {
    HttpRequest<Buffer> request = client.request(method, server.actualPort(), "127.0.0.1", path);
    if (subject != null) {
      request.putHeader("Authorization", "Bearer " + keys.mint(subject, Duration.ofMinutes(5)));
    }
    return request.send().await(10, TimeUnit.SECONDS);
  }

  private static void assertError(HttpResponse<Buffer> response, int status, String... parts) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    assertThat(response.bodyAsJsonObject().getString("error"))
        .isEqualTo(status == 401 ? "unauthenticated" : "forbidden");
    assertThat(response.bodyAsJsonObject().getString("message")).contains(parts);
  }

  private static AuditEvent onlyAuditEvent() {
    return Await.until(
            "one audit event",
            Duration.ofSeconds(10),
            () -> List.copyOf(audited),
            l -> l.size() == 1)
        .get(0);
  }

  @Test
  void shouldAnswer401AndAuditItWhenTheTokenIsMissingOrInvalid() throws Exception {
    // When a protected route is called without a token
    HttpResponse<Buffer> none = call(HttpMethod.GET, "/repos/claims", null);

    // Then 401 JSON with a WWW-Authenticate challenge, audited as unauthenticated
    assertError(none, 401, "bearer token");
    assertThat(none.getHeader("WWW-Authenticate")).startsWith("Bearer");
    AuditEvent event = onlyAuditEvent();
    assertThat(event.getOutcome()).isEqualTo("unauthenticated");
    assertThat(event.getAction()).isEqualTo("GET /repos/:repo");
    assertThat(event.getPrincipal()).isEmpty();

    // When the header is not a bearer token, or the token is garbage / Then 401 too
    assertError(
        await(
            client
                .get(server.actualPort(), "127.0.0.1", "/repos/claims")
                .putHeader("Authorization", "Basic YTpi")
                .send()),
        401,
        "bearer token");
    assertError(
        await(
            client
                .get(server.actualPort(), "127.0.0.1", "/repos/claims")
                .putHeader("Authorization", "Bearer x.y.z")
                .send()),
        401,
        "invalid bearer token");
  }

  @Test
  void shouldAnswer403NamingTheRoleAndResourceWhenTheRoleIsMissing() throws Exception {
    // Given bob reader of claims
    bind("bob", Resource.repo("claims"), Role.READER);

    // When he seals a commit of claims, and reads another repo
    HttpResponse<Buffer> seal = call(HttpMethod.POST, "/repos/claims/commits", "bob");
    HttpResponse<Buffer> other = call(HttpMethod.GET, "/repos/secret-repo", "bob");

    // Then both are 403 naming what was missing, nothing else
    assertError(seal, 403, "bob needs role 'writer' on repo 'claims'");
    assertError(other, 403, "bob needs role 'reader' on repo 'secret-repo'");
    List<AuditEvent> events =
        Await.until(
            "two audit events",
            Duration.ofSeconds(10),
            () -> List.copyOf(audited),
            l -> l.size() == 2);
    assertThat(events).allSatisfy(e -> assertThat(e.getOutcome()).isEqualTo("denied"));
    assertThat(events).extracting(AuditEvent::getStatus).containsOnly(403);
    assertThat(events)
        .extracting(AuditEvent::getDetail)
        .allSatisfy(d -> assertThat(d).contains("needs role"));
  }

  @Test
  void shouldLetThroughAndAuditOnlyMutationsWhenTheRoleIsHeld() throws Exception {
    // Given bob writer of claims
    bind("bob", Resource.repo("claims"), Role.WRITER);

    // When he reads it and seals a commit
    HttpResponse<Buffer> read = call(HttpMethod.GET, "/repos/claims", "bob");
    HttpResponse<Buffer> seal = call(HttpMethod.POST, "/repos/claims/commits", "bob");

    // Then both pass with his principal, and only the seal is audited, as a success
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.bodyAsJsonObject().getString("subject")).isEqualTo("bob");
    assertThat(seal.statusCode()).isEqualTo(200);
    AuditEvent event = onlyAuditEvent();
    assertThat(event.getAction()).isEqualTo("POST /repos/:repo/commits");
    assertThat(event.getResource()).isEqualTo("repo:claims");
    assertThat(event.getPrincipal()).isEqualTo("bob");
    assertThat(event.getOutcome()).isEqualTo("success");
    assertThat(event.getStatus()).isEqualTo(200);
  }

  @Test
  void shouldNeedTheContentRightAndAuditTheReadWithoutTheMemberKey() throws Exception {
    // Given carol owner of claims (owner does not include content), dave reader with content
    bind("carol", Resource.repo("claims"), Role.OWNER);
    bind("dave", Resource.repo("claims"), Role.READER);
    bind("dave", Resource.repo("claims"), Role.CONTENT);

    // When both read a member's rows, and carol the rejected rows with and without bytes
    HttpResponse<Buffer> carol = call(HttpMethod.GET, "/repos/claims/members/member-4711", "carol");
    HttpResponse<Buffer> rejected = call(HttpMethod.GET, "/repos/claims/rejected", "carol");
    HttpResponse<Buffer> rejectedBytes =
        call(HttpMethod.GET, "/repos/claims/rejected?content=true", "carol");

    // Then carol is refused the content, dave reads it, and no audit event holds the member key
    assertError(carol, 403, "'content' right on repo 'claims'");
    assertThat(rejected.statusCode()).isEqualTo(200);
    assertError(rejectedBytes, 403, "'content' right");
    HttpResponse<Buffer> dave = call(HttpMethod.GET, "/repos/claims/members/member-4711", "dave");
    assertThat(dave.statusCode()).isEqualTo(200);
    List<AuditEvent> events =
        Await.until(
            "three audit events",
            Duration.ofSeconds(10),
            () -> List.copyOf(audited),
            l -> l.size() == 3);
    assertThat(events)
        .extracting(AuditEvent::getOutcome)
        .containsExactlyInAnyOrder("denied", "denied", "success");
    assertThat(events).allSatisfy(e -> assertThat(e.toString()).doesNotContain("member-4711"));
    assertThat(events)
        .anySatisfy(e -> assertThat(e.getAction()).isEqualTo("GET /repos/:repo/members/:member"));
  }

  @Test
  void shouldDenyAllButAdminsWithTheSameMessageWhenAResourceCannotBeFound() throws Exception {
    // Given erin reader of pipeline risk, which runs job j1; job j2 does not exist
    bind("erin", Resource.pipeline("risk"), Role.READER);

    // Then she reads j1; j2 is a 403 for her (as any job of a pipeline she cannot read), admins
    // pass
    assertThat(call(HttpMethod.GET, "/jobs/j1", "erin").statusCode()).isEqualTo(200);
    assertError(call(HttpMethod.GET, "/jobs/j2", "erin"), 403, "on the pipeline of job j2");
    assertError(call(HttpMethod.GET, "/jobs/j1", "frank"), 403, "on the pipeline of job j1");
    assertThat(call(HttpMethod.GET, "/jobs/j2", "root").statusCode()).isEqualTo(200);
  }

  @Test
  void shouldNeedOnlyATokenWhenAnOptionalResourceIsNotGiven() throws Exception {
    assertThat(call(HttpMethod.GET, "/jobs", "gina").statusCode()).isEqualTo(200);
    assertError(call(HttpMethod.GET, "/jobs?pipeline=risk", "gina"), 403, "pipeline 'risk'");
    assertThat(call(HttpMethod.GET, "/whoami", "gina").statusCode()).isEqualTo(200);
    assertThat(call(HttpMethod.GET, "/open", null).statusCode()).isEqualTo(200);
  }

  @Test
  void shouldCheckEveryChainedNeedWhenARouteHasSeveral() throws Exception {
    // Given hank owner of risk, reader of claims only
    bind("hank", Resource.pipeline("risk"), Role.OWNER);
    bind("hank", Resource.repo("claims"), Role.READER);

    // Then an update reading claims passes, one reading another repo is refused naming it
    assertThat(call(HttpMethod.PUT, "/pipelines/risk?input=claims", "hank").statusCode())
        .isEqualTo(200);
    assertError(
        call(HttpMethod.PUT, "/pipelines/risk?input=secret", "hank"),
        403,
        "the input repo 'secret'");
    // and the derived repo of his pipeline is his
    assertThat(call(HttpMethod.GET, "/repos/risk-by-k", "hank").statusCode()).isEqualTo(200);
  }

  @Test
  void shouldAllowAdminRoutesOnlyToAdminsWhenConfiguredOrBound() throws Exception {
    assertError(call(HttpMethod.GET, "/audit", "ivy"), 403, "role 'admin' on the cluster");
    bind("ivy", Resource.CLUSTER, Role.ADMIN);
    assertThat(call(HttpMethod.GET, "/audit", "ivy").statusCode()).isEqualTo(200);
    assertThat(call(HttpMethod.GET, "/audit", "root").statusCode()).isEqualTo(200);
  }

  @Test
  void shouldTimeEveryRequestByRouteTemplateAndStatusNeverByPath() throws Exception {
    // Given dave reader of claims with content, carol with no role
    bind("dave", Resource.repo("claims"), Role.READER);
    bind("dave", Resource.repo("claims"), Role.CONTENT);
    String route = "/repos/:repo/members/:member";
    long answered = requests(route, "200");
    long refused = requests(route, "403");

    // When each reads a member's rows
    assertThat(call(HttpMethod.GET, "/repos/claims/members/member-4711", "dave").statusCode())
        .isEqualTo(200);
    assertThat(call(HttpMethod.GET, "/repos/claims/members/member-4711", "carol").statusCode())
        .isEqualTo(403);

    // Then each request is timed under its route's template and status (once its response ended,
    // which may follow the client's receipt), with a bucket at 10 ms, and no series names the key
    Await.until(
        "both requests timed",
        Duration.ofSeconds(10),
        () -> List.of(requests(route, "200") - answered, requests(route, "403") - refused),
        counts -> counts.equals(List.of(1L, 1L)));
    String scrape = observability.registry().scrape();
    assertThat(scrape.lines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("tusk_http_server_requests_seconds_bucket{")
                    .contains("le=\"0.01\"", "route=\"" + route + "\"", "status=\"200\""));
    assertThat(scrape).doesNotContain("member-4711");
  }

  private static long requests(String route, String status) {
    Timer timer =
        observability
            .registry()
            .find("tusk.http.server.requests")
            .tags("route", route, "status", status)
            .timer();
    return timer == null ? 0 : timer.count();
  }

  @Test
  void shouldListEveryRouteOfTheRouterWhenAllWereDeclared() {
    assertThat(routes.undeclaredRoutes()).isEmpty();
    // and a route added beside it is reported
    SecuredRouter other = new SecuredRouter(Router.router(vertx), routes.security());
    other.get("/declared", Need.open(), SecuredRouterTest::ok);
    other.router().get("/sneaked-in").handler(SecuredRouterTest::ok);
    assertThat(other.undeclaredRoutes()).containsExactly("[GET] /sneaked-in");
    assertThat(routes.routes()).isNotEmpty();
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
