package io.tusk.commit;

import io.tusk.common.config.Durations;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Where a record of an erased member can still be, and by when it cannot (README "Erasure and
 * retention"): the repo's topics, the topics of every pipeline downstream of it (through derived
 * repos) and of those derived repos, the shared delete topics ({@code tusk.datum-results} and the
 * commit and job parts), and the changelogs and repartition topics of the partition and lineage
 * services. The compacted {@code tusk.*} topics are not among them: none holds a member key. The
 * bound of each comes from its actual topic configs: a delete topic drops a record within {@code
 * retention.ms + segment.ms} of its write; a compacted one within {@code max.compaction.lag.ms +
 * delete.retention.ms} of the last record the erasure wrote there (the erasure sweep appends the
 * record that rolls its segment). Blocks: worker threads only.
 */
final class ErasurePlaces {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final List<String> STREAMS_PREFIXES = List.of("tusk-partition-", "tusk-lineage-");

  private final Admin admin;
  private final io.tusk.common.config.KafkaSettings kafka;
  private final CompactedTopicView<RepoSpec> repos;
  private final CompactedTopicView<PipelineSpec> pipelines;

  ErasurePlaces(
      Admin admin,
      io.tusk.common.config.KafkaSettings kafka,
      CompactedTopicView<RepoSpec> repos,
      CompactedTopicView<PipelineSpec> pipelines) {
    this.admin = admin;
    this.kafka = kafka;
    this.repos = repos;
    this.pipelines = pipelines;
  }

  /** A topic that may hold the member, with the configs that bound it. */
  record Place(
      String topic,
      boolean compacted,
      long retentionMs,
      long segmentMs,
      long maxLagMs,
      long tombstoneMs) {

    /** How long after the erasure's last write no copy can remain; -1: never. */
    long boundMs() {
      if (compacted) {
        return maxLagMs + tombstoneMs;
      }
      return retentionMs < 0 ? -1 : retentionMs + segmentMs;
    }
  }

  /** The topics of the repo and everything downstream of it, the shared ones, the Streams ones. */
  Set<String> topicsOf(String repoName) {
    Set<String> topics = new TreeSet<>();
    Deque<RepoSpec> todo = new ArrayDeque<>();
    repos.get(repoName).ifPresent(todo::add);
    Set<String> seen = new TreeSet<>();
    while (!todo.isEmpty()) {
      RepoSpec repo = todo.poll();
      if (!seen.add(repo.getName())) {
        continue;
      }
      String name = repo.getName();
      topics.add(TopicNames.updatesOf(repo));
      topics.add(TopicNames.rejected(name));
      topics.add(TopicNames.byMember(name));
      topics.add(TopicNames.rowOwners(name));
      topics.add(TopicNames.members(name));
      for (PipelineSpec pipeline : pipelines.snapshot().values()) {
        if (!pipeline.getInputRepo().equals(name)) {
          continue;
        }
        topics.add(TopicNames.datums(pipeline.getName()));
        topics.add(TopicNames.output(pipeline.getName()));
        topics.add(TopicNames.failed(pipeline.getName()));
        for (RepoSpec derived : repos.snapshot().values()) {
          if (pipeline.getName().equals(derived.getSourcePipeline())) {
            todo.add(derived);
          }
        }
      }
    }
    // The shared delete topics: datum results name members and hold captured logs; the others
    // name none, but a job part's error is free text, so they are scanned too.
    topics.add(TopicNames.DATUM_RESULTS);
    topics.add(TopicNames.JOB_PARTS);
    topics.add(TopicNames.COMMIT_PARTS);
    topics.add(TopicNames.SEAL_REQUESTS);
    for (String topic : existing()) {
      if (STREAMS_PREFIXES.stream().anyMatch(topic::startsWith)) {
        topics.add(topic);
      }
    }
    topics.retainAll(existing());
    return topics;
  }

