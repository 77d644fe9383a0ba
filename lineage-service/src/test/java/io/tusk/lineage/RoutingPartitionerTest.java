package io.tusk.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class RoutingPartitionerTest {
  private final RoutingPartitioner<String> partitioner = new RoutingPartitioner<>();

  @Test
  void shouldPartitionLikeTheProducerWhenKeyIsARoutingKey() {
    // Given keys as Tusk's writers use them (job IDs on tusk.datum-results, tusk.jobs)
    for (int i = 0; i < 1000; i++) {
      String jobId = Ids.newId();

      // When partitioned / Then the partition is the producer's, so stores fed straight from
      // source topics and stores fed by this partitioner are found the same way
      int producer = BuiltInPartitioner.partitionForKey(jobId.getBytes(StandardCharsets.UTF_8), 6);
      assertThat(partitioner.partitions("any", jobId, null, 6))
          .isEqualTo(Optional.of(Set.of(producer)));
    }
  }

  @Test
  void shouldPartitionCompositeKeysByTheirRoutingKeyWhenPartsFollow() {
    // Given entries of one pipeline's job list and one row's readers
    String jobs = IndexKeys.pipelineJobs("risk");
    String row = OutputEvent.position("claims.updates", 2, 99L);

    // When partitioned / Then every entry lands where its routing key does
    for (int i = 0; i < 100; i++) {
      assertThat(
              RoutingPartitioner.partition(
                  StoreKeys.join(jobs, StoreKeys.newestFirst(i), Ids.newId()), 6))
          .isEqualTo(RoutingPartitioner.partition(jobs, 6));
      assertThat(RoutingPartitioner.partition(IndexKeys.readersPrefix(row) + Ids.newId(), 6))
          .isEqualTo(RoutingPartitioner.partition(row, 6));
    }
  }

  @Test
  void shouldSortNewestFirstAndBoundPrefixRangesWhenKeysAreBuilt() {
    // Given two creation times and a prefix
    String older = StoreKeys.newestFirst(1_000L);
    String newer = StoreKeys.newestFirst(2_000L);
    String prefix = StoreKeys.prefix("p:risk");

    // Then newer sorts first, and the range end is above every key with the prefix only
    assertThat(newer.compareTo(older)).isNegative();
    assertThat(StoreKeys.join("p:risk", newer, "z").compareTo(StoreKeys.end(prefix))).isNegative();
    assertThat(StoreKeys.join("p:risk-2", newer).compareTo(StoreKeys.end(prefix))).isPositive();
    assertThat(StoreKeys.routing(StoreKeys.join("p:risk", newer))).isEqualTo("p:risk");
  }
}
