package io.tusk.commit;

import static io.tusk.commit.Responses.created;
import static io.tusk.commit.Responses.jsonArray;
import static io.tusk.commit.Responses.ok;
import static io.tusk.commit.Responses.send;

import io.tusk.common.json.AvroJson;
import io.tusk.common.security.CommandPolicy;
import io.tusk.common.security.Need;
import io.tusk.common.security.Principal;
import io.tusk.common.security.Resource;
import io.tusk.common.security.Role;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.schemas.PipelineSpec;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * The pipeline routes of the commit service's API: create, update (with the command allow list and
 * the names prefix), delete, list and read pipelines, and re-run or restart their jobs. Who may do
 * each is declared with the route; creators are granted ownership through {@link AuthApi}.
 */
final class PipelineApi {
  private static final Resource.Kind PIPELINE = Resource.Kind.PIPELINE;

  private final ControlPlane control;
  private final PipelineControl pipelines;
  private final JobControl jobs;
  private final Security security;
  private final CommandPolicy commands;
  private final NamesPrefix names;
  private final AuthApi auth;

  PipelineApi(
      ControlPlane control,
      PipelineControl pipelines,
      JobControl jobs,
      Security security,
      CommandPolicy commands,
      NamesPrefix names,
      AuthApi auth) {
    this.control = control;
    this.pipelines = pipelines;
    this.jobs = jobs;
    this.security = security;
    this.commands = commands;
    this.names = names;
    this.auth = auth;
  }

  /** Declares the pipeline and job routes with what each needs of the caller. */
  void mount(SecuredRouter routes) {
    Need pipelineInput = Need.resolved(Role.READER, "the pipeline's input", this::pipelineInput);
    Need jobWriter = Need.resolved(Role.WRITER, "the pipeline of job :id", this::jobPipeline);
    routes
        .post("/pipelines", pipelineInput, this::handleCreatePipeline)
        .get("/pipelines", Need.authenticated(), this::handleListPipelines)
        .get("/pipelines/:pipeline", Need.reader(PIPELINE, "pipeline"), this::handleGetPipeline)
        .get("/pipelines/:pipeline/lag", Need.reader(PIPELINE, "pipeline"), this::handleLag)
        .put(
            "/pipelines/:pipeline",
            Need.owner(PIPELINE, "pipeline")
                .and(
                    Need.resolved(Role.READER, "the pipeline's input", this::updatedPipelineInput)),
            this::handleUpdatePipeline)
        .delete(
            "/pipelines/:pipeline", Need.owner(PIPELINE, "pipeline"), this::handleDeletePipeline)
        .post("/jobs/:id/rerun", jobWriter, this::handleRerun)
        .post("/jobs/:id/restart", jobWriter, this::handleRestart);
  }

  /** The pipeline of the job a path names (empty when unknown: only admins pass). */
  private Future<Optional<Resource>> jobPipeline(RoutingContext ctx) {
    return Future.succeededFuture(
        jobs.find(ctx.pathParam("id")).map(j -> Resource.pipeline(j.getPipeline())));
  }

  /**
   * The input of the pipeline spec in the body: the upstream pipeline of a pipeline input, else the
   * repo. A spec that does not parse is the same 400 the handler would answer.
   */
  private Future<Optional<Resource>> pipelineInput(RoutingContext ctx) {
    PipelineSpec spec = Requests.pipelineSpec(specDocument(ctx), System.currentTimeMillis());
    return Future.succeededFuture(Optional.of(inputOf(spec)));
  }

  /** The input of an update of the pipeline the path names (empty when it does not exist). */
  private Future<Optional<Resource>> updatedPipelineInput(RoutingContext ctx) {
    Optional<PipelineSpec> current = control.pipelines.get(ctx.pathParam("pipeline"));
    if (current.isEmpty()) {
      return Future.succeededFuture(Optional.empty());
    }
    PipelineSpec spec =
        Requests.pipelineSpec(specDocument(ctx), System.currentTimeMillis(), current.get());
    return Future.succeededFuture(Optional.of(inputOf(spec)));
  }

  private static Resource inputOf(PipelineSpec spec) {
    return spec.getInputPipeline() != null
        ? Resource.pipeline(spec.getInputPipeline())
        : Resource.repo(spec.getInputRepo());
  }

