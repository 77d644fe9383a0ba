package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.http.HttpServers;
import io.tusk.common.http.ServiceProxy;
import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.kafka.TopicFeed;
import io.tusk.common.ops.Observability;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.common.service.Lifecycle;
import io.tusk.common.service.Service;
import io.tusk.common.service.ServiceRunner;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitLeader;
import io.tusk.schemas.Job;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tusk's control plane: an HTTP API (see {@link CommitApi}) over repos, commits, branches and
 * pipelines. It writes specs to {@code tusk.repos} and {@code tusk.pipelines}, creates the repos'
 * and pipelines' topics, and seals commits (step 1 of the commit protocol in docs/internals.md),
 * moves branches and requests jobs with its {@link CommitSealer}. Run as many instances as you
 * like: every one answers reads, and one of them, elected through Kafka ({@link Leadership}),
 * writes; the others forward writes to it ({@link LeaderForwarding}).
 */
public final class CommitService implements Service {
  private static final Logger log = LoggerFactory.getLogger(CommitService.class);
  private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(60);

  /** The service's name in logs, and in the README's table of Kafka ACLs. */
  public static final String SERVICE = "commit-service";

  /** Everything the service opened, closed in reverse order. */
  private final Lifecycle lifecycle;

  private final int port;
  private final SecuredRouter routes;

  private CommitService(Lifecycle lifecycle, int port, SecuredRouter routes) {
    this.lifecycle = lifecycle;
    this.port = port;
    this.routes = routes;
  }

  /** Runs the service until the JVM is asked to stop. */
  public static void main(String[] args) {
    ServiceRunner.run(SERVICE, () -> start(CommitServiceConfig.from(System.getenv())));
  }

