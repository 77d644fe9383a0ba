package io.tusk.cli.bench;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Bytes in the brokers' logs, per topic (every partition and replica), read with {@code
 * describeLogDirs}: what a commit wrote to Kafka is the difference of two readings around it, with
 * nothing else running. The brokers' own bookkeeping ({@code __consumer_offsets}, {@code
 * __transaction_state}) is left out: consumers commit their offsets on a timer whether or not
 * anything happens. Each topic is sorted by what becomes of its bytes: they {@link Fate#EXPIRES
 * expire} (a delete topic with a finite retention, or a Streams repartition topic, whose records
 * Streams deletes once consumed), are {@link Fate#KEPT kept} forever (a delete topic without
 * retention: a repo's raw history), or are {@link Fate#COMPACTED compacted} (kept until a later
 * record of the same key replaces them).
 *
 * @param byTopic bytes per topic
 */
record TopicBytes(Map<String, Long> byTopic) {

  /** What becomes of a topic's bytes. */
  enum Fate {
    EXPIRES,
    KEPT,
    COMPACTED
  }

  /** Reads every broker's log directories. */
  static TopicBytes read(Admin admin) throws Exception {
    List<Integer> brokers =
        admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream().map(Node::id).toList();
    Map<String, Long> bytes = new TreeMap<>();
    for (Map<String, LogDirDescription> dirs :
        admin.describeLogDirs(brokers).allDescriptions().get(30, TimeUnit.SECONDS).values()) {
      for (LogDirDescription dir : dirs.values()) {
        dir.replicaInfos()
            .forEach(
                (partition, info) -> {
                  if (!partition.topic().startsWith("__")) {
                    bytes.merge(partition.topic(), info.size(), Long::sum);
                  }
                });
      }
    }
    return new TopicBytes(bytes);
  }

  /**
   * Reads until two readings {@code quiet} apart are equal (the services have written what a job
   * left them to write: changelogs, indexes), or {@code deadline} passes.
   *
   * @throws IllegalStateException if the logs still grow at the deadline
   */
  static TopicBytes readSettled(Admin admin, Duration quiet, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    TopicBytes last = read(admin);
    Map<String, Long> changed = Map.of();
    while (System.nanoTime() < end) {
      TimeUnit.MILLISECONDS.sleep(quiet.toMillis()); // the quiet period is what is measured
      TopicBytes next = read(admin);
      changed = next.changesSince(last);
      if (changed.isEmpty()) {
        return next;
      }
      last = next;
    }
    throw new IllegalStateException(
        "the brokers' logs still changed after " + deadline + ", last by: " + changed);
  }

  /** Per topic, the bytes it grew (or shrank: negative) by since {@code before}. */
  Map<String, Long> changesSince(TopicBytes before) {
    Map<String, Long> changed = new TreeMap<>();
    byTopic.forEach(
        (topic, bytes) -> {
          long change = bytes - before.byTopic.getOrDefault(topic, 0L);
          if (change != 0) {
            changed.put(topic, change);
          }
        });
    before.byTopic.keySet().stream()
        .filter(topic -> !byTopic.containsKey(topic))
        .forEach(topic -> changed.put(topic, -before.byTopic.get(topic)));
    return changed;
  }

  /** Per topic, the bytes added since {@code before} (topics that did not grow are left out). */
  TopicBytes since(TopicBytes before) {
    Map<String, Long> added = new TreeMap<>(changesSince(before));
    added.values().removeIf(change -> change <= 0);
    return new TopicBytes(added);
  }

  /** The sum over every topic. */
  long total() {
    return byTopic.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The sum per fate, the topics' configs read from the cluster. */
  Map<Fate, Long> byFate(Admin admin) throws Exception {
    Map<String, Fate> fates = fates(admin, byTopic.keySet());
    Map<Fate, Long> sums = new TreeMap<>();
    for (Fate fate : Fate.values()) {
      sums.put(fate, 0L);
    }
    byTopic.forEach((topic, bytes) -> sums.merge(fates.get(topic), bytes, Long::sum));
    return sums;
  }

  /** The topics whose bytes have {@code fate}, the topics' configs read from the cluster. */
  Set<String> topics(Admin admin, Fate fate) throws Exception {
    Map<String, Fate> fates = fates(admin, byTopic.keySet());
    Set<String> topics = new TreeSet<>();
    byTopic.keySet().stream().filter(topic -> fates.get(topic) == fate).forEach(topics::add);
    return topics;
  }

  private static Map<String, Fate> fates(Admin admin, Collection<String> topics) throws Exception {
    List<ConfigResource> resources =
        topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
    Map<ConfigResource, Config> configs =
        admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
    Map<String, Fate> fates = new HashMap<>();
    configs.forEach(
        (resource, config) ->
            fates.put(
                resource.name(),
                fate(
                    resource.name(),
                    config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value(),
                    Long.parseLong(config.get(TopicConfig.RETENTION_MS_CONFIG).value()))));
    return fates;
  }

  /** A topic's fate from its name and its {@code cleanup.policy} and {@code retention.ms}. */
  static Fate fate(String topic, String cleanupPolicy, long retentionMs) {
    if (topic.endsWith("-repartition")) {
      return Fate.EXPIRES;
    }
    if (cleanupPolicy.contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      return Fate.COMPACTED;
    }
    return retentionMs < 0 ? Fate.KEPT : Fate.EXPIRES;
  }
}
