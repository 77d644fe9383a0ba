package io.tusk.common.topics;

import io.tusk.common.config.KafkaSettings;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
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
  private static final Map<String, String> COMPACT =
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
  private static final Map<String, String> KEEP_FOREVER =
      Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          TopicConfig.CLEANUP_POLICY_DELETE,
          TopicConfig.RETENTION_MS_CONFIG,
          "-1");
  private static final Map<String, String> DELETE =
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);

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
    int p = settings.systemPartitions();
    create(
        List.of(
            topic(TopicNames.REPOS, 1, COMPACT),
            topic(TopicNames.PIPELINES, 1, COMPACT),
            topic(TopicNames.COMMITS, p, COMPACT),
            topic(TopicNames.JOBS, p, COMPACT),
            // job-parts and datum-results are merged by job ID: same partition count by design.
            topic(TopicNames.JOB_PARTS, p, DELETE),
            topic(TopicNames.SEAL_REQUESTS, p, DELETE),
            topic(TopicNames.DATUM_RESULTS, p, DELETE),
            topic(TopicNames.COMMIT_PARTS, p, DELETE),
            topic(TopicNames.BRANCHES, 1, COMPACT),
            topic(TopicNames.ROLE_BINDINGS, 1, COMPACT),
            topic(TopicNames.ERASURES, 1, COMPACT),
            topic(TopicNames.AUDIT, p, KEEP_FOREVER)));
  }

  /**
   * Creates a repo's topics. A derived repo's rows arrive on its source pipeline's output topic
   * ({@link RepoSpec#getUpdatesTopic()}), so it gets no {@code <repo>.updates} of its own.
   */
  public void createRepoTopics(RepoSpec repo) {
    String name = repo.getName();
    List<NewTopic> topics = new ArrayList<>();
    if (repo.getUpdatesTopic() == null) {
      topics.add(topic(TopicNames.updates(name), repo.getUpdatePartitions(), KEEP_FOREVER));
    }
    topics.add(topic(TopicNames.byMember(name), repo.getMemberPartitions(), DELETE));
    // Row-key claims: one partition per member partition, so claims-done markers of every member
    // partition reach every row-owner task.
    topics.add(topic(TopicNames.rowOwners(name), repo.getMemberPartitions(), DELETE));
    topics.add(topic(TopicNames.members(name), repo.getMemberPartitions(), COMPACT));
    topics.add(topic(TopicNames.rejected(name), repo.getUpdatePartitions(), KEEP_FOREVER));
    create(topics);
  }

  /** Creates a pipeline's topics; its datum topic has {@code parallelism} partitions. */
  public void createPipelineTopics(PipelineSpec pipeline) {
    String name = pipeline.getName();
    create(
        List.of(
            topic(TopicNames.datums(name), pipeline.getParallelism(), DELETE),
            topic(TopicNames.output(name), pipeline.getParallelism(), COMPACT),
            topic(TopicNames.failed(name), pipeline.getParallelism(), DELETE)));
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
