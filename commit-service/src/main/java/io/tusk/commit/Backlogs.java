package io.tusk.commit;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * What is waiting, for {@code tusk status}: the rows of a repo's {@code <repo>.updates} that no
 * commit of a branch covers yet, and the datums of a pipeline's {@code <pipeline>.datums} its
 * processors have not consumed yet (the lag of their consumer group). Both are read from the broker
 * when asked (admin calls: block, call them on a worker thread).
 */
final class Backlogs {
  private static final long TIMEOUT_SECONDS = 10;

  private final Admin admin;

  Backlogs(Admin admin) {
    this.admin = Objects.requireNonNull(admin, "admin");
  }

  /**
   * {@code GET /repos/{repo}/waiting?branch=}: per partition of the updates topic, the last stable
   * offset minus the offset the branch head covers (0 before the first commit). Counted in offsets
   * as a commit's {@code rowCount} is, so transaction markers count too.
   */
  JsonObject waitingRows(RepoSpec repo, String branch, Commit head) {
    String topic = TopicNames.updatesOf(repo);
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < repo.getUpdatePartitions(); p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    Map<Integer, Long> committed = new HashMap<>();
    if (head != null) {
      for (PartitionOffset o : head.getEndOffsets()) {
        committed.put(o.getPartition(), o.getOffset());
      }
    }
    Map<TopicPartition, Long> stable = offsets(topic, request);
    JsonArray partitions = new JsonArray();
    long total = 0;
    for (int p = 0; p < repo.getUpdatePartitions(); p++) {
      long end = stable.getOrDefault(new TopicPartition(topic, p), 0L);
      long covered = committed.getOrDefault(p, 0L);
      long waiting = Math.max(0, end - covered);
      total += waiting;
      partitions.add(
          new JsonObject()
              .put("partition", p)
              .put("committed", covered)
              .put("end", end)
              .put("waiting", waiting));
    }
    return new JsonObject()
        .put("repo", repo.getName())
        .put("branch", branch)
        .put("head", head == null ? null : head.getId())
        .put("topic", topic)
        .put("waitingRows", total)
        .put("partitions", partitions);
  }

  /**
   * {@code GET /pipelines/{p}/lag}: per partition of {@code <pipeline>.datums}, its end offset
   * minus the offset the processors' group {@code tusk-processor-<pipeline>} committed (the whole
   * partition when the group has committed nothing there).
   */
  JsonObject datumLag(String pipeline) {
    String topic = TopicNames.datums(pipeline);
    String group = TopicNames.processorGroup(pipeline);
    try {
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .forEach(p -> request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      Map<TopicPartition, Long> ends = offsets(topic, request);
      Map<TopicPartition, OffsetAndMetadata> consumed =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      JsonArray partitions = new JsonArray();
      long total = 0;
      for (int p = 0; p < request.size(); p++) {
        TopicPartition partition = new TopicPartition(topic, p);
        long end = ends.getOrDefault(partition, 0L);
        OffsetAndMetadata at = consumed.get(partition);
        long position = at == null ? 0 : at.offset();
        long lag = Math.max(0, end - position);
        total += lag;
        partitions.add(
            new JsonObject()
                .put("partition", p)
                .put("consumed", position)
                .put("end", end)
                .put("lag", lag));
      }
      return new JsonObject()
          .put("pipeline", pipeline)
          .put("topic", topic)
          .put("group", group)
          .put("lag", total)
          .put("partitions", partitions);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted reading the lag of " + group, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        // Processors create the topic when they start: nothing can be waiting before.
        return new JsonObject()
            .put("pipeline", pipeline)
            .put("topic", topic)
            .put("group", group)
            .put("lag", 0L)
            .put("partitions", new JsonArray());
      }
      throw new KafkaException("cannot read the lag of " + group + ": " + e.getMessage(), e);
    } catch (TimeoutException e) {
      throw new KafkaException("cannot read the lag of " + group + ": " + e.getMessage(), e);
    }
  }

  /** Last stable offsets (read committed: what a seal now would take). */
  private Map<TopicPartition, Long> offsets(String topic, Map<TopicPartition, OffsetSpec> request) {
    try {
      Map<TopicPartition, Long> offsets = new HashMap<>();
      admin
          .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
          .all()
          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .forEach((partition, info) -> offsets.put(partition, info.offset()));
      return offsets;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted reading offsets of " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot read offsets of " + topic + ": " + e.getMessage(), e);
    }
  }
}
