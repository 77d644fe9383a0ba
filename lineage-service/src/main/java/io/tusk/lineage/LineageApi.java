package io.tusk.lineage;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.DatumState;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The HTTP queries of the lineage service: jobs and their datums and logs, commits, global IDs,
 * outputs with their provenance, history and changes, subvenance of members and rows, the repos and
 * pipelines, and the web page at {@code /}. Answers are JSON; errors are {@link HttpErrors} JSON
 * (400 naming the parameter, 404, 503 with Retry-After while the indexes are not queryable).
 *
 * <p>The queries themselves are one class per concern ({@link JobQueries}, {@link DatumQueries},
 * {@link OutputQueries}, {@link ProvenanceQueries}, {@link SubvenanceQueries}); their store reads
 * block, so they run on worker threads.
 */
public final class LineageApi {
  /** Longest member key accepted in a path. */
  static final int MAX_MEMBER_LENGTH = 256;

  /** Seconds a client should wait before retrying a 503. */
  static final String RETRY_AFTER_SECONDS = "1";

  /** Page size when {@code limit} is not given. */
  static final int DEFAULT_LIMIT = 100;

  /** Longest topic name Kafka allows. */
  private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  private final Vertx vertx;
  private final JobQueries jobs;
  private final DatumQueries datums;
  private final OutputQueries outputs;
  private final ProvenanceQueries provenance;
  private final SubvenanceQueries subvenance;

