package io.tusk.cli.export;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * A pipeline's outputs as of a job: reads {@code <pipeline>.output} (read_committed, no consumer
 * group) from its start to its end now, and keeps per member the last record written by one of
 * {@code jobs} (the job and the jobs before it, by the provenance header {@code tusk.job} that
 * outputs and tombstones both carry). Records of later jobs are ignored, so the cut is the one the
 * job left; a member whose last such record is a tombstone is absent.
 *
 * <p>The topic is compacted: once a later job's output has compacted away an older one, an export
 * of the older job no longer sees that member (the lineage store's history is not read here).
 */
public final class OutputCut {
  private static final Duration POLL = Duration.ofMillis(200);

  private OutputCut() {}

  /** The members' outputs as of {@code jobs}, ordered by member. */
  public static List<Output> read(
      KafkaSettings settings, String pipeline, Set<String> jobs, Duration timeout) {
    Topic<String, Output> topic = new Topics(settings.registryClient()).output(pipeline);
    Map<String, byte[]> latest = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("tusk-export-" + pipeline, null))) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), timeout);
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("no output topic " + topic.name());
      }
      List<TopicPartition> partitions = new ArrayList<>();
      infos.forEach(info -> partitions.add(new TopicPartition(info.topic(), info.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      Instant deadline = Instant.now().plus(timeout);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (Instant.now().isAfter(deadline)) {
          throw new IllegalStateException(
              "reading " + topic.name() + " took longer than " + timeout);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          if (record.key() == null || record.headers().lastHeader(Headers.ROLL) != null) {
            continue; // roll markers only make Kafka compact
          }
          String job = Headers.text(record.headers(), Headers.JOB_ID);
          if (job == null || !jobs.contains(job)) {
            continue;
          }
          String member = new String(record.key(), StandardCharsets.UTF_8);
          if (record.value() == null) {
            latest.remove(member);
          } else {
            latest.put(member, record.value());
          }
        }
      }
    }
    Map<String, Output> sorted = new TreeMap<>();
    latest.forEach((member, value) -> sorted.put(member, topic.readValue(value)));
    return new ArrayList<>(sorted.values());
  }
}
