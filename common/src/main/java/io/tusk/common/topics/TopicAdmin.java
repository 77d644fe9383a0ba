package io.tusk.common.topics;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.TopicBounds;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates Tusk's topics with their partition counts and cleanup policies (see {@link TopicNames}).
 * Creation is idempotent: a topic that exists is left as it is.
 */
public final class TopicAdmin implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);
  private static final Map<String, String> KEEP_FOREVER =
      Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          TopicConfig.CLEANUP_POLICY_DELETE,
          TopicConfig.RETENTION_MS_CONFIG,
          "-1");
  private static final Map<String, String> DELETE =
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);

  /** Kafka's default segment.ms (7 days). */
  private static final long DEFAULT_SEGMENT_MS = 7 * 86_400_000L;

  private final Admin admin;
  private final KafkaSettings settings;

  public TopicAdmin(KafkaSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.admin = Admin.create(settings.admin("tusk-topic-admin-" + settings.instanceId()));
  }

  /** The underlying admin client (owned by this object). */
  public Admin admin() {
    return admin;
  }

  /** Creates the {@code tusk.*} topics. Every service calls this at start. */
  public void ensureSystemTopics() {
    create(systemTopics());
  }

  /**
   * The {@code tusk.*} topics with their settings: compacted ones within {@link TopicBounds}, the
   * shared delete topics (they name members and hold datum logs) for {@code TUSK_SYSTEM_RETENTION},
   * the audit trail forever (it names no member and holds no row).
   */
  private List<NewTopic> systemTopics() {
    int p = settings.systemPartitions();
    Map<String, String> compact = compacted();
    Map<String, String> system = retained(settings.bounds().systemRetentionMs());
    return List.of(
        topic(TopicNames.REPOS, 1, compact),
        topic(TopicNames.PIPELINES, 1, compact),
        topic(TopicNames.COMMITS, p, compact),
        topic(TopicNames.JOBS, p, compact),
        // job-parts and datum-results are merged by job ID: same partition count by design.
        topic(TopicNames.JOB_PARTS, p, system),
        topic(TopicNames.SEAL_REQUESTS, p, system),
        topic(TopicNames.DATUM_RESULTS, p, system),
        topic(TopicNames.COMMIT_PARTS, p, system),
        topic(TopicNames.BRANCHES, 1, compact),
        topic(TopicNames.ROLE_BINDINGS, 1, compact),
        topic(TopicNames.ERASURES, 1, compact),
        topic(TopicNames.COMMIT_LEADER, 1, compact),
        topic(TopicNames.AUDIT, p, KEEP_FOREVER));
  }

  /**
   * Creates a repo's topics. A derived repo's rows arrive on its source pipeline's output topic
   * ({@link RepoSpec#getUpdatesTopic()}), so it gets no {@code <repo>.updates} of its own.
   */
  public void createRepoTopics(RepoSpec repo) {
    create(repoTopics(repo));
  }

  /**
   * A repo's topics with their settings: the raw copies of its rows ({@code .updates}, {@code
   * .rejected}, {@code .by-member}, {@code .row-owners}) kept for its {@code rawRetention} (the
   * first two forever without one: they are the history), {@code .members} compacted within {@link
   * TopicBounds}.
   */
  private List<NewTopic> repoTopics(RepoSpec repo) {
    String name = repo.getName();
    Long raw = repo.getRawRetentionMs();
    Map<String, String> history = raw == null ? KEEP_FOREVER : retained(raw);
    Map<String, String> transientCopies = raw == null ? DELETE : retained(raw);
    List<NewTopic> topics = new ArrayList<>();
    if (repo.getUpdatesTopic() == null) {
      topics.add(topic(TopicNames.updates(name), repo.getUpdatePartitions(), history));
    }
    topics.add(topic(TopicNames.byMember(name), repo.getMemberPartitions(), transientCopies));
    // Row-key claims: one partition per member partition, so claims-done markers of every member
    // partition reach every row-owner task.
    topics.add(topic(TopicNames.rowOwners(name), repo.getMemberPartitions(), transientCopies));
    topics.add(topic(TopicNames.members(name), repo.getMemberPartitions(), compacted()));
    topics.add(topic(TopicNames.rejected(name), repo.getUpdatePartitions(), history));
    return topics;
  }

  /**
   * Deletes a repo's topics and waits (up to a minute) until the broker no longer lists them: a
   * repo created again under the name must get new, empty topics, and creating a topic that is
   * still being deleted would be taken for "already exists".
   */
  public void deleteRepoTopics(RepoSpec repo) {
    Set<String> names = new HashSet<>();
    for (NewTopic topic : repoTopics(repo)) {
      names.add(topic.name());
    }
    try {
      Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
      names.retainAll(existing);
      if (names.isEmpty()) {
        return;
      }
      admin.deleteTopics(names).all().get(60, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Collections.disjoint(admin.listTopics().names().get(60, TimeUnit.SECONDS), names)) {
        if (System.nanoTime() > deadline) {
          throw new KafkaException("topics " + names + " still exist a minute after deletion");
        }
        Thread.sleep(100); // polling the broker's metadata: there is no deletion callback
      }
    } catch (ExecutionException e) {
      throw new KafkaException("cannot delete topics " + names + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted deleting topics " + names, e);
    } catch (TimeoutException e) {
      throw new KafkaException("timed out deleting topics " + names, e);
    }
    log.info("Deleted topics {}", names);
  }

  /**
   * Waits until consumer group {@code group} has committed offsets at the end of every partition of
   * {@code topic} as they are now (past the last record written before this call).
   *
   * @return false at once if the group never committed an offset on the topic (it holds no state
   *     from it), true once it is past the end
   * @throws KafkaException if the group is not past the end within {@code timeout}
   */
  public boolean awaitConsumed(String group, String topic, java.time.Duration timeout) {
    try {
      int partitions = partitions(topic);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, Long> ends = new HashMap<>();
      admin
          .listOffsets(latest)
          .all()
          .get(60, TimeUnit.SECONDS)
          .forEach((tp, info) -> ends.put(tp, info.offset()));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin
                .listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(60, TimeUnit.SECONDS);
        boolean seen = false;
        boolean past = true;
        for (var end : ends.entrySet()) {
          OffsetAndMetadata at = committed.get(end.getKey());
          seen |= at != null;
          past &= at != null && at.offset() >= end.getValue();
        }
        if (!seen) {
          return false;
        }
        if (past) {
          return true;
        }
        if (System.nanoTime() > deadline) {
          throw new KafkaException(
              "group " + group + " did not consume " + topic + " to its end within " + timeout);
        }
        Thread.sleep(200); // polling committed offsets: the broker has no notification for them
      }
    } catch (ExecutionException e) {
      throw new KafkaException(
          "cannot read offsets of " + topic + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted waiting for " + group + " on " + topic, e);
    } catch (TimeoutException e) {
      throw new KafkaException("timed out reading offsets of " + topic, e);
    }
  }

  /** Creates a pipeline's topics (its input repo's raw retention unknown: the broker's default). */
  public void createPipelineTopics(PipelineSpec pipeline) {
    createPipelineTopics(pipeline, null);
  }

  /**
   * Creates a pipeline's topics; its datum topic has {@code parallelism} partitions.
   *
   * @param rawRetentionMs the input repo's {@code rawRetention} (datums and failed datums are raw
   *     copies of its members), or null
   */
  public void createPipelineTopics(PipelineSpec pipeline, Long rawRetentionMs) {
    create(pipelineTopics(pipeline, rawRetentionMs));
  }

  private List<NewTopic> pipelineTopics(PipelineSpec pipeline, Long rawRetentionMs) {
    String name = pipeline.getName();
    Map<String, String> raw = rawRetentionMs == null ? DELETE : retained(rawRetentionMs);
    return List.of(
        topic(TopicNames.datums(name), pipeline.getParallelism(), raw),
        topic(TopicNames.output(name), pipeline.getParallelism(), compacted()),
        topic(TopicNames.failed(name), pipeline.getParallelism(), raw));
  }

  /**
   * Sets the configs this class gives its topics on topics that exist already (created before a
   * setting changed, or by an older version): the system topics, and the topics of {@code repos}
   * and {@code pipelines} ({@code inputRetention}: a pipeline's input repo's raw retention, or
   * null). Needs ALTER_CONFIGS on the topics; only the commit service does it.
   */
  public void alignConfigs(
      List<RepoSpec> repos,
      List<PipelineSpec> pipelines,
      Function<PipelineSpec, Long> inputRetention) {
    List<NewTopic> topics = new ArrayList<>(systemTopics());
    repos.forEach(r -> topics.addAll(repoTopics(r)));
    pipelines.forEach(p -> topics.addAll(pipelineTopics(p, inputRetention.apply(p))));
    alter(topics);
  }

  /** Sets a repo's (and its pipelines') topics to their configs after its spec changed. */
  public void alignRepo(RepoSpec repo, List<PipelineSpec> pipelines) {
    List<NewTopic> topics = new ArrayList<>(repoTopics(repo));
    pipelines.forEach(p -> topics.addAll(pipelineTopics(p, repo.getRawRetentionMs())));
    alter(topics);
  }

  private void alter(List<NewTopic> topics) {
    Set<String> existing;
    try {
      existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted listing topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot list topics: " + e.getMessage(), e);
    }
    Map<ConfigResource, Collection<AlterConfigOp>> changes = new HashMap<>();
    for (NewTopic topic : topics) {
      if (!existing.contains(topic.name())) {
        continue;
      }
      List<AlterConfigOp> ops = new ArrayList<>();
      topic
          .configs()
          .forEach(
              (name, value) ->
                  ops.add(
                      new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET)));
      changes.put(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()), ops);
    }
    try {
      admin.incrementalAlterConfigs(changes).all().get(60, TimeUnit.SECONDS);
      log.info("Topic settings aligned on {} topics", changes.size());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted altering topic configs", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot set topic configs: " + e.getMessage(), e);
    }
  }

  /** A compacted topic within the bounds: replaced records and tombstones go in bounded time. */
  private Map<String, String> compacted() {
    TopicBounds bounds = settings.bounds();
    return Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG,
        TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG,
        Long.toString(bounds.compactionMaxLagMs()),
        TopicConfig.DELETE_RETENTION_MS_CONFIG,
        Long.toString(bounds.tombstoneRetentionMs()),
        TopicConfig.SEGMENT_MS_CONFIG,
        Long.toString(bounds.segmentMs()));
  }

  /**
   * A delete topic keeping records {@code retentionMs}; its segments roll at most as often, so a
   * record is deleted at the latest about twice the retention after it was written.
   */
  private static Map<String, String> retained(long retentionMs) {
    return Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG,
        TopicConfig.CLEANUP_POLICY_DELETE,
        TopicConfig.RETENTION_MS_CONFIG,
        Long.toString(retentionMs),
        TopicConfig.SEGMENT_MS_CONFIG,
        Long.toString(Math.min(DEFAULT_SEGMENT_MS, retentionMs)));
  }

  /** Number of partitions of {@code topic}. */
  public int partitions(String topic) {
    try {
      return admin
          .describeTopics(Set.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .size();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted describing " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot describe topic " + topic + ": " + e.getMessage(), e);
    }
  }

  private NewTopic topic(String name, int partitions, Map<String, String> configs) {
    return new NewTopic(name, partitions, settings.replicationFactor()).configs(configs);
  }

  private void create(List<NewTopic> topics) {
    List<String> created = new ArrayList<>();
    var results = admin.createTopics(topics).values();
    for (var entry : results.entrySet()) {
      try {
        entry.getValue().get(60, TimeUnit.SECONDS);
        created.add(entry.getKey());
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicAuthorizationException) {
          // The admin client's error does not name the topic; the ACL message needs it.
          throw new TopicAuthorizationException(
              "Not authorized to CREATE topic " + entry.getKey(), Set.of(entry.getKey()));
        }
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new KafkaException(
              "cannot create topic " + entry.getKey() + ": " + e.getCause().getMessage(),
              e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException("interrupted creating " + entry.getKey(), e);
      } catch (TimeoutException e) {
        throw new KafkaException("timed out creating topic " + entry.getKey(), e);
      }
    }
    if (!created.isEmpty()) {
      log.info("Created topics {}", created);
    }
  }

  @Override
  public void close() {
    admin.close();
  }
}