  private LineageApi(Vertx vertx, StoreLocator stores, Catalog catalog, RowReader rows) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    IndexReads reads = new IndexReads(stores);
    this.jobs = new JobQueries(reads, catalog);
    this.datums = new DatumQueries(reads);
    this.outputs = new OutputQueries(reads);
    this.provenance = new ProvenanceQueries(reads, rows);
    this.subvenance = new SubvenanceQueries(reads, catalog, rows);
  }

  /** A router serving the lineage queries and the web page, with JSON error handling. */
  public static Router router(Vertx vertx, StoreLocator stores, Catalog catalog, RowReader rows) {
    LineageApi api = new LineageApi(vertx, stores, catalog, rows);
    Router router = Router.router(vertx);
    StaticHandler page = StaticHandler.create("webroot").setCachingEnabled(false);
    // "/" is the page, "/ui/<file>" its script and style (the handler strips the route's prefix).
    router.get("/").handler(page);
    router.get("/ui/*").handler(page);
    router.get("/repos").handler(api::handleRepos);
    router.get("/repos/:repo/commits").handler(api::handleRepoCommits);
    router.get("/repos/:repo/members/:member/subvenance").handler(api::handleMemberSubvenance);
    router.get("/rows/:topic/:partition/:offset/subvenance").handler(api::handleRowSubvenance);
    router.get("/pipelines").handler(api::handlePipelines);
    router.get("/jobs").handler(api::handleJobs);
    router.get("/jobs/:id").handler(api::handleJob);
    router.get("/jobs/:id/datums").handler(api::handleDatums);
    router.get("/jobs/:id/datums/:member/logs").handler(api::handleDatumLog);
    router.get("/jobs/:id/logs").handler(api::handleJobLogs);
    router.get("/commits/:id").handler(api::handleCommit);
    router.get("/global/:id").handler(api::handleGlobal);
    router.get("/pipelines/:pipeline/outputs/:member").handler(api::handleOutput);
    router.get("/pipelines/:pipeline/outputs/:member/lineage").handler(api::handleLineage);
    router.get("/pipelines/:pipeline/outputs/:member/provenance").handler(api::handleProvenance);
    router.get("/pipelines/:pipeline/outputs/:member/history").handler(api::handleHistory);
    router.get("/pipelines/:pipeline/outputs/:member/changes").handler(api::handleChanges);
    HttpErrors.install(router);
    return router;
  }

  private void handleRepos(RoutingContext ctx) {
    respond(ctx, jobs::repos);
  }

  private void handlePipelines(RoutingContext ctx) {
    respond(ctx, jobs::pipelines);
  }

  private void handleRepoCommits(RoutingContext ctx) {
    String repo = nameParam(ctx, "repo");
    int limit = limit(ctx);
    String after = textQuery(ctx, "after");
    respond(ctx, () -> jobs.repoCommits(repo, limit, after));
  }

  private void handleJobs(RoutingContext ctx) {
    String pipeline = ctx.queryParams().get("pipeline");
    if (pipeline != null && !pipeline.isEmpty() && !TopicNames.isValidName(pipeline)) {
      throw ApiException.badRequest("query parameter 'pipeline' must be a pipeline name");
    }
    String selected = pipeline == null || pipeline.isEmpty() ? null : pipeline;
    int limit = limit(ctx);
    String after = textQuery(ctx, "after");
    respond(ctx, () -> jobs.jobs(selected, limit, after));
  }

  private void handleJob(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    respond(ctx, () -> jobs.job(id));
  }

  private void handleDatums(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    DatumState state = stateQuery(ctx);
    int limit = limit(ctx);
    String after = textQuery(ctx, "after");
    respond(ctx, () -> datums.datums(id, state, limit, after));
  }

  private void handleDatumLog(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    String member = memberParam(ctx);
    respond(ctx, () -> datums.datumLog(id, member));
  }

  private void handleJobLogs(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    int limit = limit(ctx);
    String after = textQuery(ctx, "after");
    respond(ctx, () -> datums.jobLogs(id, limit, after));
  }

  private void handleCommit(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    respond(ctx, () -> jobs.commit(id));
  }

  private void handleGlobal(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    respond(ctx, () -> jobs.global(id));
  }

  private void handleOutput(RoutingContext ctx) {
    String pipeline = nameParam(ctx, "pipeline");
    String member = memberParam(ctx);
    respond(ctx, () -> outputs.output(pipeline, member));
  }

  private void handleLineage(RoutingContext ctx) {
    String pipeline = nameParam(ctx, "pipeline");
    String member = memberParam(ctx);
    respond(ctx, () -> provenance.lineage(pipeline, member));
  }

  private void handleProvenance(RoutingContext ctx) {
    String pipeline = nameParam(ctx, "pipeline");
    String member = memberParam(ctx);
    String at = idQuery(ctx, "at");
    int depth = depth(ctx);
    boolean content = booleanQuery(ctx, "content");
    int limit = limit(ctx);
    respond(ctx, () -> provenance.provenance(pipeline, member, at, depth, content, limit));
  }

  private void handleHistory(RoutingContext ctx) {
    String pipeline = nameParam(ctx, "pipeline");
    String member = memberParam(ctx);
    int limit = limit(ctx);
    String after = idQuery(ctx, "after");
    respond(ctx, () -> outputs.history(pipeline, member, limit, after));
  }

  private void handleChanges(RoutingContext ctx) {
    String pipeline = nameParam(ctx, "pipeline");
    String member = memberParam(ctx);
    String from = idQuery(ctx, "from");
    String to = idQuery(ctx, "to");
    respond(ctx, () -> outputs.changes(pipeline, member, from, to));
  }

  private void handleMemberSubvenance(RoutingContext ctx) {
    String repo = nameParam(ctx, "repo");
    String member = memberParam(ctx);
    int depth = depth(ctx);
    int limit = limit(ctx);
    int after = (int) numberQuery(ctx, "after", 0, Integer.MAX_VALUE);
    respond(ctx, () -> subvenance.memberSubvenance(repo, member, depth, limit, after));
  }

  private void handleRowSubvenance(RoutingContext ctx) {
    String topic = ctx.pathParam("topic");
    if (!TOPIC.matcher(topic).matches()) {
      throw ApiException.badRequest("path parameter 'topic' must be a Kafka topic name");
    }
    int partition = (int) numberPath(ctx, "partition", Integer.MAX_VALUE);
    long offset = numberPath(ctx, "offset", Long.MAX_VALUE);
    int depth = depth(ctx);
    int limit = limit(ctx);
    int after = (int) numberQuery(ctx, "after", 0, Integer.MAX_VALUE);
    respond(ctx, () -> subvenance.rowSubvenance(topic, partition, offset, depth, limit, after));
  }

  /** Runs {@code query} on a worker thread and answers its JSON, or the JSON error. */
  private void respond(RoutingContext ctx, Callable<JsonObject> query) {
    vertx
        .executeBlocking(query, false)
        .onSuccess(ctx::json)
        .onFailure(failure -> fail(ctx, failure));
  }

  private static void fail(RoutingContext ctx, Throwable failure) {
    Throwable answer = failure;
    if (failure instanceof InvalidStateStoreException) {
      answer =
          ApiException.unavailable(
              "the lineage indexes are not queryable yet (" + failure.getMessage() + ")");
    }
    if (answer instanceof ApiException api && api.status() == 503) {
      ctx.response().putHeader("Retry-After", RETRY_AFTER_SECONDS);
    }
    ctx.fail(answer);
  }

  // ---- parameters: each bad one is a 400 naming it ----

  private static String idParam(RoutingContext ctx, String name) {
    String id = ctx.pathParam(name);
    if (!Ids.isValid(id)) {
      throw ApiException.badRequest(
          "path parameter '" + name + "' must be an ID of 32 lower-case hex characters");
    }
    return id;
  }

  private static String idQuery(RoutingContext ctx, String name) {
    String id = ctx.queryParams().get(name);
    if (id == null || id.isEmpty()) {
      return null;
    }
    if (!Ids.isValid(id)) {
      throw ApiException.badRequest(
          "query parameter '" + name + "' must be an ID of 32 lower-case hex characters");
    }
    return id;
  }

  private static String nameParam(RoutingContext ctx, String name) {
    String value = ctx.pathParam(name);
    if (!TopicNames.isValidName(value)) {
      throw ApiException.badRequest(
          "path parameter '"
              + name
              + "' must be a name: lower-case letters, digits, '-' and '_', at most 63 characters");
    }
    return value;
  }

  private static String memberParam(RoutingContext ctx) {
    String member = ctx.pathParam("member");
    if (member == null
        || member.isEmpty()
        || member.length() > MAX_MEMBER_LENGTH
        || StoreKeys.hasControlCharacter(member)) {
      throw ApiException.badRequest(
          "path parameter 'member' must be 1 to "
              + MAX_MEMBER_LENGTH
              + " characters without control characters");
    }
    return member;
  }

  private static String textQuery(RoutingContext ctx, String name) {
    String value = ctx.queryParams().get(name);
    if (value == null || value.isEmpty()) {
      return null;
    }
    if (value.length() > 1024 || StoreKeys.hasControlCharacter(value)) {
      throw ApiException.badRequest(
          "query parameter '" + name + "' must be at most 1024 characters without control ones");
    }
    return value;
  }

  private static int limit(RoutingContext ctx) {
    return (int) numberQuery(ctx, "limit", 1, IndexReads.MAX_LIMIT, DEFAULT_LIMIT);
  }

  private static int depth(RoutingContext ctx) {
    return (int)
        numberQuery(ctx, "depth", 0, ProvenanceQueries.MAX_DEPTH, ProvenanceQueries.MAX_DEPTH);
  }

  private static long numberQuery(RoutingContext ctx, String name, long min, long max) {
    return numberQuery(ctx, name, min, max, min);
  }

  private static long numberQuery(
      RoutingContext ctx, String name, long min, long max, long fallback) {
    String value = ctx.queryParams().get(name);
    if (value == null || value.isEmpty()) {
      return fallback;
    }
    return number(value, "query parameter '" + name + "'", min, max);
  }

  private static long numberPath(RoutingContext ctx, String name, long max) {
    return number(ctx.pathParam(name), "path parameter '" + name + "'", 0, max);
  }

  private static long number(String value, String what, long min, long max) {
    try {
      long number = Long.parseLong(value);
      if (number >= min && number <= max) {
        return number;
      }
    } catch (NumberFormatException e) {
      // answered below, naming the parameter
    }
    throw ApiException.badRequest(what + " must be a whole number from " + min + " to " + max);
  }

  private static boolean booleanQuery(RoutingContext ctx, String name) {
    String value = ctx.queryParams().get(name);
    if (value == null || value.isEmpty() || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw ApiException.badRequest("query parameter '" + name + "' must be true or false");
  }

  private static DatumState stateQuery(RoutingContext ctx) {
    String value = ctx.queryParams().get("state");
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return DatumState.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(
          "query parameter 'state' must be one of failed, success, recovered");
    }
  }
}
