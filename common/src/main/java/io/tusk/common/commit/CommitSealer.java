package io.tusk.common.commit;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobRef;
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
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals commits (step 1 of the commit protocol in docs/internals.md): reads the last stable offset
 * of every partition of {@code <repo>.updates}, so rows of open or aborted transactions never enter
 * a commit, and writes the commit record and a seal to every partition of {@code <repo>.by-member}
 * in one transaction. Seals are serialized: one sealer per deployment.
 */
public final class CommitSealer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CommitSealer.class);

  private final KafkaSettings settings;
  private final Topics topics;
  private final Admin admin;
  private KafkaProducer<byte[], byte[]> producer;

  public CommitSealer(KafkaSettings settings, Topics topics, Admin admin) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.admin = Objects.requireNonNull(admin, "admin");
    this.producer = newProducer();
  }

  private KafkaProducer<byte[], byte[]> newProducer() {
    String id = "tusk-sealer-" + settings.instanceId();
    KafkaProducer<byte[], byte[]> created = new KafkaProducer<>(settings.producer(id, id));
    created.initTransactions();
    return created;
  }

  /**
   * Seals the next commit of {@code repo} on branch {@code master}, with a new global ID.
   *
   * @param parent the repo's latest commit, or null for its first
   * @param pipelines the pipelines to start a job for (those following the branch)
   */
  public Commit seal(RepoSpec repo, Commit parent, List<PipelineSpec> pipelines) {
    return seal(repo, parent, pipelines, "master", null, null);
  }

  /**
   * Seals the next commit of {@code repo}.
   *
   * @param parent the repo's latest commit (the log is linear whatever the branch), or null
   * @param pipelines the pipelines to start an incremental job for (those following {@code branch})
   * @param branch the branch whose head moves to the new commit
   * @param sourceJob for an output commit of a derived repo, the upstream job that ended; else null
   * @param globalId the global ID to carry (an output commit carries its upstream commit's); null
   *     for a new one (the commit's own ID)
   */
  public synchronized Commit seal(
      RepoSpec repo,
      Commit parent,
      List<PipelineSpec> pipelines,
      String branch,
      String sourceJob,
      String globalId) {
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
                        .build()));
    Commit commit =
        Commit.newBuilder()
            .setId(id)
            .setRepo(repo.getName())
            .setSequence(parent == null ? 1 : parent.getSequence() + 1)
            .setParent(parent == null ? null : parent.getId())
            .setGlobalId(globalId == null ? id : globalId)
            .setCreatedAt(System.currentTimeMillis())
            .setStartOffsets(start)
            .setEndOffsets(end)
            .setJobs(jobs)
            .setStats(null)
            .setBranch(branch)
            .setSourceJob(sourceJob)
            .build();
    String byMember = TopicNames.byMember(repo.getName());
    byte[] seal =
        topics
            .byMember(repo.getName())
            .value(new MemberEvent(new Seal(commit, repo.getMemberPartitions())));
    try {
      producer.beginTransaction();
      producer.send(
          new ProducerRecord<>(
              topics.commits.name(), topics.commits.key(id), topics.commits.value(commit)));
      for (int partition = 0; partition < repo.getMemberPartitions(); partition++) {
        producer.send(new ProducerRecord<>(byMember, partition, null, seal));
      }
      producer.commitTransaction();
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
      // Fatal for this producer: replace it so the next seal works (initTransactions fences the old
      // one).
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
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
          admin
              .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
              .all()
              .get(30, TimeUnit.SECONDS);
      return result.entrySet().stream()
          .map(e -> new PartitionOffset(e.getKey().partition(), e.getValue().offset()))
          .sorted(Comparator.comparingInt(PartitionOffset::getPartition))
          .toList();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted reading offsets of " + updates, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot read offsets of " + updates + ": " + e.getMessage(), e);
    }
  }

  private static List<PartitionOffset> zeroes(List<PartitionOffset> end) {
    return end.stream().map(o -> new PartitionOffset(o.getPartition(), 0L)).toList();
  }

  @Override
  public synchronized void close() {
    producer.close();
  }
}
