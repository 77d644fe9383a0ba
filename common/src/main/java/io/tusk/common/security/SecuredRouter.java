package io.tusk.common.security;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tusk.common.http.ApiException;
import io.tusk.common.ops.Observability;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Declares a service's routes with what each needs, in one line each, and protects them: every
 * declared route first runs a guard that authenticates the bearer token (401 without one or with a
 * bad one), finds the resource the request is about, and checks the role with {@link Access} (403
 * naming the role and the resource asked about, never whether it exists), then audits it. The audit
 * trail is written here and nowhere else: every mutation (any method but GET), every request that
 * reads row content and every denied request.
 *
 * <pre>{@code
 * SecuredRouter routes = new SecuredRouter(router, security);
 * routes.get("/repos/:repo", Need.reader(REPO, "repo"), this::handleGetRepo);
 * }</pre>
 *
 * <p>{@link #routes} lists the declared routes, so a test can run the access matrix over them, and
 * {@link #undeclaredRoutes} those of the router that were not declared here (none, or a route
 * skipped the matrix).
 */
public final class SecuredRouter {
  private static final String PRINCIPAL = "tusk.principal";
  private static final Duration REQUEST_TARGET = Duration.ofMillis(10);

  /** A declared route: method, path template and what it needs. */
  public record Declared(HttpMethod method, String path, Need need) {
    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  private final Router router;
  private final Security security;
  private final List<Declared> declared = new ArrayList<>();
  private final Set<Route> added = Collections.newSetFromMap(new IdentityHashMap<>());
  // Set by observability(), which services call after declaring their routes; read per request.
  private volatile MeterRegistry meters;
  // Looked up per request on the event loop: built once per route and status.
  private final Map<TimedOutcome, Timer> timers = new ConcurrentHashMap<>();

  public SecuredRouter(Router router, Security security) {
    this.router = Objects.requireNonNull(router, "router");
    this.security = Objects.requireNonNull(security, "security");
  }

  /** The router the routes are added to. */
  public Router router() {
    return router;
  }

  /** The security the routes are checked with. */
  public Security security() {
    return security;
  }

  public SecuredRouter get(String path, Need need, Handler<RoutingContext> handler) {
    return route(HttpMethod.GET, path, need, handler);
  }

  public SecuredRouter post(String path, Need need, Handler<RoutingContext> handler) {
    return route(HttpMethod.POST, path, need, handler);
  }

  public SecuredRouter put(String path, Need need, Handler<RoutingContext> handler) {
    return route(HttpMethod.PUT, path, need, handler);
  }

  public SecuredRouter delete(String path, Need need, Handler<RoutingContext> handler) {
    return route(HttpMethod.DELETE, path, need, handler);
  }

  /** Declares {@code method path}, protected by {@code need}, answered by {@code handler}. */
  public SecuredRouter route(
      HttpMethod method, String path, Need need, Handler<RoutingContext> handler) {
    Objects.requireNonNull(need, "need");
    Objects.requireNonNull(handler, "handler");
    Declared route = new Declared(method, path, need);
    declared.add(route);
    Route created = router.route(method, path);
    created
        .handler(
            ctx -> {
              time(route, ctx);
              guard(route, ctx);
            })
        .handler(handler);
    added.add(created);
    return this;
  }

  /**
   * Declares {@code GET /health} (open: supervisors and load balancers probe it) and {@code GET
   * /metrics} (reader on the cluster, or open when the operator set {@code
   * TUSK_METRICS_PUBLIC=true}), and from then on times every declared route's requests in {@code
   * tusk_http_server_requests_seconds} ({@link #time}).
   */
  public SecuredRouter observability(Observability observability) {
    meters = observability.registry();
    get("/health", Need.open(), observability::handleHealth);
    get(
        "/metrics",
        security.config().metricsPublic() ? Need.open() : Need.clusterReader(),
        observability::handleMetrics);
    return this;
  }

  /**
   * Records, once the response ended, how long the request took from reaching its route to its last
   * byte written, as a histogram by method, route template (never the path: it holds member keys)
   * and status. A bucket at 10 ms, the lineage lookups' target, makes the share within it exact.
   */
  private void time(Declared route, RoutingContext ctx) {
    MeterRegistry registry = meters;
    if (registry == null) {
      return;
    }
    long started = System.nanoTime();
    ctx.addEndHandler(
        ended ->
            timers
                .computeIfAbsent(
                    new TimedOutcome(route, ctx.response().getStatusCode()),
                    outcome -> outcome.timer(registry))
                .record(System.nanoTime() - started, TimeUnit.NANOSECONDS));
  }

  /** A route and a status: one series of the request histogram. */
  private record TimedOutcome(Declared route, int status) {
    Timer timer(MeterRegistry registry) {
      return Timer.builder("tusk.http.server.requests")
          .description("HTTP requests from reaching their route to the response's end")
          .tag("method", route.method().name())
          .tag("route", route.path())
          .tag("status", Integer.toString(status))
          .publishPercentileHistogram()
          .serviceLevelObjectives(REQUEST_TARGET)
          .register(registry);
    }
  }

  /** Every route declared so far, in order. */
  public List<Declared> routes() {
    return List.copyOf(declared);
  }

  /**
   * The routes of the router that were not declared here (so not protected), as {@code METHODS
   * path}: routes without a path (body handler, failure handler) aside, it must be empty.
   */
  public List<String> undeclaredRoutes() {
    List<String> undeclared = new ArrayList<>();
    for (Route route : router.getRoutes()) {
      if (route.getPath() != null && !added.contains(route)) {
        undeclared.add(route.methods() + " " + route.getPath());
      }
    }
    return undeclared;
  }

  /** The caller of a request that passed a guard ({@link Principal#ANONYMOUS} on an open route). */
  public static Principal principal(RoutingContext ctx) {
    Principal principal = ctx.get(PRINCIPAL);
    return principal == null ? Principal.ANONYMOUS : principal;
  }

  private void guard(Declared route, RoutingContext ctx) {
    Need need = route.need();
    if (need.kind() == Need.Kind.OPEN) {
      ctx.next();
      return;
    }
    String token = bearer(ctx);
    if (token == null && security.config().enabled()) {
      refuse(
          ctx,
          route,
          "",
          null,
          new ApiException(
              401,
              "unauthenticated",
              "this endpoint needs a bearer token (header Authorization: Bearer <JWT>)"));
      return;
    }
    security
        .verifier()
        .verify(token)
        .onFailure(failure -> refuse(ctx, route, "", null, asApi(failure)))
        .onSuccess(
            principal -> {
              ctx.put(PRINCIPAL, principal);
              authorize(route, need, ctx, principal, null, false);
            });
  }

  /**
   * Checks {@code need} and the needs chained to it, then lets the request through (audited when it
   * is a mutation or reads content).
   */
  private void authorize(
      Declared route,
      Need need,
      RoutingContext ctx,
      Principal principal,
      Resource firstResource,
      boolean readsContent) {
    if (need == null) {
      admit(route, ctx, principal, firstResource, readsContent);
      return;
    }
    if (need.kind() != Need.Kind.ROLE) {
      authorize(route, need.also(), ctx, principal, firstResource, readsContent);
      return;
    }
    Future<Optional<Resource>> resolved;
    try {
      resolved = need.resolve(ctx);
    } catch (RuntimeException e) {
      resolved = Future.failedFuture(e);
    }
    resolved
        .onFailure(
            failure -> {
              // A malformed request (400) or a store not ready (503): answered as the handler
              // would.
              if (isMutation(route)) {
                audit(
                    route,
                    principal.subject(),
                    firstResource,
                    failure instanceof ApiException a ? a.status() : 500,
                    null);
              }
              ctx.fail(failure);
            })
        .onSuccess(
            resource -> {
              boolean content = need.needsContent(ctx);
              Resource first = firstResource != null ? firstResource : resource.orElse(null);
              if (resource.isEmpty() && need.optional()) {
                authorize(route, need.also(), ctx, principal, first, readsContent);
                return;
              }
              Access access = security.access();
              boolean allowed =
                  resource.isPresent()
                      ? access.has(principal, need.role(), resource.get())
                          && (!content || access.has(principal, Role.CONTENT, resource.get()))
                      : access.isAdmin(principal);
              if (!allowed) {
                String missing =
                    "needs role '"
                        + need.role().label()
                        + "'"
                        + (content ? " and the 'content' right" : "")
                        + " on "
                        + need.target(ctx);
                refuse(
                    ctx,
                    route,
                    principal.subject(),
                    resource.orElse(null),
                    new ApiException(403, "forbidden", principal.subject() + " " + missing));
                return;
              }
              authorize(route, need.also(), ctx, principal, first, readsContent || content);
            });
  }

  private void admit(
      Declared route,
      RoutingContext ctx,
      Principal principal,
      Resource resource,
      boolean readsContent) {
    if (isMutation(route) || readsContent) {
      ctx.addEndHandler(
          done ->
              audit(route, principal.subject(), resource, ctx.response().getStatusCode(), null));
    }
    ctx.next();
  }

  private void refuse(
      RoutingContext ctx, Declared route, String principal, Resource resource, ApiException error) {
    if (error.status() == 401) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"tusk\"");
    }
    audit(route, principal, resource, error.status(), error.getMessage());
    ctx.fail(error);
  }

  private void audit(
      Declared route, String principal, Resource resource, int status, String detail) {
    String outcome =
        status == 401
            ? "unauthenticated"
            : status == 403 ? "denied" : status < 400 ? "success" : "failure";
    security.audit().record(principal, route.toString(), resource, outcome, status, detail);
  }

  private static boolean isMutation(Declared route) {
    return route.method() != HttpMethod.GET && route.method() != HttpMethod.HEAD;
  }

  private static ApiException asApi(Throwable failure) {
    return failure instanceof ApiException api
        ? api
        : new ApiException(401, "unauthenticated", "invalid bearer token");
  }

  /** The token of an {@code Authorization: Bearer} header, or null. */
  private static String bearer(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = header.substring(7).strip();
    return token.isEmpty() ? null : token;
  }
}
