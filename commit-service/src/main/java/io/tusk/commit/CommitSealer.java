package io.tusk.commit;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.http.ApiException;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitLeader;
import io.tusk.schemas.Erase;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Seal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's transactional writes to the member side, all through one transactional
 * producer:
 *
 * <ul>
 *   <li>seals (step 1 of the commit protocol in docs/internals.md): reads the last stable offset of
 *       every partition of {@code <repo>.updates}, so rows of open or aborted transactions never
 *       enter a commit, and writes the commit record, the branch's new head and a seal to every
 *       partition of {@code <repo>.by-member} in one transaction;
 *   <li>job requests (branch moves, re-runs, restarts, pipeline updates): a {@link JobRequest} over
 *       an existing commit to every partition of {@code <repo>.by-member}, with the branch record
 *       when a branch moved, in one transaction;
 *   <li>branch records and their deletion.
 * </ul>
 *
 * Writes are serialized, and only the leading instance writes (see {@link Leadership}): every
 * instance's producer has the one transactional ID {@link #TRANSACTIONAL_ID}, so the leader's
 * {@link #activate} fences the producer of any instance that led before it (its open transaction is
 * aborted, its next write fails). A fenced sealer does not reconnect, which would fence the leader
 * in turn: it stops writing until its instance is elected again.
 */