  private void handleCreatePipeline(RoutingContext ctx) {
    PipelineSpec spec = Requests.pipelineSpec(specDocument(ctx), System.currentTimeMillis());
    names.check("pipeline", spec.getName());
    Principal creator = SecuredRouter.principal(ctx);
    commands.check(spec, creator, security.access());
    // The creator owns the pipeline (and so its derived repos); it may read their content only if
    // it may read its input's: outputs are derived from the input rows.
    boolean content = security.access().has(creator, Role.CONTENT, inputOf(spec));
    pipelines
        .create(spec)
        .compose(
            change ->
                ctx.vertx()
                    .executeBlocking(
                        () -> {
                          auth.grantCreator(
                              creator, Resource.pipeline(change.spec().getName()), content);
                          return change;
                        },
                        false))
        .onSuccess(
            change ->
                created(ctx, "/pipelines/" + change.spec().getName(), pipelineChangeJson(change)))
        .onFailure(ctx::fail);
  }

  private void handleUpdatePipeline(RoutingContext ctx) {
    PipelineSpec current = pipelines.pipeline(ctx.pathParam("pipeline"));
    PipelineSpec spec =
        Requests.pipelineSpec(specDocument(ctx), System.currentTimeMillis(), current);
    commands.check(spec, SecuredRouter.principal(ctx), security.access());
    pipelines
        .update(spec)
        .onSuccess(change -> ok(ctx, pipelineChangeJson(change)))
        .onFailure(ctx::fail);
  }

  private void handleDeletePipeline(RoutingContext ctx) {
    String name = ctx.pathParam("pipeline");
    pipelines
        .delete(name)
        .compose(
            done ->
                ctx.vertx()
                    .executeBlocking(
                        () -> {
                          auth.revokeAll(Resource.pipeline(name));
                          return done;
                        },
                        false))
        .onSuccess(done -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  private void handleListPipelines(RoutingContext ctx) {
    Principal caller = SecuredRouter.principal(ctx);
    ok(
        ctx,
        jsonArray(
            control.pipelines.snapshot().values().stream()
                .filter(p -> security.access().canRead(caller, Resource.pipeline(p.getName())))
                .sorted(Comparator.comparing(PipelineSpec::getName))
                .map(AvroJson::toJson)
                .toList()));
  }

  private void handleGetPipeline(RoutingContext ctx) {
    ok(ctx, AvroJson.toJson(pipelines.pipeline(ctx.pathParam("pipeline"))));
  }

  /** Datums of the pipeline's datum topic its processors have not consumed yet. */
  private void handleLag(RoutingContext ctx) {
    String pipeline = pipelines.pipeline(ctx.pathParam("pipeline")).getName();
    ctx.vertx()
        .executeBlocking(() -> control.backlogs.datumLag(pipeline), false)
        .onSuccess(lag -> ok(ctx, lag))
        .onFailure(ctx::fail);
  }

  private void handleRerun(RoutingContext ctx) {
    boolean reprocess = Requests.flag("reprocess", ctx.queryParams().get("reprocess"));
    jobs.rerun(ctx.pathParam("id"), reprocess)
        .onSuccess(started -> send(ctx, 202, startedJobJson(started).encode()))
        .onFailure(ctx::fail);
  }

  private void handleRestart(RoutingContext ctx) {
    jobs.restart(ctx.pathParam("id"))
        .onSuccess(started -> send(ctx, 202, startedJobJson(started).encode()))
        .onFailure(ctx::fail);
  }

  /** A pipeline spec document from the body: JSON or YAML. */
  private static Map<String, Object> specDocument(RoutingContext ctx) {
    return Requests.specDocument(ctx.body().asString());
  }

  /** A pipeline just written, with the job the change started (null: none). */
  private static JsonObject pipelineChangeJson(PipelineControl.PipelineChange change) {
    return AvroJson.toJson(change.spec())
        .put("job", change.job() == null ? null : startedJobJson(change.job()));
  }

  /** A job requested on an existing commit: its reference, repo and commit. */
  static JsonObject startedJobJson(ControlPlane.StartedJob started) {
    return AvroJson.toJson(started.job())
        .put("repo", started.repo())
        .put("commitId", started.commitId());
  }
}
