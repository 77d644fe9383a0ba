package io.tusk.commit;

import static io.tusk.commit.Responses.created;
import static io.tusk.commit.Responses.jsonArray;
import static io.tusk.commit.Responses.ok;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.http.ServiceProxy;
import io.tusk.common.json.AvroJson;
import io.tusk.common.ops.Observability;
import io.tusk.common.security.CommandPolicy;
import io.tusk.common.security.Need;
import io.tusk.common.security.Principal;
import io.tusk.common.security.Resource;
import io.tusk.common.security.Role;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Erasure;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.PreviousLayout;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.Trigger;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The commit service's HTTP API as JSON: repos and their triggers, commits and their history (jobs,
 * rejected rows), branches, and member queries forwarded to the partition service; the pipeline and
 * job routes are {@link PipelineApi}'s, the role bindings and audit routes {@link AuthApi}'s.
 * Handlers validate on the event loop and read only in-memory views; changes run through {@link
 * ControlPlane}, {@link BranchControl}, {@link PipelineControl} and {@link JobControl} on worker
 * threads, and so do reads of Kafka topics.
 */
final class CommitApi {
  private static final Resource.Kind REPO = Resource.Kind.REPO;

  private static final long MAX_BODY_BYTES = 1024 * 1024;
  private static final int DEFAULT_REJECTED_LIMIT = 100;

  private final ControlPlane control;
  private final BranchControl branches;
  private final PipelineControl pipelines;
  private final JobControl jobs;
  private final RejectedRows rejected;
  private final ServiceProxy partition;
  private final int memberPartitions;
  private final Security security;
  private final NamesPrefix names;
  private final PipelineApi pipelineApi;
  private final AuthApi auth;
  private final ErasureControl erasures;
  private final LeaderForwarding forwarding;

  CommitApi(
      ControlPlane control,
      BranchControl branches,
      PipelineControl pipelines,
      JobControl jobs,
      RejectedRows rejected,
      ServiceProxy partition,
      int memberPartitions,
      Security security,
      CommandPolicy commands,
      NamesPrefix names,
      AuthApi auth,
      ErasureControl erasures,
      LeaderForwarding forwarding) {
    this.erasures = erasures;
    this.forwarding = forwarding;
    this.memberPartitions = memberPartitions;
    this.security = security;
    this.names = names;
    this.pipelineApi = new PipelineApi(control, pipelines, jobs, security, commands, names, auth);
    this.auth = auth;
    this.control = control;
    this.branches = branches;
    this.pipelines = pipelines;
    this.jobs = jobs;
    this.rejected = rejected;
    this.partition = partition;
  }

  /**
   * Every route of the API with what it needs of the caller (see {@link Need}), with health and
   * metrics, JSON errors and a body size limit.
   */
  SecuredRouter router(Vertx vertx, Observability observability) {
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    forwarding.install(router);
    SecuredRouter routes = new SecuredRouter(router, security);
    Need repoReader = Need.reader(REPO, "repo");
    Need repoWriter = Need.writer(REPO, "repo");
    routes
        .observability(observability)
        .get("/leader", Need.authenticated(), ctx -> ok(ctx, forwarding.status()))
        .post("/repos", Need.authenticated(), this::handleCreateRepo)
        .get("/repos", Need.authenticated(), this::handleListRepos)
        .get("/repos/:repo", repoReader, this::handleGetRepo)
        .put("/repos/:repo", Need.owner(REPO, "repo"), this::handleUpdateLayout)
        .delete("/repos/:repo", Need.owner(REPO, "repo"), this::handleDeleteRepo)
        .get("/repos/:repo/layouts", repoReader, this::handleLayouts)
        .put("/repos/:repo/trigger", Need.owner(REPO, "repo"), this::handleSetTrigger)
        .put("/repos/:repo/retention", Need.owner(REPO, "repo"), this::handleSetRetention)
        .post("/repos/:repo/commits", repoWriter, this::handleSeal)
        .get("/repos/:repo/commits", repoReader, this::handleListCommits)
        .get("/repos/:repo/commits/:id", repoReader, this::handleGetRepoCommit)
        .get(
            "/repos/:repo/rejected",
            repoReader.withContentWhen(ctx -> "true".equals(ctx.queryParams().get("content"))),
            this::handleRejected)
        .get("/repos/:repo/members/:member", Need.content(REPO, "repo"), this::handleMember)
        .get("/repos/:repo/diff", repoReader, this::handleDiff)
        .get("/repos/:repo/diff/:member", Need.content(REPO, "repo"), this::handleMemberDiff)
        .get("/repos/:repo/waiting", repoReader, this::handleWaiting)
        .get("/repos/:repo/branches", repoReader, this::handleListBranches)
        .post("/repos/:repo/branches", repoWriter, this::handleCreateBranch)
        .get("/repos/:repo/branches/:branch", repoReader, this::handleGetBranch)
        .put("/repos/:repo/branches/:branch", repoWriter, this::handleMoveBranch)
        .delete("/repos/:repo/branches/:branch", repoWriter, this::handleDeleteBranch)
        .get(
            "/commits/:id",
            Need.resolved(Role.READER, "the repo of commit :id", this::commitRepo),
            this::handleGetCommit);
    pipelineApi.mount(routes);
    auth.mount(routes);
    new ErasureApi(erasures).mount(routes);
    return routes;
  }

