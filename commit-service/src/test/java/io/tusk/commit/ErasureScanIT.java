package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The verification scan on the real broker: it finds a planted member key in keys, values and
 * headers of every partition, aborted transactions included, never inside a longer key; and once a
 * delete topic's retention removed the records, it finds nothing (the embedded broker runs
 * retention every second or two).
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class ErasureScanIT {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final String MEMBER = "patient-7";

  @Test
  void shouldFindThePlantedKeyUntilRetentionRemovedItsRecords(LocalStack stack) throws Exception {
    KafkaSettings kafka =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "erasure-scan-it");
    String topic = "erasure-scan-it-" + UUID.randomUUID();
    // Given a two-partition delete topic keeping records two seconds, rolled every second
    try (Admin admin = Admin.create(kafka.admin("erasure-scan-it-admin"))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 2, (short) 1)
                      .configs(
                          Map.of(
                              "cleanup.policy", "delete",
                              "retention.ms", "2000",
                              "segment.ms", "1000"))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    // And the member key in a key, a value and a header, an aborted copy, and a longer key
    Map<String, Object> props =
        kafka.producer("erasure-scan-it", "erasure-scan-it-" + UUID.randomUUID());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(record(topic, 0, MEMBER, "{\"a\":1}", null));
      producer.send(record(topic, 1, "x", "{\"member\":\"" + MEMBER + "\"}", null));
      producer.send(record(topic, 0, "y", "{}", MEMBER));
      producer.send(record(topic, 1, MEMBER + "0", "{\"m\":\"" + MEMBER + "-b\"}", null));
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(record(topic, 1, MEMBER, "aborted", null));
      producer.flush();
      producer.abortTransaction();
    }

    // When the scan reads the topic
    ErasureScan scan = new ErasureScan(kafka);
    ErasureScan.Result found = scan.scan(List.of(topic), MEMBER);

    // Then it counts the four records holding the key as a token (the aborted one too), and says
    // where, without content
    assertThat(found.scanned()).isEqualTo(5);
    assertThat(found.found()).isEqualTo(4);
    assertThat(found.places()).containsExactlyInAnyOrder(topic + "/0", topic + "/1");

    // And once retention removed the records, the same scan finds nothing
    ErasureScan.Result after =
        Await.until(
            "retention removed the planted records",
            DEADLINE,
            Duration.ofMillis(500),
            () -> scan.scan(List.of(topic), MEMBER),
            result -> result.found() == 0);
    assertThat(after.places()).isEmpty();
  }

  private static ProducerRecord<byte[], byte[]> record(
      String topic, int partition, String key, String value, String header) {
    RecordHeaders headers = new RecordHeaders();
    if (header != null) {
      headers.add("tusk.test", header.getBytes(StandardCharsets.UTF_8));
    }
    return new ProducerRecord<>(
        topic,
        partition,
        key.getBytes(StandardCharsets.UTF_8),
        value.getBytes(StandardCharsets.UTF_8),
        headers);
  }
}
