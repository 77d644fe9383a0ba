package io.tusk.lineage;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.http.JobRefs;
import io.tusk.common.http.ServiceProxy;
import io.tusk.common.security.Need;
import io.tusk.common.security.Principal;
import io.tusk.common.security.Resource;
import io.tusk.common.security.Role;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.DatumState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
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

  private static final Resource.Kind REPO = Resource.Kind.REPO;
  private static final Resource.Kind PIPELINE = Resource.Kind.PIPELINE;

  /** The job a {@code /jobs/{id}...} path names, by ID or unique prefix ({@link JobRefs}). */
  private static final String JOB_PARAM = "path parameter 'id'";

  private final Vertx vertx;
  private final Security security;
  private final IndexReads reads;
  private final JobQueries jobs;
  private final DatumQueries datums;
  private final OutputQueries outputs;
  private final ProvenanceQueries provenance;
  private final SubvenanceQueries subvenance;

  private LineageApi(
      Vertx vertx, StoreLocator stores, Catalog catalog, RowReader rows, Security security) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.security = Objects.requireNonNull(security, "security");
    this.reads = new IndexReads(stores);
    this.jobs = new JobQueries(reads, catalog);
    this.datums = new DatumQueries(reads);
    this.outputs = new OutputQueries(reads);
    this.provenance = new ProvenanceQueries(reads, rows, catalog);
    this.subvenance = new SubvenanceQueries(reads, catalog, rows);
  }

  /**
   * A router serving the lineage queries and the web page, with JSON error handling; each route
   * declared with what it needs of the caller (see {@link Need}). The page's files are open; every
   * query needs a token, and row content (outputs' data, source rows, datum logs) the content
   * right. The console's commit-service calls are forwarded to {@code commitService} (null: not
   * configured; see {@link ForwardedRoutes}).
   */
  public static SecuredRouter router(
      Vertx vertx,
      StoreLocator stores,
      Catalog catalog,
      RowReader rows,
      Security security,
      ServiceProxy commitService) {
    LineageApi api = new LineageApi(vertx, stores, catalog, rows, security);
    Router router = Router.router(vertx);
    SecuredRouter routes = new SecuredRouter(router, security);
    StaticHandler page = StaticHandler.create("webroot").setCachingEnabled(false);
    Need pipelineReader = Need.reader(PIPELINE, "pipeline");
    Need jobReader = Need.resolved(Role.READER, "the pipeline of job :id", api::jobPipeline);
    Need jobContent =
        Need.resolved(Role.READER, "the pipeline of job :id", api::jobPipeline).withContent();
    // "/" is the page, "/ui/<file>" its script and style (the handler strips the route's prefix).
    routes
        .get("/", Need.open(), page)
        .get("/ui/*", Need.open(), page)
        .get("/repos", Need.authenticated(), api::handleRepos)
        .get("/repos/:repo/commits", Need.reader(REPO, "repo"), api::handleRepoCommits)
        .get(
            "/repos/:repo/members/:member/subvenance",
            Need.reader(REPO, "repo"),
            api::handleMemberSubvenance)
        .get(
            "/rows/:topic/:partition/:offset/subvenance",
            Need.resolved(Role.READER, "the repo of topic ':topic'", LineageApi::topicOwner),
            api::handleRowSubvenance)
        .get("/pipelines", Need.authenticated(), api::handlePipelines)
        .get("/jobs", Need.readerIfGiven(PIPELINE, "pipeline"), api::handleJobs)
        .get("/jobs/:id", jobReader, api::handleJob)
        .get("/jobs/:id/datums", jobReader, api::handleDatums)
        .get("/jobs/:id/datums/:member/logs", jobContent, api::handleDatumLog)
        .get("/jobs/:id/logs", jobContent, api::handleJobLogs)
        .get(
            "/commits/:id",
            Need.resolved(Role.READER, "the repo of commit :id", api::commitRepo),
            api::handleCommit)
        .get(
            "/global/:id",
            Need.resolved(Role.READER, "the source repo of global ID :id", api::commitRepo),
            api::handleGlobal)
        .get(
            "/pipelines/:pipeline/outputs/:member",
            Need.content(PIPELINE, "pipeline"),
            api::handleOutput)
        .get("/pipelines/:pipeline/outputs/:member/lineage", pipelineReader, api::handleLineage)
        .get(
            "/pipelines/:pipeline/outputs/:member/provenance",
            pipelineReader.withContentWhen(ctx -> "true".equals(ctx.queryParams().get("content"))),
            api::handleProvenance)
        .get("/pipelines/:pipeline/outputs/:member/history", pipelineReader, api::handleHistory)
        .get(
            "/pipelines/:pipeline/outputs/:member/changes",
            Need.content(PIPELINE, "pipeline"),
            api::handleChanges);
    ForwardedRoutes.mount(
        routes,
        commitService,
        Need.resolved(Role.WRITER, "the pipeline of job :id", api::jobPipeline));
    HttpErrors.install(router);
    return routes;
  }

  /**
   * The pipeline of the job a path names by ID or unique prefix, read from the index (empty when
   * unknown or ambiguous: only admins pass, and the handler answers why).
   */
  private Future<Optional<Resource>> jobPipeline(RoutingContext ctx) {
    String ref = ctx.pathParam("id");
    return indexRead(
        () ->
            reads.findJobId(ref).map(reads::job).map(job -> Resource.pipeline(job.getPipeline())));
  }

  /** The repo of the commit a path names (a global ID is its source commit's ID). */
  private Future<Optional<Resource>> commitRepo(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!Ids.isValid(id)) {
      return Future.succeededFuture(Optional.empty());
    }
    return indexRead(
        () -> Optional.ofNullable(reads.commit(id)).map(commit -> Resource.repo(commit.getRepo())));
  }

  /**
   * What a row's topic belongs to: a pipeline's output topic is the pipeline's, a repo's updates
   * topic the repo's (empty otherwise: only admins pass).
   */
  private static Future<Optional<Resource>> topicOwner(RoutingContext ctx) {
    String topic = ctx.pathParam("topic");
    Optional<Resource> owner = Optional.empty();
    if (topic.endsWith(TopicNames.OUTPUT_SUFFIX)) {
      owner = Optional.of(Resource.pipeline(TopicNames.owner(topic, TopicNames.OUTPUT_SUFFIX)));
    } else if (topic.endsWith(TopicNames.UPDATES_SUFFIX)) {
      owner = Optional.of(Resource.repo(TopicNames.owner(topic, TopicNames.UPDATES_SUFFIX)));
    }
    return Future.succeededFuture(owner);
  }

  /** A store read on a worker thread, 503 while the indexes are not queryable. */
  private <T> Future<T> indexRead(Callable<T> read) {
    return vertx
        .executeBlocking(read, false)
        .recover(
            failure ->
                Future.failedFuture(
                    failure instanceof InvalidStateStoreException
                        ? ApiException.unavailable(
                            "the lineage indexes are not queryable yet ("
                                + failure.getMessage()
                                + ")")
                        : failure));
  }

  /** Keeps the items of {@code answer.field} whose {@code nameField} names a readable resource. */
  private UnaryOperator<JsonObject> readable(
      RoutingContext ctx, String field, String nameField, Resource.Kind kind) {
    Principal caller = SecuredRouter.principal(ctx);
    return answer -> {
      JsonArray kept = new JsonArray();
      for (Object item : answer.getJsonArray(field, new JsonArray())) {
        String name = ((JsonObject) item).getString(nameField);
        if (name != null && security.access().canRead(caller, new Resource(kind, name))) {
          kept.add(item);
        }
      }
      return answer.put(field, kept);
    };
  }

  private void handleRepos(RoutingContext ctx) {
    respond(ctx, jobs::repos, readable(ctx, "repos", "name", REPO));
  }

  private void handlePipelines(RoutingContext ctx) {
    respond(ctx, jobs::pipelines, readable(ctx, "pipelines", "name", PIPELINE));
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
    // Without a pipeline: every pipeline's jobs the caller may read (a page may come out short).
    respond(
        ctx,
        () -> jobs.jobs(selected, limit, after),
        selected == null ? readable(ctx, "jobs", "pipeline", PIPELINE) : UnaryOperator.identity());
  }

  private void handleJob(RoutingContext ctx) {
    String ref = ctx.pathParam("id");
    respond(ctx, () -> jobs.job(reads.jobId(JOB_PARAM, ref)));
  }

  private void handleDatums(RoutingContext ctx) {
    String ref = ctx.pathParam("id");
    DatumState state = stateQuery(ctx);
    int limit = limit(ctx);
    String after = textQuery(ctx, "after");
    respond(ctx, () -> datums.datums(reads.jobId(JOB_PARAM, ref), state, limit, after));
  }

  private void handleDatumLog(RoutingContext ctx) {
    String ref = ctx.pathParam("id");
    String member = memberParam(ctx);
    respond(ctx, () -> datums.datumLog(reads.jobId(JOB_PARAM, ref), member));
  }

  private void handleJobLogs(RoutingContext ctx) {
    String ref = ctx.pathParam("id");
    int limit = limit(ctx);
    String after = textQuery(ctx, "after");
    respond(ctx, () -> datums.jobLogs(reads.jobId(JOB_PARAM, ref), limit, after));
  }

  private void handleCommit(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    respond(ctx, () -> jobs.commit(id));
  }

  private void handleGlobal(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    UnaryOperator<JsonObject> commits = readable(ctx, "commits", "repo", REPO);
    UnaryOperator<JsonObject> jobsOf = readable(ctx, "jobs", "pipeline", PIPELINE);
    respond(ctx, () -> jobs.global(id), answer -> jobsOf.apply(commits.apply(answer)));
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
    String from = ctx.queryParams().get("from");
    String to = ctx.queryParams().get("to");
    // Both are jobs, by ID or unique prefix; absent means the member's last two versions.
    respond(
        ctx,
        () ->
            outputs.changes(
                pipeline,
                member,
                from == null || from.isEmpty() ? null : reads.jobId("query parameter 'from'", from),
                to == null || to.isEmpty() ? null : reads.jobId("query parameter 'to'", to)));
  }

  private void handleMemberSubvenance(RoutingContext ctx) {
    String repo = nameParam(ctx, "repo");
    String member = memberParam(ctx);
    int depth = depth(ctx);
    int limit = limit(ctx);
    int after = (int) numberQuery(ctx, "after", 0, Integer.MAX_VALUE);
    respond(
        ctx,
        () -> subvenance.memberSubvenance(repo, member, depth, limit, after),
        readable(ctx, "outputs", "pipeline", PIPELINE));
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
    respond(
        ctx,
        () -> subvenance.rowSubvenance(topic, partition, offset, depth, limit, after),
        readable(ctx, "outputs", "pipeline", PIPELINE));
  }

  /** Runs {@code query} on a worker thread and answers its JSON, or the JSON error. */
  private void respond(RoutingContext ctx, Callable<JsonObject> query) {
    respond(ctx, query, UnaryOperator.identity());
  }

  /**
   * As {@link #respond(RoutingContext, Callable)}, keeping of the answer what {@code visible}
   * keeps: lists show each caller only what it may read.
   */
  private void respond(
      RoutingContext ctx, Callable<JsonObject> query, UnaryOperator<JsonObject> visible) {
    vertx
        .executeBlocking(query, false)
        .map(visible)
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
