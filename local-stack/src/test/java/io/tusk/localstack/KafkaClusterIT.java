package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
      cluster.awaitTopicsInSync(List.of("cluster-it"), Duration.ofMinutes(1));
      TopicDescription created =
          admin.describeTopics(List.of("cluster-it")).allTopicNames().get().get("cluster-it");
      assertThat(created.partitions()).allSatisfy(p -> assertThat(p.isr()).hasSize(3));

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