public final class CommitSealer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CommitSealer.class);

  /** Longest a seal waits for the markers of a transaction that was just committed. */
  private static final java.time.Duration MARKER_WAIT = java.time.Duration.ofMillis(500);

  private static final int UNKNOWN_TOPIC_ATTEMPTS = 10;
  private static final long UNKNOWN_TOPIC_BACKOFF_MS = 200;

  /** The transactional ID of every instance's sealer: one, so that only one can write. */
  static final String TRANSACTIONAL_ID = "tusk-sealer-leader";

  /** The key of the one record of {@code tusk.commit-leader}. */
  static final String LEADER_KEY = "leader";

  private final KafkaSettings settings;
  private final Topics topics;
  private final Admin admin;

  /** Null while this instance does not lead. */
  private KafkaProducer<byte[], byte[]> producer;

  private volatile Runnable onFenced = () -> {};

  /** An inactive sealer: it writes once {@link #activate}d. */
  public CommitSealer(KafkaSettings settings, Topics topics, Admin admin) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.admin = Objects.requireNonNull(admin, "admin");
  }

  /**
   * A sealer that writes at once, for a process that seals without a commit service's election
   * (tests of the member side): it fences any commit service sealing on the same cluster.
   */
  public static CommitSealer activated(KafkaSettings settings, Topics topics, Admin admin) {
    CommitSealer sealer = new CommitSealer(settings, topics, admin);
    sealer.activate();
    return sealer;
  }

  /**
   * Takes the sealing over: a producer with the one transactional ID, whose {@code
   * initTransactions} fences the previous leader's and aborts its open transaction, so everything
   * it committed is in the topics and nothing more will be.
   *
   * @throws KafkaException if Kafka refuses (e.g. the transactional ID is denied)
   */
  public synchronized void activate() {
    if (producer == null) {
      producer = newProducer();
    }
  }

  /** Stops writing (the instance lost the lead); a write in progress finished before this. */
  public synchronized void deactivate() {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
      producer = null;
    }
  }

  /** Runs {@code listener} when another producer with the same transactional ID fenced this one. */
  public void onFenced(Runnable listener) {
    this.onFenced = Objects.requireNonNull(listener, "listener");
  }

  /** True while this sealer may write: activated and not fenced since. */
  public synchronized boolean isActive() {
    return producer != null;
  }

  /**
   * Records this instance as the leader on {@code tusk.commit-leader}, in a transaction: a fenced
   * sealer cannot write it.
   */
  public synchronized void announceLeader(CommitLeader leader) {
    Topic<String, CommitLeader> topic = topics.commitLeader;
    transact(
        "announce leader " + leader.getInstance(),
        tx ->
            tx.send(
                new ProducerRecord<>(topic.name(), 0, topic.key(LEADER_KEY), topic.value(leader))));
  }

  private KafkaProducer<byte[], byte[]> newProducer() {
    String clientId = "tusk-sealer-" + settings.instanceId();
    KafkaProducer<byte[], byte[]> created =
        new KafkaProducer<>(settings.producer(clientId, TRANSACTIONAL_ID));
    try {
      created.initTransactions();
    } catch (RuntimeException e) {
      created.close(java.time.Duration.ZERO); // e.g. its transactional ID denied: nobody owns it
      throw e;
    }
    return created;
  }

  /**
   * What an output commit of a derived repo is sealed for: the end of upstream job {@code jobId}
   * (round 0) or of its {@code round}-th restart round, carrying that job's global ID.
   */
  public record OutputSource(String jobId, int round, String globalId) {
    public OutputSource {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(globalId, "globalId");
    }
  }

  /**
   * Seals the next commit of {@code repo} on branch {@code master}, with a new global ID.
   *
   * @param parent the repo's latest commit, or null for its first
   * @param pipelines the pipelines to start a job for (those following the branch)
   */
  public Commit seal(RepoSpec repo, Commit parent, List<PipelineSpec> pipelines) {
    return seal(repo, parent, pipelines, "master", null);
  }

  /**
   * Seals the next commit of {@code repo}.
   *
   * @param parent the repo's latest commit (the log is linear whatever the branch), or null
   * @param pipelines the pipelines to start an incremental job for (those following {@code branch})
   * @param branch the branch whose head moves to the new commit
   * @param source for an output commit of a derived repo, the upstream job round that ended (the
   *     commit carries its job, round and global ID); null for a commit with its own global ID
   */
  public Commit seal(
      RepoSpec repo,
      Commit parent,
      List<PipelineSpec> pipelines,
      String branch,
      OutputSource source) {
    return seal(repo, parent, pipelines, branch, source, null, null);
  }

  /** The member an erasure commit erases, and the request it is sealed for. */
  public record Erasing(String request, String member) {}

  /**
   * Seals the next commit of {@code repo}; with {@code erasing}, an erasure commit: an {@link
   * Erase} of the member goes to the member's partition of {@code <repo>.by-member} in the seal's
   * transaction, before the seal, so the partition service applies it when the commit completes.
   *
   * @param requestId the seal request's idempotency key, kept in the commit; null for none
   */
  public synchronized Commit seal(
      RepoSpec repo,
      Commit parent,
      List<PipelineSpec> pipelines,
      String branch,
      OutputSource source,
      Erasing erasing,
      String requestId) {
    Objects.requireNonNull(repo, "repo");
    Objects.requireNonNull(branch, "branch");
    String id = Ids.newId();
    List<PartitionOffset> end = lastStableOffsets(repo);
    List<PartitionOffset> start = parent == null ? zeroes(end) : parent.getEndOffsets();
    List<JobRef> jobs = new ArrayList<>();
    pipelines.stream()
        .sorted(Comparator.comparing(PipelineSpec::getName))
        .forEach(
            p ->
                jobs.add(
                    JobRef.newBuilder()
                        .setPipeline(p.getName())
                        .setJobId(Ids.newId())
                        .setSpecHash(p.getSpecHash())
                        .setKeptSpecHashes(p.getKeptSpecHashes())
                        .build()));
    Commit commit =
        Commit.newBuilder()
            .setId(id)
            .setRepo(repo.getName())
            .setSequence(parent == null ? 1 : parent.getSequence() + 1)
            .setLayoutVersion(repo.getLayoutVersion())
            .setParent(parent == null ? null : parent.getId())
            .setGlobalId(source == null ? id : source.globalId())
            .setCreatedAt(System.currentTimeMillis())
            .setStartOffsets(start)
            .setEndOffsets(end)
            .setJobs(jobs)
            .setStats(null)
            .setBranch(branch)
            .setSourceJob(source == null ? null : source.jobId())
            .setSourceRound(source == null ? 0 : source.round())
            .setErasure(erasing == null ? null : erasing.request())
            .setRequestId(requestId)
            .build();
    byte[] seal =
        topics
            .byMember(repo.getName())
            .value(
                MemberEvent.newBuilder()
                    .setEvent(
                        Seal.newBuilder()
                            .setCommit(commit)
                            .setMemberPartitions(repo.getMemberPartitions())
                            .build())
                    .build());
    transact(
        "seal commit " + id + " of " + repo.getName(),
        tx -> {
          tx.send(
              new ProducerRecord<>(
                  topics.commits.name(), topics.commits.key(id), topics.commits.value(commit)));
          sendBranch(tx, branchAt(repo.getName(), branch, commit));
          if (erasing != null) {
            Topic<String, MemberEvent> byMember = topics.byMember(repo.getName());
            // Keyed by the member, like its rows: the default partitioner puts it in their
            // partition.
            tx.send(
                new ProducerRecord<>(
                    byMember.name(),
                    byMember.key(erasing.member()),
                    byMember.value(
                        MemberEvent.newBuilder()
                            .setEvent(
                                Erase.newBuilder()
                                    .setRequest(erasing.request())
                                    .setSequence(commit.getSequence())
                                    .build())
                            .build())));
          }
          toEveryPartition(tx, repo, seal);
        });
    log.info(
        "Sealed commit {} of repo {} (sequence {}, {} offsets, {} jobs)",
        id,
        repo.getName(),
        commit.getSequence(),
        offsetCount(commit),
        jobs.size());
    return commit;
  }

  /**
   * Requests {@code jobs} over the member objects as of {@code commit}, an existing commit of
   * {@code repo}: one {@link JobRequest} to every partition of {@code <repo>.by-member}, in one
   * transaction.
   */
  public void requestJobs(RepoSpec repo, Commit commit, List<JobRef> jobs) {
    Objects.requireNonNull(commit, "commit");
    if (jobs.isEmpty()) {
      throw new IllegalArgumentException("no jobs to request on commit " + commit.getId());
    }
    writeBranch(repo, null, commit, jobs);
  }

  /**
   * Writes a branch record and, when {@code jobs} is not empty, a {@link JobRequest} of them over
   * {@code head} to every partition of {@code <repo>.by-member}, in one transaction: a branch move
   * and the jobs of the pipelines following the branch become visible together or not at all.
   *
   * @param branch the branch record to write, or null for the job request alone
   * @param head the commit the jobs run on; needed only when {@code jobs} is not empty
   */
  public synchronized void writeBranch(
      RepoSpec repo, Branch branch, Commit head, List<JobRef> jobs) {
    Objects.requireNonNull(repo, "repo");
    Objects.requireNonNull(jobs, "jobs");
    if (!jobs.isEmpty() && head == null) {
      throw new IllegalArgumentException("jobs need the commit they run on");
    }
    if (branch != null && !branch.getRepo().equals(repo.getName())) {
      throw new IllegalArgumentException(
          "branch of repo " + branch.getRepo() + " written with repo " + repo.getName());
    }
    byte[] request =
        jobs.isEmpty()
            ? null
            : topics
                .byMember(repo.getName())
                .value(
                    MemberEvent.newBuilder()
                        .setEvent(
                            JobRequest.newBuilder()
                                .setCommit(head)
                                .setJobs(jobs)
                                .setMemberPartitions(repo.getMemberPartitions())
                                .build())
                        .build());
    transact(
        "write branch or jobs of " + repo.getName(),
        tx -> {
          if (branch != null) {
            sendBranch(tx, branch);
          }
          if (request != null) {
            toEveryPartition(tx, repo, request);
          }
        });
    if (!jobs.isEmpty()) {
      log.info(
          "Requested {} jobs ({}) of repo {} on commit {}{}",
          jobs.size(),
          jobs.stream().map(j -> j.getKind() + "/" + j.getMode()).distinct().toList(),
          repo.getName(),
          head.getId(),
          branch == null ? "" : " with branch " + branch.getName());
    }
  }

  /**
   * Announces that round {@code round} of job {@code jobId} of {@code pipeline} ended (0: the job's
   * first end, n: its n-th restart round): a {@link JobDone} to every partition of {@code
   * <repo>.by-member}, in one transaction. The commit service sends it after sealing the round's
   * output commits, so the pipeline's next job (which the member side holds back until then) cannot
   * write outputs into them. The member side matches the round, so a repeated announcement of an
   * earlier round cannot end a queued restart.
   */
  public synchronized void announceJobDone(
      String repo, int memberPartitions, String pipeline, String jobId, int round) {
    byte[] done =
        topics
            .byMember(repo)
            .value(
                MemberEvent.newBuilder()
                    .setEvent(
                        JobDone.newBuilder()
                            .setPipeline(pipeline)
                            .setJobId(jobId)
                            .setRound(round)
                            .build())
                    .build());
    String byMember = TopicNames.byMember(repo);
    transact(
        "announce the end of round " + round + " of job " + jobId,
        tx -> {
          for (int partition = 0; partition < memberPartitions; partition++) {
            tx.send(new ProducerRecord<>(byMember, partition, null, done));
          }
        });
  }

  /** Deletes a branch record (a tombstone on {@code tusk.branches}). */
  public synchronized void deleteBranch(String repo, String branch) {
    String key = TopicNames.branchKey(repo, branch);
    transact(
        "delete branch " + key,
        tx ->
            tx.send(new ProducerRecord<>(topics.branches.name(), topics.branches.key(key), null)));
  }

  /** The record of branch {@code name} of {@code repo} pointing at {@code head} (null: no head). */
  public static Branch branchAt(String repo, String name, Commit head) {
    return Branch.newBuilder()
        .setRepo(repo)
        .setName(name)
        .setHead(head == null ? null : head.getId())
        .setHeadSequence(head == null ? 0 : head.getSequence())
        .setUpdatedAt(System.currentTimeMillis())
        .build();
  }

  private void sendBranch(KafkaProducer<byte[], byte[]> tx, Branch branch) {
    String key = TopicNames.branchKey(branch.getRepo(), branch.getName());
    tx.send(
        new ProducerRecord<>(
            topics.branches.name(), topics.branches.key(key), topics.branches.value(branch)));
  }

  /**
   * Writes a {@link io.tusk.schemas.RepoPurge} to every partition of {@code <repo>.by-member} and a
   * {@link io.tusk.schemas.RowOwnersPurge} to every partition of {@code <repo>.row-owners}, in one
   * transaction: each task of the partition service drops the repo's keys from its stores when it
   * reads them.
   */
  public synchronized void purge(RepoSpec repo) {
    byte[] purge =
        topics
            .byMember(repo.getName())
            .value(
                MemberEvent.newBuilder()
                    .setEvent(
                        io.tusk.schemas.RepoPurge.newBuilder()
                            .setRequestedAt(System.currentTimeMillis())
                            .build())
                    .build());
    byte[] ownersPurge =
        topics
            .rowOwners(repo.getName())
            .value(
                io.tusk.schemas.RowOwnerEvent.newBuilder()
                    .setEvent(
                        io.tusk.schemas.RowOwnersPurge.newBuilder()
                            .setRequestedAt(System.currentTimeMillis())
                            .build())
                    .build());
    String rowOwners = TopicNames.rowOwners(repo.getName());
    transact(
        "purge repo " + repo.getName(),
        tx -> {
          toEveryPartition(tx, repo, purge);
          // Row-owners has one partition per member partition (TopicAdmin.repoTopics).
          for (int partition = 0; partition < repo.getMemberPartitions(); partition++) {
            tx.send(new ProducerRecord<>(rowOwners, partition, null, ownersPurge));
          }
        });
  }

  private static void toEveryPartition(
      KafkaProducer<byte[], byte[]> tx, RepoSpec repo, byte[] event) {
    String byMember = TopicNames.byMember(repo.getName());
    for (int partition = 0; partition < repo.getMemberPartitions(); partition++) {
      tx.send(new ProducerRecord<>(byMember, partition, null, event));
    }
  }

  /**
   * Runs {@code writes} in one transaction; on failure aborts it. A fenced producer (another
   * instance leads now) is dropped: 503 {@code not_leader}, nothing of the transaction committed.
   * Another fatal error replaces the producer, which fences nobody else (this instance leads).
   */
  private void transact(String what, Consumer<KafkaProducer<byte[], byte[]>> writes) {
    if (producer == null) {
      throw notLeader("this commit service instance does not lead");
    }
    try {
      producer.beginTransaction();
      writes.accept(producer);
      producer.commitTransaction();
    } catch (ProducerFencedException | InvalidProducerEpochException e) {
      log.warn("Sealer fenced during {}: another instance leads now; it stops writing", what);
      producer.close(java.time.Duration.ZERO);
      producer = null;
      onFenced.run();
      throw notLeader("this commit service instance lost the lead during " + what);
    } catch (OutOfOrderSequenceException | AuthorizationException e) {
      log.warn("Producer failed fatally during {}; replacing it", what, e);
      producer.close();
      producer = newProducer();
      throw e;
    } catch (KafkaException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException abort) {
        e.addSuppressed(abort);
      }
      throw e;
    }
  }

  /**
   * Number of offsets a commit spans (its rows, plus any rejected records and transaction markers).
   */
  public static long offsetCount(Commit commit) {
    Map<Integer, Long> start = new HashMap<>();
    commit.getStartOffsets().forEach(o -> start.put(o.getPartition(), o.getOffset()));
    return commit.getEndOffsets().stream()
        .mapToLong(o -> o.getOffset() - start.getOrDefault(o.getPartition(), 0L))
        .sum();
  }

  private List<PartitionOffset> lastStableOffsets(RepoSpec repo) {
    String updates = TopicNames.updatesOf(repo);
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < repo.getUpdatePartitions(); p++) {
      request.put(new TopicPartition(updates, p), OffsetSpec.latest());
    }
    try {
      Map<TopicPartition, Long> stable = offsets(request, IsolationLevel.READ_COMMITTED);
      // A transaction committed just before the seal may still be writing its markers (the
      // coordinator writes them after answering the commit), so the last stable offset trails the
      // log end for a moment. Waiting briefly puts rows their producer saw committed into this
      // commit; a transaction that is really open stays out.
      long deadline = System.nanoTime() + MARKER_WAIT.toNanos();
      while (!stable.equals(offsets(request, IsolationLevel.READ_UNCOMMITTED))
          && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(20);
        stable = offsets(request, IsolationLevel.READ_COMMITTED);
      }
      return stable.entrySet().stream()
          .map(e -> new PartitionOffset(e.getKey().partition(), e.getValue()))
          .sorted(Comparator.comparingInt(PartitionOffset::getPartition))
          .toList();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted reading offsets of " + updates, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot read offsets of " + updates + ": " + e.getMessage(), e);
    }
  }

  /**
   * The end offsets of {@code request}'s partitions. A repo's topics created a moment ago may not
   * be in every broker's metadata yet (a seal right after the repo's creation), so an unknown topic
   * is asked again a few times before it counts as a failure.
   */
  private Map<TopicPartition, Long> offsets(
      Map<TopicPartition, OffsetSpec> request, IsolationLevel isolation)
      throws InterruptedException, ExecutionException, TimeoutException {
    for (int attempt = 1; ; attempt++) {
      try {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        admin
            .listOffsets(request, new ListOffsetsOptions(isolation))
            .all()
            .get(30, TimeUnit.SECONDS)
            .forEach((partition, info) -> offsets.put(partition, info.offset()));
        return offsets;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || attempt == UNKNOWN_TOPIC_ATTEMPTS) {
          throw e;
        }
        log.info("Topic metadata not there yet (attempt {}): {}", attempt, e.getMessage());
        TimeUnit.MILLISECONDS.sleep(UNKNOWN_TOPIC_BACKOFF_MS);
      }
    }
  }

  private static List<PartitionOffset> zeroes(List<PartitionOffset> end) {
    return end.stream().map(o -> new PartitionOffset(o.getPartition(), 0L)).toList();
  }

  /** 503 {@code not_leader}: the client retries, through any instance, with the same key. */
  static ApiException notLeader(String why) {
    return new ApiException(
        503,
        "not_leader",
        why + "; nothing was written, retry (any instance forwards to the leader)");
  }

  @Override
  public synchronized void close() {
    deactivate();
  }
}
