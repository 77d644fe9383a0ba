package io.tusk.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.localstack.LocalStack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
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

/**
 * The local stack that {@link LocalStackExtension} shares really works: transactions, consumer
 * groups and the registry API.
 */
@Tag("integration")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class LocalStackIT {

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final String SCHEMA_JSON = "application/vnd.schemaregistry.v1+json";
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldDeliverOnlyCommittedRecordsWhenAGroupReadsCommitted(LocalStack stack)
      throws Exception {
    // Given a topic with 3 partitions
    String topic = "local-stack-it-tx-" + UUID.randomUUID();
    try (Admin admin = admin(stack)) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
      TopicDescription description =
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      assertThat(description.partitions()).hasSize(3);
    }

    // When a transactional producer commits 30 records over all partitions and aborts 6 more
    try (KafkaProducer<String, String> producer = transactionalProducer(stack)) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 30; i++) {
        producer.send(new ProducerRecord<>(topic, i % 3, "k" + i, "committed-" + i));
      }
      producer.commitTransaction();
      producer.beginTransaction();
      for (int i = 0; i < 6; i++) {
        producer.send(new ProducerRecord<>(topic, i % 3, "a" + i, "aborted-" + i));
      }
      producer.flush();
      producer.abortTransaction();
    }

    // Then a read_committed consumer in a group reads exactly the committed records
    String group = "local-stack-it-group-" + UUID.randomUUID();
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = readCommittedConsumer(stack, group)) {
      consumer.subscribe(List.of(topic));
      // Read until every partition's position reaches its end (the last stable offset), so
      // aborted records would have shown up by then.
      Await.until(
          "caught up",
          DEADLINE,
          Await.NO_PAUSE,
          () -> {
            if (caughtUp(consumer)) {
              return true;
            }
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            return false;
          });
      consumer.commitSync();
    }
    assertThat(records).hasSize(30);
    assertThat(records).allSatisfy(r -> assertThat(r.value()).startsWith("committed-"));
    assertThat(records).extracting(ConsumerRecord::partition).containsOnly(0, 1, 2);

    // And the group coordinator stored the group's offsets, past the abort markers
    try (Admin admin = admin(stack)) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      assertThat(committed).hasSize(3);
      assertThat(committed.values())
          .allSatisfy(offset -> assertThat(offset.offset()).isGreaterThan(10));
    }
  }

  @Test
  void shouldEnforceBackwardCompatibilityWhenAvroSchemasAreRegistered(LocalStack stack)
      throws Exception {
    // Given the registry's global compatibility
    assertThat(send(get(stack.registryUrl() + "/config")).body()).contains("\"BACKWARD\"");
    String subject = "local-stack-it-" + UUID.randomUUID() + "-value";
    String versions = stack.registryUrl() + "/subjects/" + subject + "/versions";

    // When a first Avro schema is registered
    HttpResponse<String> registered =
        send(post(versions, avro("[{\"name\":\"id\",\"type\":\"long\"}]")));

    // Then it gets an ID that resolves to the same schema
    assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
    int id = id(registered.body());
    HttpResponse<String> byId = send(get(stack.registryUrl() + "/schemas/ids/" + id));
    assertThat(byId.statusCode()).isEqualTo(200);
    assertThat(byId.body()).contains("local_stack_it").contains("\\\"id\\\"");

    // And a new field without a default is refused, one with a default accepted
    HttpResponse<String> breaking =
        send(
            post(
                versions,
                avro("[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"n\",\"type\":\"int\"}]")));
    assertThat(breaking.statusCode()).as(breaking.body()).isEqualTo(409);
    HttpResponse<String> evolved =
        send(
            post(
                versions,
                avro(
                    "[{\"name\":\"id\",\"type\":\"long\"},"
                        + "{\"name\":\"n\",\"type\":\"int\",\"default\":0}]")));
    assertThat(evolved.statusCode()).as(evolved.body()).isEqualTo(200);
    assertThat(id(evolved.body())).isNotEqualTo(id);
  }

  @Test
  void shouldExposeTheInjectedStackWhenSharedIsCalled(LocalStack stack) {
    assertThat(LocalStackExtension.shared()).isSameAs(stack);
    assertThat(stack.bootstrapServers()).startsWith("127.0.0.1:");
    assertThat(stack.registryUrl()).startsWith("http://127.0.0.1:").endsWith("/apis/ccompat/v7");
    assertThat(stack.home()).isAbsolute().exists();
  }

  /** True once the group assigned all 3 partitions and each position reached its end. */
  private static boolean caughtUp(KafkaConsumer<String, String> consumer) {
    Set<TopicPartition> assigned = consumer.assignment();
    return assigned.size() >= 3 && TopicReader.atEnd(consumer, consumer.endOffsets(assigned));
  }

  private static Admin admin(LocalStack stack) {
    return Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()));
  }

  private static KafkaProducer<String, String> transactionalProducer(LocalStack stack) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "local-stack-it-tx-" + UUID.randomUUID());
    return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
  }

  private static KafkaConsumer<String, String> readCommittedConsumer(
      LocalStack stack, String group) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
  }

  /** A ccompat registration body for an Avro record with the given fields (JSON in a string). */
  private static String avro(String fields) {
    String schema =
        "{\"type\":\"record\",\"name\":\"Row\",\"namespace\":\"local_stack_it\",\"fields\":"
            + fields
            + "}";
    return "{\"schema\":\"" + schema.replace("\"", "\\\"") + "\"}";
  }

  private static int id(String body) {
    Matcher matcher = ID.matcher(body);
    assertThat(matcher.find()).as("id in %s", body).isTrue();
    return Integer.parseInt(matcher.group(1));
  }

  private static HttpRequest get(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(DEADLINE).build();
  }

  private static HttpRequest post(String url, String body) {
    return HttpRequest.newBuilder(URI.create(url))
        .timeout(DEADLINE)
        .header("Content-Type", SCHEMA_JSON)
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
