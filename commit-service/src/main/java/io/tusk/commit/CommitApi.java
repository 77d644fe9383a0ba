package io.tusk.commit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tusk.common.commit.CommitSealer;
import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.json.AvroJson;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.ops.Observability;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit service's HTTP API: repos, commits and pipelines as JSON. Handlers run on the event
 * loop and only read in-memory views; everything that talks to Kafka or the registry runs on worker
 * threads through {@link SerialTasks}, queued per repo (seals) or per name (creation).
 */
final class CommitApi {
  private static final Logger log = LoggerFactory.getLogger(CommitApi.class);
  private static final long MAX_BODY_BYTES = 1024 * 1024;
  private static final long WRITE_TIMEOUT_SECONDS = 30;

  private final Topics topics;
  private final TopicAdmin topicAdmin;
  private final Producer<byte[], byte[]> specProducer;
  private final CommitSealer sealer;
  private final CompactedTopicView<RepoSpec> repos;
  private final CompactedTopicView<PipelineSpec> pipelines;
  private final CommitIndex commits;
  private final SerialTasks tasks;
  private final Timer sealTimer;
  private final Counter repoCounter;
  private final Counter pipelineCounter;

  CommitApi(
      Vertx vertx,
      Topics topics,
      TopicAdmin topicAdmin,
      Producer<byte[], byte[]> specProducer,
      CommitSealer sealer,
      CompactedTopicView<RepoSpec> repos,
      CompactedTopicView<PipelineSpec> pipelines,
      CommitIndex commits,
      MeterRegistry metrics) {
    this.topics = topics;
    this.topicAdmin = topicAdmin;
    this.specProducer = specProducer;
    this.sealer = sealer;
    this.repos = repos;
    this.pipelines = pipelines;
    this.commits = commits;
    this.tasks = new SerialTasks(vertx);
    this.sealTimer =
        Timer.builder("tusk.commits.sealed")
            .description("Commits sealed and how long sealing took")
            .register(metrics);
    this.repoCounter =
        Counter.builder("tusk.repos.created").description("Repos created").register(metrics);
    this.pipelineCounter =
        Counter.builder("tusk.pipelines.created")
            .description("Pipelines created")
            .register(metrics);
  }

  /** Every route of the API, with health and metrics, JSON errors and a body size limit. */
  Router router(Vertx vertx, Observability observability) {
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    observability.mount(router);
    router.post("/repos").handler(this::handleCreateRepo);
    router.get("/repos").handler(this::handleListRepos);
    router.get("/repos/:repo").handler(this::handleGetRepo);
    router.post("/repos/:repo/commits").handler(this::handleSeal);
    router.get("/repos/:repo/commits").handler(this::handleListCommits);
    router.get("/repos/:repo/commits/:id").handler(this::handleGetRepoCommit);
    router.get("/commits/:id").handler(this::handleGetCommit);
    router.post("/pipelines").handler(this::handleCreatePipeline);
    router.get("/pipelines").handler(this::handleListPipelines);
    router.get("/pipelines/:pipeline").handler(this::handleGetPipeline);
    return router;
  }

  /** The JSON of a commit as every commit endpoint answers it. */
  static JsonObject commitJson(Commit commit) {
    return AvroJson.toJson(commit)
        .put("state", commit.getStats() == null ? "sealed" : "complete")
        .put("rowCount", CommitSealer.offsetCount(commit));
  }

  private void handleCreateRepo(RoutingContext ctx) {
    RepoSpec spec = Requests.repoSpec(HttpErrors.jsonBody(ctx), System.currentTimeMillis());
    String name = spec.getName();
    requireNewRepo(name);
    tasks
        .submit(
            "repo:" + name,
            () -> {
              // Checked again in the queue: a concurrent request for the same name ran first.
              requireNewRepo(name);
              // The spec goes first so every service knows the repo once its topics appear.
              write(topics.repos, name, spec);
              topicAdmin.createRepoTopics(spec);
              repos.put(name, spec);
              repoCounter.increment();
              log.info(
                  "Created repo {} ({} update partitions, {} member partitions, {} tables)",
                  name,
                  spec.getUpdatePartitions(),
                  spec.getMemberPartitions(),
                  spec.getTables().size());
              return spec;
            })
        .onSuccess(created -> created(ctx, "/repos/" + name, AvroJson.toJson(created)))
        .onFailure(ctx::fail);
  }

  private void handleListRepos(RoutingContext ctx) {
    ok(
        ctx,
        jsonArray(
            repos.snapshot().values().stream()
                .sorted(Comparator.comparing(RepoSpec::getName))
                .map(AvroJson::toJson)
                .toList()));
  }

  private void handleGetRepo(RoutingContext ctx) {
    ok(ctx, AvroJson.toJson(repo(ctx)));
  }