  /**
   * Creates the system topics, reads the repo, pipeline and commit topics, and returns once the
   * HTTP API is listening.
   *
   * @throws KafkaException if Kafka or the registry is not usable
   * @throws IllegalStateException if the HTTP API cannot listen
   */
  public static CommitService start(CommitServiceConfig config) {
    Objects.requireNonNull(config, "config");
    KafkaSettings kafka = config.kafka();
    Lifecycle lifecycle = new Lifecycle(SERVICE);
    try {
      Topics topics = new Topics(kafka.registryClient());
      TopicAdmin topicAdmin = lifecycle.open(new TopicAdmin(kafka));
      topicAdmin.ensureSystemTopics();
      Observability observability = lifecycle.open(new Observability("commit-service"));
      CompactedTopicView<RepoSpec> repos =
          lifecycle.open(CompactedTopicView.start(kafka, topics.repos, VIEW_TIMEOUT));
      CompactedTopicView<PipelineSpec> pipelines =
          lifecycle.open(CompactedTopicView.start(kafka, topics.pipelines, VIEW_TIMEOUT));
      CompactedTopicView<Branch> branches =
          lifecycle.open(CompactedTopicView.start(kafka, topics.branches, VIEW_TIMEOUT));
      // Commits and jobs grow with the deployment's history: their indexes keep them compactly and
      // are the only copy, fed in topic order from the first record.
      CommitIndex commits = new CommitIndex();
      TopicFeed<Commit> commitFeed =
          lifecycle.open(TopicFeed.start(kafka, topics.commits, VIEW_TIMEOUT, commits::record));
      JobIndex jobs = new JobIndex();
      TopicFeed<Job> jobFeed =
          lifecycle.open(TopicFeed.start(kafka, topics.jobs, VIEW_TIMEOUT, jobs::record));
      ErasureLog erasureLog =
          new ErasureLog(
              lifecycle.open(CompactedTopicView.start(kafka, topics.erasures, VIEW_TIMEOUT)));
      ensureTopics(topicAdmin, repos, pipelines);
      Vertx vertx = Vertx.vertx();
      lifecycle.open(() -> Lifecycle.await(vertx.close(), "closing Vert.x"));
      // Role bindings are written here (grants, creators' ownership) and read by every service.
      Security security =
          lifecycle.open(
              Security.start(
                  "commit-service",
                  config.auth(),
                  vertx,
                  kafka,
                  topics,
                  repo -> repos.get(repo).map(RepoSpec::getSourcePipeline),
                  true));
      security.observe(observability);
      CommitSealer sealer = lifecycle.open(new CommitSealer(kafka, topics, topicAdmin.admin()));
      KafkaProducer<byte[], byte[]> specProducer =
          lifecycle.open(
              new KafkaProducer<byte[], byte[]>(
                  kafka.producer("tusk-commit-service-" + kafka.instanceId(), null)));
      observability.bind(specProducer, "spec-producer");
      observability.addHealthCheck("repos-view", repos::isHealthy);
      observability.addHealthCheck("pipelines-view", pipelines::isHealthy);
      observability.addHealthCheck("commits-feed", commitFeed::isHealthy);
      observability.addHealthCheck("branches-view", branches::isHealthy);
      observability.addHealthCheck("jobs-feed", jobFeed::isHealthy);
      observability.addHealthCheck("erasure-log", erasureLog::isHealthy);

      ControlPlane control =
          new ControlPlane(
              topics,
              topicAdmin,
              specProducer,
              sealer,
              repos,
              pipelines,
              branches,
              commits,
              new SerialTasks(vertx),
              observability.registry());
      JobControl jobControl = new JobControl(control, jobs);
      ErasurePlaces erasurePlaces = new ErasurePlaces(topicAdmin.admin(), kafka, repos, pipelines);
      ErasureControl erasures =
          new ErasureControl(
              control, jobControl, erasureLog, erasurePlaces, new ErasureScan(kafka));
      lifecycle.open(erasures::close);
      LeaderDuties duties =
          new LeaderDuties(
              config, kafka, control, erasures, erasurePlaces, observability, lifecycle);
      CompactedTopicView<CommitLeader> leaders =
          lifecycle.open(CompactedTopicView.start(kafka, topics.commitLeader, VIEW_TIMEOUT));
      Leadership leadership =
          lifecycle.open(
              new Leadership(
                  kafka,
                  sealer,
                  leaders,
                  () ->
                      repos.sync(VIEW_TIMEOUT)
                          && pipelines.sync(VIEW_TIMEOUT)
                          && branches.sync(VIEW_TIMEOUT)
                          && commitFeed.sync(VIEW_TIMEOUT)
                          && jobFeed.sync(VIEW_TIMEOUT),
                  duties));
      leadership.onFailure(lifecycle::fail);
      observability.addHealthCheck("leader-election", leadership::isHealthy);
      observability.addHealthCheck("output-commits", duties::isHealthy);
      LeaderForwarding forwarding =
          lifecycle.open(new LeaderForwarding(vertx, leadership, config.auth().tls().caFile()));
      CommitApi api =
          new CommitApi(
              control,
              new BranchControl(control),
              new PipelineControl(control, config.memberPartitions(), observability.registry()),
              jobControl,
              new RejectedRows(kafka),
              lifecycle.open(
                  new ServiceProxy(
                      vertx,
                      "partition service",
                      config.partitionUrl(),
                      config.auth().tls().caFile())),
              config.memberPartitions(),
              security,
              config.commands(),
              config.names(),
              new AuthApi(security, new AuditLog(kafka, topics.audit)),
              erasures,
              forwarding);
      SecuredRouter routes = api.router(vertx, observability);
      HttpServer server =
          lifecycle.serve(
              vertx,
              routes.router(),
              config.httpHost(),
              config.httpPort(),
              HttpServers.options(config.auth().tls()));
      lifecycle.open(observability.watchEventLoop(vertx));
      leadership.start(
          HttpServers.advertisedUrl(
              config.advertisedUrl(),
              config.auth().tls().enabled() ? "https" : "http",
              config.httpHost(),
              server.actualPort()));
      // Answer once the election settled, so a seal right after start finds a leader.
      leadership.awaitSettled(VIEW_TIMEOUT);
      log.info(
          "Commit service listening on {}:{} ({} repos, {} pipelines; {})",
          config.httpHost(),
          server.actualPort(),
          repos.snapshot().size(),
          pipelines.snapshot().size(),
          leadership.leading() ? "leading" : "following");
      return new CommitService(lifecycle, server.actualPort(), routes);
    } catch (RuntimeException e) {
      lifecycle.close();
      throw AccessDenied.explained(SERVICE, e);
    }
  }

  /** The port the HTTP API listens on (the chosen one when configured with 0). */
  public int port() {
    return port;
  }

  /**
   * The HTTP API's routes, each declared with what it needs of the caller (for the access matrix
   * test, which also checks them against the router's).
   */
  public SecuredRouter routes() {
    return routes;
  }

  /**
   * The commit service fails its lifecycle only when Kafka denies its seal request consumer an ACL
   * (it cannot work without it); other failures are retried.
   */
  @Override
  public Lifecycle lifecycle() {
    return lifecycle;
  }

  /**
   * Creates any missing topic of a known repo or pipeline: a spec is written before its topics, so
   * a crash in between would otherwise leave a repo that cannot be sealed.
   */
  private static void ensureTopics(
      TopicAdmin admin,
      CompactedTopicView<RepoSpec> repos,
      CompactedTopicView<PipelineSpec> pipelines) {
    repos.snapshot().values().forEach(admin::createRepoTopics);
    Function<PipelineSpec, Long> inputRetention =
        p -> repos.get(p.getInputRepo()).map(RepoSpec::getRawRetentionMs).orElse(null);
    pipelines
        .snapshot()
        .values()
        .forEach(p -> admin.createPipelineTopics(p, inputRetention.apply(p)));
    // Topics created before a bound changed (or by an older version) get today's settings, so an
    // erasure's promise holds for them too.
    admin.alignConfigs(
        List.copyOf(repos.snapshot().values()),
        List.copyOf(pipelines.snapshot().values()),
        inputRetention);
  }
}
