package io.tusk.commit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Trigger;
import io.vertx.core.Future;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
 * The control plane's state and its changes: repos and commits, and the reads of branches every
 * change needs (branch changes are in {@link BranchControl}, pipelines in {@link PipelineControl},
 * re-runs in {@link JobControl}). Reads come from in-memory views and may run on the event loop;
 * every change runs on a worker thread through {@link SerialTasks}, queued per repo, so seals,
 * branch moves and the jobs they start are ordered and each seal sees the commit before it as its
 * parent.
 *
 * <p>Repo and pipeline names share one namespace (a derived repo is named after its pipeline), so a
 * name is reserved while either is being created.
 */
final class ControlPlane {
  static final String MASTER = "master";

  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);
  private static final long WRITE_TIMEOUT_SECONDS = 30;

  /** The partition service's Kafka Streams application ID, its consumer group. */
  private static final String PARTITION_GROUP = "tusk-partition";

  private static final java.time.Duration PURGE_TIMEOUT = java.time.Duration.ofSeconds(60);

  final Topics topics;
  final TopicAdmin topicAdmin;
  final CommitSealer sealer;
  final CompactedTopicView<RepoSpec> repos;
  final CompactedTopicView<PipelineSpec> pipelines;
  final CompactedTopicView<Branch> branches;
  final CommitIndex commits;
  final SerialTasks tasks;
  final Backlogs backlogs;

  private final CommitRefs refs;
  private final Producer<byte[], byte[]> specProducer;
  private final Set<String> reservedNames = new HashSet<>();
  private final Timer sealTimer;
  private final Counter repoCounter;

  ControlPlane(
      Topics topics,
      TopicAdmin topicAdmin,
      Producer<byte[], byte[]> specProducer,
      CommitSealer sealer,
      CompactedTopicView<RepoSpec> repos,
      CompactedTopicView<PipelineSpec> pipelines,
      CompactedTopicView<Branch> branches,
      CommitIndex commits,
      SerialTasks tasks,
      MeterRegistry metrics) {
    this.topics = topics;
    this.topicAdmin = topicAdmin;
    this.backlogs = new Backlogs(topicAdmin.admin());
    this.specProducer = specProducer;
    this.sealer = sealer;
    this.repos = repos;
    this.pipelines = pipelines;
    this.branches = branches;
    this.commits = commits;
    this.refs =
        new CommitRefs(commits, (repo, branch) -> branches.get(TopicNames.branchKey(repo, branch)));
    this.tasks = tasks;
    this.sealTimer =
        Timer.builder("tusk.commits.sealed")
            .description("Commits sealed and how long sealing took")
            .register(metrics);
    this.repoCounter =
        Counter.builder("tusk.repos.created").description("Repos created").register(metrics);
  }

  // ---- reads

  /** The repo named by a path parameter: 400 for an invalid name, 404 for an unknown one. */
  RepoSpec repo(String name) {
    Requests.name("repo", name);
    return repos.get(name).orElseThrow(() -> ApiException.notFound("no repo '" + name + "'"));
  }

  /** A branch of an existing repo: 400 for an invalid name, 404 for an unknown branch. */
  Branch branch(String repo, String name) {
    Requests.branchName("branch", name);
    return branches
        .get(TopicNames.branchKey(repo, name))
        .orElseThrow(
            () -> ApiException.notFound("no branch '" + name + "' in repo '" + repo + "'"));
  }

  /** The branches of a repo, by name. */
  List<Branch> branchesOf(String repo) {
    String prefix = TopicNames.branchKey(repo, "");
    return branches.snapshot().entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .map(e -> e.getValue())
        .sorted(Comparator.comparing(Branch::getName))
        .toList();
  }

  /** The pipelines whose input is {@code branch} of {@code repo}, by name. */
  List<PipelineSpec> following(String repo, String branch) {
    return pipelines.snapshot().values().stream()
        .filter(p -> p.getInputRepo().equals(repo) && p.getInputBranch().equals(branch))
        .sorted(Comparator.comparing(PipelineSpec::getName))
        .toList();
  }

  /**
   * The commit a request names in {@code field} by any commit reference ({@link CommitRefs}: full
   * ID, unique prefix, branch, {@code ~N}/{@code ^}): 400 if malformed or the commit belongs to
   * another repo, 404 if unknown, 409 if an ambiguous prefix.
   */
  Commit commitOf(String repo, String field, String ref) {
    return refs.resolve(repo, field, ref);
  }

  /** The commit a full ID or unique prefix names, in any repo ({@link CommitRefs#anyRepo}). */
  Commit commitOfAnyRepo(String field, String ref) {
    return refs.anyRepo(field, ref);
  }

  /** As {@link #commitOfAnyRepo}, empty instead of an error (for access decisions). */
  Optional<Commit> findCommit(String ref) {
    return refs.find(ref);
  }

  /**
   * 410 unless {@code commit} is within its repo's history: the partition service prunes the member
   * versions of commits below {@code latest sequence - historyRetention + 1} (the floor), so a job
   * or a branch head there would read a history that is gone.
   *
   * @param what what the commit is to the request, for the message (e.g. "head")
   */
  void requireKept(Commit commit, String what) {
    RepoSpec repo = repo(commit.getRepo());
    long floor = historyFloor(repo);
    if (commit.getSequence() < floor) {
      throw new ApiException(
          410,
          "gone",
          "commit "
              + commit.getId()
              + " ("
              + what
              + ", sequence "
              + commit.getSequence()
              + ") of repo '"
              + repo.getName()
              + "' is older than its history retention of "
              + repo.getHistoryRetention()
              + " commits: the oldest sequence kept is "
              + floor);
    }
  }

  /**
   * The lowest commit sequence of {@code repo} whose member versions are kept (1 until pruned): the
   * retention's, or the oldest branch head's if older (history is never pruned past a branch head,
   * as the partition service's pruner holds).
   */
  long historyFloor(RepoSpec repo) {
    long latest = commits.latest(repo.getName()).map(Commit::getSequence).orElse(0L);
    long retained = latest - Math.max(1, repo.getHistoryRetention()) + 1;
    long oldestHead =
        branchesOf(repo.getName()).stream()
            .filter(b -> b.getHead() != null)
            .mapToLong(Branch::getHeadSequence)
            .min()
            .orElse(Long.MAX_VALUE);
    return Math.max(1, Math.min(retained, oldestHead));
  }

  /**
   * 503 unless {@code commit} is complete (the partition service wrote it back with its stats):
   * before that its member versions are not all built, and a query would see a partial commit.
   */
  static void requireComplete(Commit commit, String field) {
    if (commit.getStats() == null) {
      throw ApiException.unavailable(
          "commit "
              + commit.getId()
              + " ("
              + field
              + ") of repo '"
              + commit.getRepo()
              + "' is sealed but not complete yet: its rows are still being partitioned into"
              + " members; retry shortly");
    }
  }

  // ---- repos

  /** Creates a repo: its spec, its topics and its master branch (no head yet). */
  Future<RepoSpec> createRepo(RepoSpec spec) {
    String name = spec.getName();
    requireFreeName(name);
    return tasks.submit(repoQueue(name), () -> createRepoNow(spec));
  }

  /** Creates a repo on the calling worker thread, inside the repo's queue. */
  RepoSpec createRepoNow(RepoSpec spec) {
    String name = spec.getName();
    reserveName(name);
    try {
      // The spec goes first so every service knows the repo once its topics appear.
      write(topics.repos, name, spec);
      topicAdmin.createRepoTopics(spec);
      Branch master = CommitSealer.branchAt(name, MASTER, null);
      sealer.writeBranch(spec, master, null, List.of());
      repos.put(name, spec);
      branches.put(TopicNames.branchKey(name, MASTER), master);
    } finally {
      releaseName(name);
    }
    repoCounter.increment();
    log.info(
        "Created repo {} ({} update partitions, {} member partitions, {} tables{})",
        name,
        spec.getUpdatePartitions(),
        spec.getMemberPartitions(),
        spec.getTables().size(),
        spec.getSourcePipeline() == null ? "" : ", outputs of " + spec.getSourcePipeline());
    return spec;
  }

  /**
   * Gives every repo without a master branch record one at its newest commit: repos created before
   * branches existed, or whose creation stopped before the record was written.
   */
  void ensureMasterBranches() {
    for (RepoSpec repo : repos.snapshot().values()) {
      String key = TopicNames.branchKey(repo.getName(), MASTER);
      if (branches.get(key).isEmpty()) {
        Branch master =
            CommitSealer.branchAt(
                repo.getName(), MASTER, commits.latest(repo.getName()).orElse(null));
        sealer.writeBranch(repo, master, null, List.of());
        branches.put(key, master);
        log.info("Recorded branch master of repo {} at {}", repo.getName(), master.getHead());
      }
    }
  }

  /**
   * Changes a repo's layout to the one {@code document} describes, from the repo's next commit on
   * (in the repo's queue, so no seal runs in between and the next commit is the first read with
   * it). An unchanged layout changes nothing.
   */
  Future<RepoSpec> updateLayout(String name, io.vertx.core.json.JsonObject document) {
    requireNotDerived(repo(name));
    return tasks.submit(
        repoQueue(name),
        () -> {
          RepoSpec current = repo(name);
          long next = commits.latest(name).map(c -> c.getSequence() + 1).orElse(1L);
          RepoSpec updated =
              Requests.layoutUpdate(current, document, next, System.currentTimeMillis());
          if (updated != current) {
            write(topics.repos, name, updated);
            repos.put(name, updated);
            log.info(
                "Layout of repo {} is version {} from commit sequence {} ({} changes)",
                name,
                updated.getLayoutVersion(),
                next,
                updated.getLayoutChanges().size());
          }
          return updated;
        });
  }

  /** Sets or clears (null) the trigger of a repo; a derived repo's commits follow its pipeline. */
  Future<RepoSpec> setTrigger(String name, Trigger trigger) {
    requireNotDerived(repo(name));
    return tasks.submit(
        repoQueue(name),
        () -> {
          RepoSpec updated = RepoSpec.newBuilder(repo(name)).setTrigger(trigger).build();
          write(topics.repos, name, updated);
          repos.put(name, updated);
          log.info("Trigger of repo {} set to {}", name, trigger);
          return updated;
        });
  }

  /**
   * Sets (null: clears) how long raw copies of a repo's rows live, and aligns its topics and those
   * of the pipelines reading it.
   */
  Future<RepoSpec> setRawRetention(String name, Long rawRetentionMs) {
    repo(name);
    return tasks.submit(
        repoQueue(name),
        () -> {
          RepoSpec updated =
              RepoSpec.newBuilder(repo(name)).setRawRetentionMs(rawRetentionMs).build();
          write(topics.repos, name, updated);
          repos.put(name, updated);
          topicAdmin.alignRepo(updated, readers(name));
          log.info("Raw retention of repo {} set to {} ms", name, rawRetentionMs);
          return updated;
        });
  }

  /**
   * Deletes a repo: 409 while pipelines read it (named in the message) unless {@code force}, and
   * always 409 for a repo derived from a live pipeline (delete the pipeline first). Tombstones its
   * commits, branches and spec, forgets them in memory and deletes its topics, waiting until they
   * are gone so a repo created again under the name gets fresh, empty topics. A forced delete
   * leaves the reading pipelines: their specs stay and their next job fails naming the missing
   * repo, so nothing the user did not name is deleted.
   *
   * @return the pipelines that read the repo when it was deleted
   */
  Future<List<String>> deleteRepo(String name, boolean force) {
    requireDeletable(repo(name), force);
    return tasks.submit(
        repoQueue(name),
        () -> {
          RepoSpec spec = repo(name);
          List<String> readers = requireDeletable(spec, force);
          purgeMemberState(spec);
          List<Commit> dropped = commits.dropRepo(name);
          for (Commit commit : dropped) {
            write(topics.commits, commit.getId(), null);
          }
          for (Branch branch : branchesOf(name)) {
            String key = TopicNames.branchKey(name, branch.getName());
            write(topics.branches, key, null);
            branches.remove(key);
          }
          // The spec goes last but before the topics: services stop treating it as a repo first.
          write(topics.repos, name, null);
          repos.remove(name);
          topicAdmin.deleteRepoTopics(spec);
          log.info(
              "Deleted repo {} ({} commits{})",
              name,
              dropped.size(),
              readers.isEmpty() ? "" : ", forced: read by " + readers);
          return readers;
        });
  }

  /**
   * Has every member partition's task of the partition service drop the repo's keys from its
   * stores, and waits until it did: the purge events travel on {@code <repo>.by-member} and {@code
   * <repo>.row-owners}, so they must be consumed before those topics are deleted. A partition
   * service that never read the topic holds nothing of it.
   */
  private void purgeMemberState(RepoSpec spec) {
    sealer.purge(spec);
    try {
      boolean purged =
          topicAdmin.awaitConsumed(
              PARTITION_GROUP, TopicNames.byMember(spec.getName()), PURGE_TIMEOUT);
      purged |=
          topicAdmin.awaitConsumed(
              PARTITION_GROUP, TopicNames.rowOwners(spec.getName()), PURGE_TIMEOUT);
      log.info(
          "State of repo {} {} by the partition service",
          spec.getName(),
          purged ? "purged" : "never held");
    } catch (KafkaException e) {
      throw ApiException.unavailable(
          "the partition service has not purged repo '"
              + spec.getName()
              + "' yet (is it running?): nothing was deleted, try again");
    }
  }

  /** The names of the pipelines reading the repo; 409 when the repo may not be deleted. */
  private List<String> requireDeletable(RepoSpec repo, boolean force) {
    String source = repo.getSourcePipeline();
    if (source != null && pipelines.get(source).isPresent()) {
      throw ApiException.conflict(
          "repo '"
              + repo.getName()
              + "' holds the outputs of pipeline '"
              + source
              + "': delete the pipeline first");
    }
    List<String> readers = readers(repo.getName()).stream().map(PipelineSpec::getName).toList();
    if (!readers.isEmpty() && !force) {
      throw ApiException.conflict(
          "repo '"
              + repo.getName()
              + "' is read by pipeline"
              + (readers.size() == 1 ? " " : "s ")
              + String.join(", ", readers)
              + ": delete them first, or use --force");
    }
    return readers;
  }

  /** The pipelines whose input is the repo (whatever branch they follow). */
  List<PipelineSpec> readers(String repo) {
    return pipelines.snapshot().values().stream()
        .filter(p -> p.getInputRepo().equals(repo))
        .sorted(Comparator.comparing(PipelineSpec::getName))
        .toList();
  }

  /** The raw retention of a pipeline's input repo (null: forever, or unknown). */
  Long inputRetention(PipelineSpec pipeline) {
    return repos.get(pipeline.getInputRepo()).map(RepoSpec::getRawRetentionMs).orElse(null);
  }

  // ---- commits

  /**
   * Seals the next commit of a repo on {@code branch} (created if it does not exist, as Pachyderm
   * does), starting an incremental job for every pipeline following the branch.
   */
  Future<Commit> seal(String repoName, String branch) {
    return seal(repoName, branch, null).map(Sealed::commit);
  }

  /** A commit a seal request answers with; {@code repeated} when an earlier request sealed it. */
  record Sealed(Commit commit, boolean repeated) {}

  /**
   * Seals {@code branch} of a repo, once per {@code requestId}: a request repeated with the key of
   * a commit already sealed (e.g. retried after a lost answer or a restart of this service) gets
   * that commit again, found in the commit index, which the commits topic rebuilds on start.
   *
   * @param requestId the client's idempotency key, or null for a seal every time
   */
  Future<Sealed> seal(String repoName, String branch, String requestId) {
    RepoSpec repo = repo(repoName);
    Requests.branchName("branch", branch);
    requireNotDerived(repo);
    return tasks.submit(
        repoQueue(repoName),
        () -> {
          Optional<Commit> earlier =
              requestId == null ? Optional.empty() : commits.byRequest(repoName, requestId);
          if (earlier.isPresent()) {
            return new Sealed(earlier.get(), true);
          }
          return new Sealed(sealNow(repoName, branch, null, null, requestId), false);
        });
  }

  /**
   * Seals master of a repo for its trigger, unless a commit was sealed since the trigger looked
   * (its new offsets are then in that commit).
   *
   * @param seenLatest the repo's newest commit when the trigger fired (null: none)
   * @return the commit, or null if another seal came first
   */
  Future<Commit> sealForTrigger(String repoName, String seenLatest) {
    return tasks.submit(
        repoQueue(repoName),
        () -> {
          String latest = commits.latest(repoName).map(Commit::getId).orElse(null);
          if (!Objects.equals(latest, seenLatest)) {
            return null;
          }
          return sealNow(repoName, MASTER, null);
        });
  }

  static void requireNotDerived(RepoSpec repo) {
    if (repo.getSourcePipeline() != null) {
      throw ApiException.conflict(
          "repo '"
              + repo.getName()
              + "' holds the outputs of pipeline '"
              + repo.getSourcePipeline()
              + "': its commits are sealed when that pipeline's jobs end");
    }
  }

  /**
   * Seals on the calling worker thread, inside the repo's queue.
   *
   * @param source the upstream job round of an output commit, else null
   */
  Commit sealNow(String repoName, String branch, CommitSealer.OutputSource source) {
    return sealNow(repoName, branch, source, null);
  }

  /**
   * Seals on the calling worker thread, inside the repo's queue; with {@code erasing}, an erasure
   * commit.
   */
  Commit sealNow(
      String repoName,
      String branch,
      CommitSealer.OutputSource source,
      CommitSealer.Erasing erasing) {
    return sealNow(repoName, branch, source, erasing, null);
  }

  private Commit sealNow(
      String repoName,
      String branch,
      CommitSealer.OutputSource source,
      CommitSealer.Erasing erasing,
      String requestId) {
    RepoSpec repo = repo(repoName);
    Commit parent = commits.latest(repoName).orElse(null);
    List<PipelineSpec> jobs = following(repoName, branch);
    Commit commit =
        sealTimer.record(() -> sealer.seal(repo, parent, jobs, branch, source, erasing, requestId));
    commits.record(commit.getId(), commit);
    branches.put(
        TopicNames.branchKey(repoName, branch), CommitSealer.branchAt(repoName, branch, commit));
    return commit;
  }

  // ---- shared

  /** A job requested on an existing commit of a repo. */
  record StartedJob(String repo, String commitId, JobRef job) {}

  /** A new job of {@code pipeline}. */
  static JobRef jobRef(PipelineSpec pipeline, JobKind kind, JobMode mode) {
    return JobRef.newBuilder()
        .setPipeline(pipeline.getName())
        .setJobId(Ids.newId())
        .setSpecHash(pipeline.getSpecHash())
        .setKeptSpecHashes(pipeline.getKeptSpecHashes())
        .setKind(kind)
        .setMode(mode)
        .build();
  }

  /** The queue of every change to a repo's commits, branches and the jobs on them. */
  static String repoQueue(String repo) {
    return "repo:" + repo;
  }

  /** 409 unless no repo or pipeline has this name (checked again when reserving it). */
  void requireFreeName(String name) {
    Optional<String> owner = nameOwner(name);
    if (owner.isPresent()) {
      throw ApiException.conflict(owner.get() + " '" + name + "' already exists");
    }
  }

  /** Reserves a new repo or pipeline name until {@link #releaseName}; 409 if it is taken. */
  void reserveName(String name) {
    synchronized (reservedNames) {
      requireFreeName(name);
      if (!reservedNames.add(name)) {
        throw ApiException.conflict("'" + name + "' is being created by another request");
      }
    }
  }

  void releaseName(String name) {
    synchronized (reservedNames) {
      reservedNames.remove(name);
    }
  }

  private Optional<String> nameOwner(String name) {
    if (repos.get(name).isPresent()) {
      return Optional.of("repo");
    }
    if (pipelines.get(name).isPresent()) {
      return Optional.of("pipeline");
    }
    return Optional.empty();
  }

  /**
   * Writes a spec ({@code null}: a tombstone) and waits for the broker's acknowledgement (worker
   * threads only).
   */
  <V extends SpecificRecord> void write(Topic<String, V> topic, String key, V value) {
    Objects.requireNonNull(key, "key");
    try {
      specProducer
          .send(
              new ProducerRecord<>(
                  topic.name(), topic.key(key), value == null ? null : topic.value(value)))
          .get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted writing " + key + " to " + topic.name(), e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot write " + key + " to " + topic.name(), e);
    }
  }
}
