package io.tusk.partition;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.QueryParams;
import io.tusk.common.security.Need;
import io.tusk.common.security.Resource;
import io.tusk.common.security.SecuredRouter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;

/**
 * The partition service's HTTP queries of member history: {@code GET /repos/{repo}/members/{member}
 * ?at=}, {@code GET /repos/{repo}/diff?from=&to=&limit=&after=} and {@code GET
 * /repos/{repo}/diff/{member}?from=&to=}, answered by any instance: a member's partition may be
 * held by another, which {@link QueryRouting} asks. Store reads run on worker threads, never on the
 * event loop; errors go to the router's JSON failure handler.
 */
final class MemberApi {
  private static final Resource.Kind REPO = Resource.Kind.REPO;

  private final Vertx vertx;
  private final MemberQueries queries;
  private final QueryRouting routing;

  MemberApi(Vertx vertx, MemberQueries queries, QueryRouting routing) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.queries = Objects.requireNonNull(queries, "queries");
    this.routing = Objects.requireNonNull(routing, "routing");
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
    ofMember(
        ctx,
        () ->
            queries.member(
                ctx.pathParam("repo"), ctx.pathParam("member"), ctx.queryParams().get("at")));
  }

  private void memberDiff(RoutingContext ctx) {
    ofMember(
        ctx,
        () ->
            queries.memberDiff(
                ctx.pathParam("repo"),
                ctx.pathParam("member"),
                ctx.queryParams().get("from"),
                ctx.queryParams().get("to")));
  }

  /** Answers a query of one member here, or forwards it to the instance holding its partition. */
  private void ofMember(RoutingContext ctx, Callable<JsonObject> query) {
    Optional<HostInfo> owner;
    int partition;
    try {
      partition = queries.partitionOf(ctx.pathParam("repo"), ctx.pathParam("member"));
      owner = routing.ownerOf(partition);
    } catch (ApiException e) {
      ctx.fail(e);
      return;
    }
    if (owner.isEmpty()) {
      answer(ctx, query);
    } else if (QueryRouting.forwarded(ctx)) {
      ctx.fail(routing.notHeldHere(partition, ctx));
    } else {
      routing.forward(ctx, owner.get());
    }
  }

  /**
   * A diff: with {@code ?partitions=}, this instance's part over those partitions (which it must
   * hold); otherwise the parts of every instance holding the repo's partitions, merged.
   */
  private void diff(RoutingContext ctx) {
    String repo = ctx.pathParam("repo");
    String from = ctx.queryParams().get("from");
    String to = ctx.queryParams().get("to");
    String after = ctx.queryParams().get("after");
    int limit;
    Map<HostInfo, Set<Integer>> owners;
    try {
      limit = limit(ctx.queryParams().get("limit"));
      String asked = ctx.queryParams().get(QueryRouting.PARTITIONS);
      Set<Integer> partitions = asked == null ? queries.allPartitions(repo) : partitions(asked);
      owners = routing.owners(partitions);
      if (asked != null && !owners.keySet().equals(Set.of(routing.self()))) {
        int moved =
            owners.entrySet().stream()
                .filter(e -> !e.getKey().equals(routing.self()))
                .findFirst()
                .orElseThrow()
                .getValue()
                .iterator()
                .next();
        throw routing.notHeldHere(moved, ctx);
      }
    } catch (ApiException e) {
      ctx.fail(e);
      return;
    }
    List<Future<JsonObject>> parts = new ArrayList<>();
    owners.forEach(
        (host, partitions) ->
            parts.add(
                host.equals(routing.self())
                    ? blocking(() -> queries.diff(repo, from, to, limit, after, partitions))
                    : routing.diffPart(ctx, host, partitions)));
    Future.all(parts)
        .map(all -> MemberQueries.mergeDiffs(all.<JsonObject>list(), limit))
        .onSuccess(json -> send(ctx, json))
        .onFailure(ctx::fail);
  }

  /** The partition numbers of {@code ?partitions=}: comma-separated, 400 when not numbers. */
  private static Set<Integer> partitions(String value) {
    Set<Integer> partitions = new TreeSet<>();
    for (String part : value.split(",", -1)) {
      try {
        partitions.add(Integer.parseInt(part.strip()));
      } catch (NumberFormatException e) {
        throw ApiException.badRequest(
            QueryRouting.PARTITIONS + " must be comma-separated partition numbers");
      }
    }
    return partitions;
  }

  /** The page size of a diff: 1 to {@link MemberQueries#MAX_LIMIT}, 1,000 by default. */
  private static int limit(String value) {
    return QueryParams.limit(value, 1000, MemberQueries.MAX_LIMIT);
  }

  private void answer(RoutingContext ctx, Callable<JsonObject> query) {
    blocking(query).onSuccess(json -> send(ctx, json)).onFailure(ctx::fail);
  }

  private Future<JsonObject> blocking(Callable<JsonObject> query) {
    return vertx.executeBlocking(
        () -> {
          try {
            return query.call();
          } catch (InvalidStateStoreException e) {
            // A store migrating or restoring, or a member partition another instance holds.
            throw ApiException.unavailable("member stores are not available: " + e.getMessage());
          }
        },
        false);
  }

  private static void send(RoutingContext ctx, JsonObject json) {
    ctx.response().putHeader("Content-Type", "application/json").end(json.encode());
  }
}