  /** The places of the repo's erasures, with their configs as the broker has them now. */
  List<Place> places(String repoName) {
    Set<String> topics = topicsOf(repoName);
    List<ConfigResource> resources = new ArrayList<>();
    topics.forEach(t -> resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t)));
    Map<ConfigResource, Config> configs = get(admin.describeConfigs(resources).all());
    List<Place> places = new ArrayList<>();
    for (String topic : topics) {
      Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic));
      places.add(
          new Place(
              topic,
              value(config, TopicConfig.CLEANUP_POLICY_CONFIG).contains("compact"),
              Long.parseLong(value(config, TopicConfig.RETENTION_MS_CONFIG)),
              Long.parseLong(value(config, TopicConfig.SEGMENT_MS_CONFIG)),
              Long.parseLong(value(config, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG)),
              Long.parseLong(value(config, TopicConfig.DELETE_RETENTION_MS_CONFIG))));
    }
    return places;
  }

  /**
   * The report of an erasure purged at {@code purgedAt} (0: not yet): per place its bound, the time
   * by which nothing of the member can remain there, and whether that is already so; and the time
   * for all of them (null if some place keeps raw copies forever).
   */
  JsonObject report(String repoName, long purgedAt, long now) {
    JsonArray items = new JsonArray();
    long clearBy = 0;
    boolean never = false;
    List<Place> places = places(repoName);
    Map<String, Boolean> deleteClear =
        purgedAt == 0 ? Map.of() : deleteTopicsClear(places, purgedAt);
    for (Place place : places) {
      long bound = place.boundMs();
      Long by = bound < 0 || purgedAt == 0 ? null : purgedAt + bound;
      boolean clear =
          purgedAt > 0
              && (place.compacted() ? now >= by : deleteClear.getOrDefault(place.topic(), false));
      never |= bound < 0;
      if (by != null) {
        clearBy = Math.max(clearBy, by);
      }
      items.add(
          new JsonObject()
              .put("topic", place.topic())
              .put("cleanup", place.compacted() ? "compact" : "delete")
              .put("bound", bound < 0 ? "never" : Durations.format(bound))
              .put("clearBy", by)
              .put("clearByTime", by == null ? null : Instant.ofEpochMilli(by).toString())
              .put("clear", clear));
    }
    boolean pending = purgedAt == 0 || never;
    return new JsonObject()
        .put("places", items)
        .put("clearBy", pending ? null : clearBy)
        .put("clearByTime", pending ? null : Instant.ofEpochMilli(clearBy).toString())
        .put("keptForever", never);
  }

  /**
   * For each delete topic: whether every record written up to {@code since} is gone (each partition
   * empty, or its first retained record written after {@code since}).
   */
  private Map<String, Boolean> deleteTopicsClear(List<Place> places, long since) {
    Map<String, Boolean> clear = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(kafka.consumer("tusk-erasure-status-" + UUID.randomUUID(), null))) {
      for (Place place : places) {
        if (place.compacted()) {
          continue;
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(place.topic(), TIMEOUT)) {
          partitions.add(new TopicPartition(place.topic(), info.partition()));
        }
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(p -> query.put(p, since + 1));
        Map<TopicPartition, OffsetAndTimestamp> newer = consumer.offsetsForTimes(query, TIMEOUT);
        Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions, TIMEOUT);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
        boolean all = true;
        for (TopicPartition p : partitions) {
          OffsetAndTimestamp first = newer.get(p);
          long firstNewer = first == null ? end.get(p) : first.offset();
          all &= firstNewer <= start.get(p);
        }
        clear.put(place.topic(), all);
      }
    }
    return clear;
  }

  private Set<String> existing() {
    return get(admin.listTopics().names());
  }

  private static String value(Config config, String name) {
    ConfigEntry entry = config == null ? null : config.get(name);
    if (entry == null || entry.value() == null) {
      throw new KafkaException("topic config " + name + " is not described");
    }
    return entry.value();
  }

  private static <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
    try {
      return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted reading topic settings", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot read topic settings: " + e.getMessage(), e);
    }
  }
}
