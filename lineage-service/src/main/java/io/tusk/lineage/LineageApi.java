package io.tusk.lineage;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.json.AvroJson;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Job;
import io.tusk.schemas.Output;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP queries of the lineage service: jobs, commits with the jobs they triggered, the latest
 * output of a pipeline for a member, and an output's lineage (output, datum, job, commit, input
 * rows). Answers are JSON; errors are {@link HttpErrors} JSON.
 *
 * <p>Store reads block, so they run on worker threads; every store is found through the {@link
 * StoreLocator} (the scale-out seam). Queries are point lookups only (no store iterators).
 */
public final class LineageApi {
  private static final Logger log = LoggerFactory.getLogger(LineageApi.class);

  /** Longest member key accepted in a path. */
  static final int MAX_MEMBER_LENGTH = 256;

  /** Seconds a client should wait before retrying a 503. */
  static final String RETRY_AFTER_SECONDS = "1";

  private final Vertx vertx;
  private final StoreLocator stores;

  private LineageApi(Vertx vertx, StoreLocator stores) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.stores = Objects.requireNonNull(stores, "stores");
  }

  /** A router serving the lineage queries from {@code stores}, with JSON error handling. */
  public static Router router(Vertx vertx, StoreLocator stores) {
    LineageApi api = new LineageApi(vertx, stores);
    Router router = Router.router(vertx);
    router.get("/jobs/:id").handler(api::handleJob);
    router.get("/commits/:id").handler(api::handleCommit);
    router.get("/pipelines/:pipeline/outputs/:member").handler(api::handleOutput);
    router.get("/pipelines/:pipeline/outputs/:member/lineage").handler(api::handleLineage);
    HttpErrors.install(router);
    return router;
  }

  private void handleJob(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    respond(ctx, () -> AvroJson.toJson(found(job(id), "no job " + id)));
  }

  private void handleCommit(RoutingContext ctx) {
    String id = idParam(ctx, "id");
    respond(
        ctx,
        () -> {
          Commit commit = found(commit(id), "no commit " + id);
          return new JsonObject().put("commit", AvroJson.toJson(commit)).put("jobs", jobsOf(id));
        });
  }

  private void handleOutput(RoutingContext ctx) {
    String pipeline = pipelineParam(ctx);
    String member = memberParam(ctx);
    respond(
        ctx,
        () -> {
          Output output = found(output(pipeline, member), noOutput(pipeline, member));
          return outputSummary(output).put("data", data(output)).put("inputs", inputs(output));
        });
  }

  private void handleLineage(RoutingContext ctx) {
    String pipeline = pipelineParam(ctx);
    String member = memberParam(ctx);
    respond(ctx, () -> lineage(found(output(pipeline, member), noOutput(pipeline, member))));
  }

  /** Output -> datum -> job -> commit -> input rows; job and commit are null until indexed. */
  private JsonObject lineage(Output output) {
    Job job = job(output.getJobId());
    Commit commit = commit(output.getCommitId());
    String repo = commit != null ? commit.getRepo() : job != null ? job.getRepo() : null;
    return new JsonObject()
        .put("output", outputSummary(output))
        .put(
            "datum",
            new JsonObject()
                .put("hash", output.getDatumHash())
                .put("member", output.getMember())
                .put("pipeline", output.getPipeline()))
        .put("job", job == null ? null : AvroJson.toJson(job))
        .put("commit", commit == null ? null : AvroJson.toJson(commit))
        .put("repo", repo)
        .put("inputRows", inputs(output))
        .put("inputRowCount", output.getInputs().size());
  }

  /** The jobs a commit triggered that are indexed so far, by pipeline. */
  private JsonArray jobsOf(String commitId) {
    List<String> jobIds = this.<List<String>>get(LineageService.COMMIT_JOBS_STORE, commitId);
    JsonArray jobs = new JsonArray();
    if (jobIds == null) {
      return jobs;
    }
    jobIds.stream()
        .map(this::job)
        .filter(Objects::nonNull)
        .sorted(Comparator.comparing(Job::getPipeline).thenComparing(Job::getId))
        .forEach(job -> jobs.add(AvroJson.toJson(job)));
    return jobs;
  }

  private Job job(String id) {
    return get(LineageService.JOBS_STORE, id);
  }

  private Commit commit(String id) {
    return get(LineageService.COMMITS_STORE, id);
  }

  private Output output(String pipeline, String member) {
    return get(LineageService.OUTPUTS_STORE, OutputKeyer.key(pipeline, member));
  }

  private <V> V get(String storeName, String key) {
    return stores.<V>store(storeName, key).get(key);
  }

  /** The output's provenance fields, without its data and input rows. */
  private static JsonObject outputSummary(Output output) {
    JsonObject json = AvroJson.toJson(output);
    json.remove("data");
    json.remove("inputs");
    return json;
  }

  private static JsonArray inputs(Output output) {
    JsonArray inputs = new JsonArray();
    for (InputRef input : output.getInputs()) {
      inputs.add(AvroJson.toJson(input));
    }
    return inputs;
  }

  /** JSON data as JSON; anything else (and JSON that does not parse) as UTF-8 text. */
  private static Object data(Output output) {
    ByteBuffer buffer = output.getData().duplicate();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    if (isJson(output.getContentType())) {
      try {
        return Json.decodeValue(Buffer.buffer(bytes));
      } catch (DecodeException e) {
        // A transform declared JSON but wrote something else: still show what it wrote.
        log.debug(
            "Output of pipeline {} for member {} is not valid JSON; answering it as text",
            output.getPipeline(),
            output.getMember(),
            e);
      }
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static boolean isJson(String contentType) {
    String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return mediaType.equals("application/json");
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

  private static <T> T found(T value, String message) {
    if (value == null) {
      throw ApiException.notFound(message);
    }
    return value;
  }

  private static String noOutput(String pipeline, String member) {
    return "no output of pipeline " + pipeline + " for member " + member;
  }

  private static String idParam(RoutingContext ctx, String name) {
    String id = ctx.pathParam(name);
    if (!Ids.isValid(id)) {
      throw ApiException.badRequest(
          "path parameter '" + name + "' must be an ID of 32 lower-case hex characters");
    }
    return id;
  }

  private static String pipelineParam(RoutingContext ctx) {
    String pipeline = ctx.pathParam("pipeline");
    if (!TopicNames.isValidName(pipeline)) {
      throw ApiException.badRequest(
          "path parameter 'pipeline' must be a pipeline name: lower-case letters, digits, '-' and"
              + " '_', at most 63 characters");
    }
    return pipeline;
  }

  private static String memberParam(RoutingContext ctx) {
    String member = ctx.pathParam("member");
    if (member == null || member.isEmpty() || member.length() > MAX_MEMBER_LENGTH) {
      throw ApiException.badRequest(
          "path parameter 'member' must be 1 to " + MAX_MEMBER_LENGTH + " characters");
    }
    return member;
  }
}