  /** The repo of the commit a path names (empty when unknown: only admins pass). */
  private Future<Optional<Resource>> commitRepo(RoutingContext ctx) {
    return Future.succeededFuture(
        control.findCommit(ctx.pathParam("id")).map(c -> Resource.repo(c.getRepo())));
  }

  /**
   * The JSON of a commit as every commit endpoint answers it: the record, its state and offset
   * count, the rejected and changed counts once complete, and every job on it (those it started and
   * later ones: re-runs, branch moves, updates) with state and counts once the partition service
   * has started them.
   */
  JsonObject commitJson(Commit commit) {
    CommitStats stats = commit.getStats();
    Map<String, Job> known = new LinkedHashMap<>();
    jobs.ofCommit(commit.getId()).forEach(job -> known.put(job.getId(), job));
    JsonArray jobItems = new JsonArray();
    for (JobRef ref : commit.getJobs()) {
      jobItems.add(jobItem(AvroJson.toJson(ref), known.remove(ref.getJobId())));
    }
    for (Job job : known.values()) {
      JsonObject ref =
          new JsonObject()
              .put("pipeline", job.getPipeline())
              .put("jobId", job.getId())
              .put("specHash", job.getSpecHash())
              .put("mode", job.getMode().name())
              .put("kind", job.getKind().name())
              .put("rerunOf", job.getRerunOf());
      jobItems.add(jobItem(ref, job));
    }
    return AvroJson.toJson(commit)
        .put("state", stats == null ? "sealed" : "complete")
        .put("rowCount", CommitSealer.offsetCount(commit))
        .put("rejected", stats == null ? null : stats.getRejected())
        .put("changedMembers", stats == null ? null : stats.getChangedMembers())
        .put("jobs", jobItems);
  }

  /** A job reference with the job's state and counts, all null while it is not known. */
  private static JsonObject jobItem(JsonObject ref, Job job) {
    return ref.put("state", job == null ? null : job.getState().name())
        .put("total", job == null ? null : job.getTotal())
        .put("toProcess", job == null ? null : job.getToProcess())
        .put("processed", job == null ? null : job.getProcessed())
        .put("skipped", job == null ? null : job.getSkipped())
        .put("failed", job == null ? null : job.getFailed())
        .put("recovered", job == null ? null : job.getRecovered());
  }

  private void handleCreateRepo(RoutingContext ctx) {
    RepoSpec spec =
        Requests.repoSpec(HttpErrors.jsonBody(ctx), System.currentTimeMillis(), memberPartitions);
    names.check("repo", spec.getName());
    Principal creator = SecuredRouter.principal(ctx);
    control
        .createRepo(spec)
        .compose(
            created ->
                ctx.vertx()
                    .executeBlocking(
                        () -> {
                          // The creator owns the repo and may read the rows it loads.
                          auth.grantCreator(creator, Resource.repo(created.getName()), true);
                          return created;
                        },
                        false))
        .onSuccess(created -> created(ctx, "/repos/" + created.getName(), AvroJson.toJson(created)))
        .onFailure(ctx::fail);
  }

  private void handleListRepos(RoutingContext ctx) {
    Principal caller = SecuredRouter.principal(ctx);
    ok(
        ctx,
        jsonArray(
            control.repos.snapshot().values().stream()
                .filter(r -> security.access().canRead(caller, Resource.repo(r.getName())))
                .sorted(Comparator.comparing(RepoSpec::getName))
                .map(AvroJson::toJson)
                .toList()));
  }