  private void handleSeal(RoutingContext ctx) {
    RepoSpec repo = repo(ctx);
    String name = repo.getName();
    tasks
        .submit(
            "seal:" + name,
            () -> {
              Commit parent = commits.latest(name).orElse(null);
              List<PipelineSpec> jobs = pipelinesOf(name);
              Commit commit = sealTimer.record(() -> sealer.seal(repo, parent, jobs));
              commits.record(commit.getId(), commit);
              return commit;
            })
        .onSuccess(
            commit ->
                created(ctx, "/repos/" + name + "/commits/" + commit.getId(), commitJson(commit)))
        .onFailure(ctx::fail);
  }

  private void handleListCommits(RoutingContext ctx) {
    RepoSpec repo = repo(ctx);
    int limit = Requests.limit(ctx.queryParams().get("limit"));
    long before = Requests.before(ctx.queryParams().get("before"));
    ok(
        ctx,
        jsonArray(
            commits.page(repo.getName(), before, limit).stream()
                .map(CommitApi::commitJson)
                .toList()));
  }

  private void handleGetRepoCommit(RoutingContext ctx) {
    RepoSpec repo = repo(ctx);
    String id = Requests.commitId(ctx.pathParam("id"));
    Commit commit =
        commits
            .get(id)
            .filter(c -> c.getRepo().equals(repo.getName()))
            .orElseThrow(
                () ->
                    ApiException.notFound(
                        "no commit '" + id + "' in repo '" + repo.getName() + "'"));
    ok(ctx, commitJson(commit));
  }

  private void handleGetCommit(RoutingContext ctx) {
    String id = Requests.commitId(ctx.pathParam("id"));
    Commit commit =
        commits.get(id).orElseThrow(() -> ApiException.notFound("no commit '" + id + "'"));
    ok(ctx, commitJson(commit));
  }

  private void handleCreatePipeline(RoutingContext ctx) {
    PipelineSpec spec = Requests.pipelineSpec(HttpErrors.jsonBody(ctx), System.currentTimeMillis());
    String name = spec.getName();
    if (repos.get(spec.getInputRepo()).isEmpty()) {
      throw ApiException.badRequest(
          "input.repo '" + spec.getInputRepo() + "' is not an existing repo");
    }
    requireNewPipeline(name);
    tasks
        .submit(
            "pipeline:" + name,
            () -> {
              requireNewPipeline(name);
              // The spec goes first, as for repos; the processor checks the transform class.
              write(topics.pipelines, name, spec);
              topicAdmin.createPipelineTopics(spec);
              pipelines.put(name, spec);
              pipelineCounter.increment();
              log.info(
                  "Created pipeline {} on repo {} (transform {}, parallelism {})",
                  name,
                  spec.getInputRepo(),
                  spec.getTransform().getName(),
                  spec.getParallelism());
              return spec;
            })
        .onSuccess(created -> created(ctx, "/pipelines/" + name, AvroJson.toJson(created)))
        .onFailure(ctx::fail);
  }

  private void handleListPipelines(RoutingContext ctx) {
    ok(
        ctx,
        jsonArray(
            pipelines.snapshot().values().stream()
                .sorted(Comparator.comparing(PipelineSpec::getName))
                .map(AvroJson::toJson)
                .toList()));
  }

  private void handleGetPipeline(RoutingContext ctx) {
    String name = ctx.pathParam("pipeline");
    PipelineSpec spec =
        pipelines.get(name).orElseThrow(() -> ApiException.notFound("no pipeline '" + name + "'"));
    ok(ctx, AvroJson.toJson(spec));
  }

  private RepoSpec repo(RoutingContext ctx) {
    String name = ctx.pathParam("repo");
    return repos.get(name).orElseThrow(() -> ApiException.notFound("no repo '" + name + "'"));
  }

  private void requireNewRepo(String name) {
    if (repos.get(name).isPresent()) {
      throw ApiException.conflict("repo '" + name + "' already exists");
    }
  }

  private void requireNewPipeline(String name) {
    if (pipelines.get(name).isPresent()) {
      throw ApiException.conflict("pipeline '" + name + "' already exists");
    }
  }

  private List<PipelineSpec> pipelinesOf(String repo) {
    return pipelines.snapshot().values().stream()
        .filter(p -> p.getInputRepo().equals(repo))
        .toList();
  }

  /** Writes a spec and waits for the broker's acknowledgement (worker threads only). */
  private <V extends SpecificRecord> void write(Topic<String, V> topic, String key, V value) {
    try {
      specProducer
          .send(new ProducerRecord<>(topic.name(), topic.key(key), topic.value(value)))
          .get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted writing " + key + " to " + topic.name(), e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot write " + key + " to " + topic.name(), e);
    }
  }

  private static JsonArray jsonArray(List<JsonObject> items) {
    return new JsonArray(List.copyOf(items));
  }

  private static void ok(RoutingContext ctx, JsonObject json) {
    send(ctx, 200, json.encode());
  }

  private static void ok(RoutingContext ctx, JsonArray json) {
    send(ctx, 200, json.encode());
  }

  private static void created(RoutingContext ctx, String location, JsonObject json) {
    ctx.response().putHeader("Location", location);
    send(ctx, 201, json.encode());
  }

  private static void send(RoutingContext ctx, int status, String body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }
}
