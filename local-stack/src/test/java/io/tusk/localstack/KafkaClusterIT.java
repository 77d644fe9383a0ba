package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster the chaos tests run on: three nodes in processes of their own, topics replicated
 * three times with two in sync required; writes go on while any one node is killed, and a node
 * started again catches up.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class KafkaClusterIT {

  @Test
  void shouldServeWritesWhileOneNodeIsDownAndCatchUpWhenItIsBack(@TempDir Path dir)
      throws Exception {
    // Given a cluster of three nodes and a topic with the cluster's default replication
    try (KafkaCluster cluster = KafkaCluster.start(dir, 3);
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(3);
      admin.createTopics(List.of(new NewTopic("cluster-it", 3, (short) 3))).all().get();
      assertThat(awaitFullyReplicated(admin, "cluster-it").partitions()).hasSize(3);

      // When one node is killed
      KafkaNode victim = cluster.nodes().get(0);
      victim.kill();
      assertThat(victim.alive()).isFalse();

      // Then acknowledged writes (acks=all, 2 in sync) still succeed on every partition
      try (KafkaProducer<String, String> producer = producer(cluster)) {
        for (int partition = 0; partition < 3; partition++) {
          producer
              .send(new ProducerRecord<>("cluster-it", partition, "k", "v"))
              .get(60, TimeUnit.SECONDS);
        }
      }

      // And the node started again on its data catches up: every partition back to 3 in sync
      victim.start();
      cluster.awaitInSync(List.of(victim.id()), Duration.ofMinutes(2));
      TopicDescription topic =
          admin.describeTopics(List.of("cluster-it")).allTopicNames().get().get("cluster-it");
      assertThat(topic.partitions()).allSatisfy(p -> assertThat(p.isr()).hasSize(3));
    }
  }

  /**
   * The topic once every partition has all three replicas in sync. A created topic reaches the
   * brokers' metadata one after the other, so a broker may answer "unknown topic" for a moment
   * after the controller created it (CI saw this).
   */
  private static TopicDescription awaitFullyReplicated(Admin admin, String name)
      throws InterruptedException {
    long end = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    Exception last = null;
    while (System.nanoTime() < end) {
      try {
        TopicDescription topic =
            admin.describeTopics(List.of(name)).allTopicNames().get(10, TimeUnit.SECONDS).get(name);
        if (topic.partitions().stream().allMatch(p -> p.isr().size() == 3)) {
          return topic;
        }
      } catch (ExecutionException | TimeoutException e) {
        last = e;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("topic " + name + " not fully replicated within 1 minute", last);
  }

  private static KafkaProducer<String, String> producer(KafkaCluster cluster) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            cluster.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all"),
        new StringSerializer(),
        new StringSerializer());
  }
}
