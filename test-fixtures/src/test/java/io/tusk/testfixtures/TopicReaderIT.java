package io.tusk.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.localstack.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link TopicReader} against the real broker: what is committed now, to the end, nothing more. */
@Tag("integration")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class TopicReaderIT {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  @Test
  void shouldReadUpToAnOpenTransactionThenOnWhenItCommits(LocalStack stack) throws Exception {
    // Given a 2-partition topic with 6 committed records, then 2 in a transaction still open
    String topic = "topic-reader-it-" + UUID.randomUUID();
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    }
    try (KafkaProducer<String, String> producer = transactional(stack, topic);
        KafkaConsumer<String, String> consumer = readCommitted(stack)) {
      producer.initTransactions();
      inTransaction(producer, topic, "first-", 6);
      producer.commitTransaction();
      inTransaction(producer, topic, "second-", 2);
      producer.flush();
      List<TopicPartition> partitions =
          List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);

      // When a read_committed consumer reads to the end
      List<ConsumerRecord<String, String>> first = TopicReader.readToEnd(consumer, DEADLINE);

      // Then it has the committed records, from both partitions, without waiting for the rest
      assertThat(first)
          .extracting(ConsumerRecord::value)
          .containsExactlyInAnyOrder(
              "first-0", "first-1", "first-2", "first-3", "first-4", "first-5");
      assertThat(first).extracting(ConsumerRecord::partition).containsOnly(0, 1);

      // When the open transaction commits / Then reading on gives exactly its records
      producer.commitTransaction();
      assertThat(TopicReader.readToEnd(consumer, DEADLINE))
          .extracting(ConsumerRecord::value)
          .containsExactlyInAnyOrder("second-0", "second-1");
      assertThat(TopicReader.atEnd(consumer, consumer.endOffsets(partitions))).isTrue();
    }
  }

  /** Begins a transaction and sends {@code count} records valued prefix + i, over 2 partitions. */
  private static void inTransaction(
      KafkaProducer<String, String> producer, String topic, String prefix, int count) {
    producer.beginTransaction();
    for (int i = 0; i < count; i++) {
      producer.send(new ProducerRecord<>(topic, i % 2, prefix + i, prefix + i));
    }
  }

  private static KafkaProducer<String, String> transactional(LocalStack stack, String id) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            stack.bootstrapServers(),
            ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            id),
        new StringSerializer(),
        new StringSerializer());
  }

  private static KafkaConsumer<String, String> readCommitted(LocalStack stack) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            stack.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed"),
        new StringDeserializer(),
        new StringDeserializer());
  }
}
