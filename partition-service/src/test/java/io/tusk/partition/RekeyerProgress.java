package io.tusk.partition;

import io.tusk.common.topics.TopicAdmin;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Test support: waiting until the rekeyers have forwarded everything on a source topic. */
final class RekeyerProgress {
  private RekeyerProgress() {}

  /**
   * Waits until the rekeyers' committed offsets reached the end (as of this call) of every
   * partition of {@code topic}.
   *
   * @throws AssertionError if they have not within {@code deadline}
   */
  static void awaitRekeyed(TopicAdmin admin, String topic, Duration deadline) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < admin.partitions(topic); p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    var end = admin.admin().listOffsets(request).all().get();
    long until = System.nanoTime() + deadline.toNanos();
    while (System.nanoTime() < until) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .admin()
              .listConsumerGroupOffsets(Rekeyer.GROUP)
              .partitionsToOffsetAndMetadata()
              .get();
      if (request.keySet().stream()
          .allMatch(
              tp ->
                  committed.get(tp) != null
                      && committed.get(tp).offset() >= end.get(tp).offset())) {
        return;
      }
    }
    throw new AssertionError(topic + " was not re-keyed within " + deadline);
  }
}
