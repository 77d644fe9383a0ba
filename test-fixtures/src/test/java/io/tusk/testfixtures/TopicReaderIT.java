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

/** {@link TopicReader} against the real broker: committed records to the end, nothing more. */
@Tag("integration")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class TopicReaderIT {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  @Test
  void shouldReadEveryCommittedRecordAndNoAbortedOneWhenAReadCommittedConsumerReadsToTheEnd(
      LocalStack stack) throws Exception {
    // Given a 2-partition topic with 8 committed records, then 4 aborted ones
    String topic = "topic-reader-it-" + UUID.randomUUID();
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    }
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                stack.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                topic),
            new StringSerializer(),
            new StringSerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 8; i++) {
        producer.send(new ProducerRecord<>(topic, i % 2, "k" + i, "committed-" + i));
      }
      producer.commitTransaction();
      producer.beginTransaction();
      for (int i = 0; i < 4; i++) {
        producer.send(new ProducerRecord<>(topic, i % 2, "a" + i, "aborted-" + i));
      }
      producer.flush();
      producer.abortTransaction();
    }

    try (KafkaConsumer<String, String> consumer = readCommitted(stack)) {
      List<TopicPartition> partitions =
          List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);

      // When read to the end from the beginning
      List<ConsumerRecord<String, String>> records = TopicReader.readToEnd(consumer, DEADLINE);

      // Then exactly the committed records came, from both partitions
      assertThat(records)
          .extracting(ConsumerRecord::value)
          .containsExactlyInAnyOrder(
              "committed-0",
              "committed-1",
              "committed-2",
              "committed-3",
              "committed-4",
              "committed-5",
              "committed-6",
              "committed-7");
      assertThat(records).extracting(ConsumerRecord::partition).containsOnly(0, 1);
      // And the positions are past the abort markers, so a second read finds nothing new
      assertThat(TopicReader.atEnd(consumer, consumer.endOffsets(partitions))).isTrue();
      assertThat(TopicReader.readToEnd(consumer, DEADLINE)).isEmpty();
    }
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
