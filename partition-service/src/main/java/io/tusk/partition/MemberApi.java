package io.tusk.partition;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.QueryParams;
import io.tusk.common.security.Need;
import io.tusk.common.security.Resource;
import io.tusk.common.security.SecuredRouter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The partition service's HTTP queries of member history: {@code GET /repos/{repo}/members/{member}
 * ?at=}, {@code GET /repos/{repo}/diff?from=&to=&limit=&after=} and {@code GET
 * /repos/{repo}/diff/{member}?from=&to=}. Store reads run on worker threads, never on the event
 * loop; errors go to the router's JSON failure handler.
 */
final class MemberApi {
  private static final Resource.Kind REPO = Resource.Kind.REPO;

  private final Vertx vertx;
  private final MemberQueries queries;

  MemberApi(Vertx vertx, MemberQueries queries) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.queries = Objects.requireNonNull(queries, "queries");
  }

  /**
   * Declares the routes: a member's rows and one member's diff are row content (reader and the
   * content right on the repo), a diff's member list needs reader.
   */
  void mount(SecuredRouter routes) {
    routes
        .get("/repos/:repo/members/:member", Need.content(REPO, "repo"), this::member)
        .get("/repos/:repo/diff", Need.reader(REPO, "repo"), this::diff)
        .get("/repos/:repo/diff/:member", Need.content(REPO, "repo"), this::memberDiff);
  }

  private void member(RoutingContext ctx) {
    answer(
        ctx,
        () ->
            queries.member(
                ctx.pathParam("repo"), ctx.pathParam("member"), ctx.queryParams().get("at")));
  }

  private void diff(RoutingContext ctx) {
    answer(
        ctx,
        () ->
            queries.diff(
                ctx.pathParam("repo"),
                ctx.queryParams().get("from"),
                ctx.queryParams().get("to"),
                limit(ctx.queryParams().get("limit")),
                ctx.queryParams().get("after")));
  }

  private void memberDiff(RoutingContext ctx) {
    answer(
        ctx,
        () ->
            queries.memberDiff(
                ctx.pathParam("repo"),
                ctx.pathParam("member"),
                ctx.queryParams().get("from"),
                ctx.queryParams().get("to")));
  }

  /** The page size of a diff: 1 to {@link MemberQueries#MAX_LIMIT}, 1,000 by default. */
  private static int limit(String value) {
    return QueryParams.limit(value, 1000, MemberQueries.MAX_LIMIT);
  }

  private void answer(RoutingContext ctx, Callable<JsonObject> query) {
    vertx
        .executeBlocking(
            () -> {
              try {
                return query.call();
              } catch (InvalidStateStoreException e) {
                // A store migrating or restoring, or a member partition another instance holds.
                throw ApiException.unavailable(
                    "member stores are not available: " + e.getMessage());
              }
            },
            false)
        .onSuccess(
            json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
        .onFailure(ctx::fail);
  }
}