  private void handleGetRepo(RoutingContext ctx) {
    ok(ctx, AvroJson.toJson(control.repo(ctx.pathParam("repo"))));
  }

  /**
   * Deletes a repo ({@code ?force=true}: even while pipelines read it); answers the repo's name and
   * the pipelines that were reading it.
   */
  private void handleDeleteRepo(RoutingContext ctx) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    boolean force = "true".equals(ctx.queryParams().get("force"));
    control
        .deleteRepo(repo, force)
        .compose(
            readers ->
                ctx.vertx()
                    .executeBlocking(
                        () -> {
                          // A repo created again under the name must not inherit old grants.
                          auth.revokeAll(Resource.repo(repo));
                          return readers;
                        },
                        false))
        .onSuccess(
            readers ->
                ok(
                    ctx,
                    new JsonObject()
                        .put("repo", repo)
                        .put("deleted", true)
                        .put("readers", new JsonArray(readers))))
        .onFailure(ctx::fail);
  }

  private void handleUpdateLayout(RoutingContext ctx) {
    RepoSpec before = control.repo(ctx.pathParam("repo"));
    JsonObject body = HttpErrors.jsonBody(ctx);
    control
        .updateLayout(before.getName(), body)
        .onSuccess(
            updated ->
                ok(
                    ctx,
                    AvroJson.toJson(updated)
                        .put("changed", updated.getLayoutVersion() != before.getLayoutVersion())))
        .onFailure(ctx::fail);
  }

  /** Every layout version of a repo, oldest first, with the commit sequence it starts at. */
  private void handleLayouts(RoutingContext ctx) {
    RepoSpec repo = control.repo(ctx.pathParam("repo"));
    JsonArray layouts = new JsonArray();
    for (PreviousLayout previous : repo.getPreviousLayouts()) {
      layouts.add(
          layoutJson(
              repo.getName(),
              previous.getVersion(),
              previous.getStartSequence(),
              previous.getChangedAt() == 0 ? repo.getCreatedAt() : previous.getChangedAt(),
              previous.getChanges(),
              previous.getDefaultTable(),
              previous.getTables()));
    }
    layouts.add(
        layoutJson(
            repo.getName(),
            repo.getLayoutVersion(),
            repo.getLayoutStartSequence(),
            repo.getLayoutChangedAt() == 0 ? repo.getCreatedAt() : repo.getLayoutChangedAt(),
            repo.getLayoutChanges(),
            repo.getDefaultTable(),
            repo.getTables()));
    ok(ctx, new JsonObject().put("repo", repo.getName()).put("layouts", layouts));
  }

  private JsonObject layoutJson(
      String repo,
      int version,
      long startSequence,
      long changedAt,
      List<String> changes,
      String defaultTable,
      List<TableSpec> tables) {
    JsonArray tableJson = new JsonArray();
    tables.forEach(t -> tableJson.add(AvroJson.toJson(t)));
    // The first commit read with the layout, once it exists (a layout starts at the next commit;
    // the first one, at sequence 0, with the repo's first commit).
    long first = Math.max(1, startSequence);
    String startCommit =
        control.commits.page(repo, first + 1, 1).stream()
            .filter(c -> c.getSequence() == first)
            .map(Commit::getId)
            .findFirst()
            .orElse(null);
    return new JsonObject()
        .put("version", version)
        .put("startSequence", startSequence)
        .put("startCommit", startCommit)
        .put("changedAt", changedAt)
        .put("changes", new JsonArray(new ArrayList<>(changes)))
        .put("defaultTable", defaultTable)
        .put("tables", tableJson);
  }

  private void handleSetTrigger(RoutingContext ctx) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    Trigger trigger = Requests.trigger(HttpErrors.jsonBody(ctx));
    control
        .setTrigger(repo, trigger)
        .onSuccess(updated -> ok(ctx, AvroJson.toJson(updated)))
        .onFailure(ctx::fail);
  }

  private void handleSetRetention(RoutingContext ctx) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    Long rawRetention = Requests.rawRetention(HttpErrors.jsonBody(ctx));
    control
        .setRawRetention(repo, rawRetention)
        .onSuccess(updated -> ok(ctx, AvroJson.toJson(updated)))
        .onFailure(ctx::fail);
  }

  /**
   * Seals a commit; with an {@code Idempotency-Key} header, once per key: a repeated request (a
   * client retrying after a lost answer or a restart of this service) is answered 200 with the
   * commit the key sealed, a first one 201.
   */
  private void handleSeal(RoutingContext ctx) {
    String repo = ctx.pathParam("repo");
    String branch = ctx.queryParams().get("branch");
    String key = Requests.idempotencyKey(ctx.request().getHeader("Idempotency-Key"));
    control
        .seal(repo, branch == null ? ControlPlane.MASTER : branch, key)
        .onSuccess(
            answer -> {
              Commit commit = answer.commit();
              if (answer.repeated()) {
                ok(ctx, commitJson(commit));
              } else {
                created(ctx, "/repos/" + repo + "/commits/" + commit.getId(), commitJson(commit));
              }
            })
        .onFailure(ctx::fail);
  }

  private void handleListCommits(RoutingContext ctx) {
    RepoSpec repo = control.repo(ctx.pathParam("repo"));
    int limit = Requests.limit(ctx.queryParams().get("limit"));
    long before = Requests.before(ctx.queryParams().get("before"));
    ok(
        ctx,
        jsonArray(
            control.commits.page(repo.getName(), before, limit).stream()
                .map(this::commitJson)
                .toList()));
  }

  private void handleGetRepoCommit(RoutingContext ctx) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    ok(ctx, commitJson(control.commitOf(repo, "id", ctx.pathParam("id"))));
  }

  private void handleRejected(RoutingContext ctx) {
    RepoSpec repo = control.repo(ctx.pathParam("repo"));
    String commitId = ctx.queryParams().get("commit");
    // Without a commit: the newest one, as the CLI's help says.
    Commit commit =
        commitId == null
            ? control
                .commits
                .latest(repo.getName())
                .orElseThrow(
                    () -> ApiException.notFound("repo '" + repo.getName() + "' has no commit yet"))
            : control.commitOf(repo.getName(), "commit", commitId);
    int limit = Requests.limit(ctx.queryParams().get("limit"), DEFAULT_REJECTED_LIMIT);
    RejectedRows.Cursor after = Requests.cursor("after", ctx.queryParams().get("after"));
    boolean content = Requests.flag("content", ctx.queryParams().get("content"));
    ctx.vertx()
        .executeBlocking(() -> rejected.read(repo, commit, limit, after, content), false)
        .onSuccess(
            page ->
                ok(
                    ctx,
                    new JsonObject()
                        .put("repo", repo.getName())
                        .put("commit", commit.getId())
                        .put("rows", jsonArray(page.rows()))
                        .put("next", page.next() == null ? null : page.next().toString())
                        .put("expiredPartitions", new JsonArray(page.expired()))))
        .onFailure(ctx::fail);
  }

  private void handleMember(RoutingContext ctx) {
    Checked checked = checkedCommits(ctx, "at");
    String repo = checked.repo();
    String member = ctx.pathParam("member");
    partition.forward(
        ctx,
        HttpMethod.GET,
        "/repos/" + ServiceProxy.segment(repo) + "/members/" + ServiceProxy.segment(member),
        checked.commitIds(),
        erasedAnswer(repo, member));
  }

  /**
   * What replaces the partition service's 404 for a member the erasure log names: 410 "erased" with
   * the request, so a caller can tell "never existed here" from "erased on request"; null when the
   * member was never erased.
   */
  private ApiException erasedAnswer(String repo, String member) {
    List<Erasure> erased = erasures.log().of(repo, member);
    if (erased.isEmpty()) {
      return null;
    }
    Erasure last = erased.get(erased.size() - 1);
    return new ApiException(
        410,
        "erased",
        "member erased by request "
            + last.getId()
            + " (commit "
            + last.getCommitId()
            + "); no commit before it holds the member any more");
  }

  private void handleDiff(RoutingContext ctx) {
    Checked checked = checkedCommits(ctx, "from", "to");
    partition.forward(
        ctx,
        HttpMethod.GET,
        "/repos/" + ServiceProxy.segment(checked.repo()) + "/diff",
        checked.commitIds(),
        null);
  }

  private void handleMemberDiff(RoutingContext ctx) {
    Checked checked = checkedCommits(ctx, "from", "to");
    String repo = checked.repo();
    String member = ctx.pathParam("member");
    partition.forward(
        ctx,
        HttpMethod.GET,
        "/repos/" + ServiceProxy.segment(repo) + "/diff/" + ServiceProxy.segment(member),
        checked.commitIds(),
        erasedAnswer(repo, member));
  }

  /**
   * The repo of a forwarded query and the full IDs of the commits its parameters name.
   *
   * @param commitIds parameter name to the full commit ID its reference resolved to
   */
  private record Checked(String repo, Map<String, String> commitIds) {}

  /**
   * Resolves the commit references a forwarded query's parameters hold ({@link CommitRefs}), after
   * checking that they are commits of the repo (so unknown commits are the same 4xx here as
   * everywhere) and complete (503 while one is sealed but its member versions are still being
   * built). The partition service gets the full IDs.
   */
  private Checked checkedCommits(RoutingContext ctx, String... parameters) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    Map<String, String> ids = new HashMap<>();
    for (String parameter : parameters) {
      String ref = ctx.queryParams().get(parameter);
      if (ref != null) {
        Commit commit = control.commitOf(repo, parameter, ref);
        ControlPlane.requireComplete(commit, parameter);
        ids.put(parameter, commit.getId());
      }
    }
    return new Checked(repo, ids);
  }

  private void handleGetCommit(RoutingContext ctx) {
    ok(ctx, commitJson(control.commitOfAnyRepo("id", ctx.pathParam("id"))));
  }

  private void handleListBranches(RoutingContext ctx) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    ok(ctx, jsonArray(control.branchesOf(repo).stream().map(this::branchJson).toList()));
  }

  /** Rows of the repo's updates topic the branch head (default master) does not cover yet. */
  private void handleWaiting(RoutingContext ctx) {
    RepoSpec repo = control.repo(ctx.pathParam("repo"));
    String name = ctx.queryParams().get("branch");
    String branch = name == null || name.isEmpty() ? ControlPlane.MASTER : name;
    String headId = control.branch(repo.getName(), branch).getHead();
    Commit head = headId == null ? null : control.commits.get(headId).orElse(null);
    ctx.vertx()
        .executeBlocking(() -> control.backlogs.waitingRows(repo, branch, head), false)
        .onSuccess(waiting -> ok(ctx, waiting))
        .onFailure(ctx::fail);
  }

  private void handleGetBranch(RoutingContext ctx) {
    String repo = control.repo(ctx.pathParam("repo")).getName();
    ok(ctx, branchJson(control.branch(repo, ctx.pathParam("branch"))));
  }

  private void handleCreateBranch(RoutingContext ctx) {
    String repo = ctx.pathParam("repo");
    control.repo(repo);
    Requests.NewBranch request = Requests.newBranch(HttpErrors.jsonBody(ctx));
    branches
        .create(repo, request.name(), request.head())
        .onSuccess(
            change ->
                created(
                    ctx,
                    "/repos/" + repo + "/branches/" + request.name(),
                    branchChangeJson(change)))
        .onFailure(ctx::fail);
  }

  private void handleMoveBranch(RoutingContext ctx) {
    String repo = ctx.pathParam("repo");
    String branch = ctx.pathParam("branch");
    control.branch(control.repo(repo).getName(), branch);
    Requests.BranchMove request = Requests.branchMove(HttpErrors.jsonBody(ctx));
    branches
        .move(repo, branch, request.head(), request.expectedHead())
        .onSuccess(change -> ok(ctx, branchChangeJson(change)))
        .onFailure(ctx::fail);
  }

  private void handleDeleteBranch(RoutingContext ctx) {
    branches
        .delete(ctx.pathParam("repo"), ctx.pathParam("branch"))
        .onSuccess(done -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  /** A branch with the pipelines that follow it. */
  private JsonObject branchJson(Branch branch) {
    return AvroJson.toJson(branch)
        .put(
            "pipelines",
            new JsonArray(
                control.following(branch.getRepo(), branch.getName()).stream()
                    .map(PipelineSpec::getName)
                    .toList()));
  }

  /** A branch just written, with the jobs the change started. */
  private JsonObject branchChangeJson(BranchControl.BranchChange change) {
    return branchJson(change.branch())
        .put("jobs", jsonArray(change.jobs().stream().map(AvroJson::toJson).toList()));
  }
}
