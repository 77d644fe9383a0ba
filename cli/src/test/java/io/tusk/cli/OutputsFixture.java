package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import io.tusk.testfixtures.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * What the ITs of output consumers (the SQL sink, the Parquet export) share: a repo of the
 * benchmark's table with an op column, so a member can lose every row and its output gets a
 * tombstone; committing rows and waiting for the job; and the outputs as a Kafka reader of {@code
 * <pipeline>.output} sees them, the ground truth both are checked against.
 */
final class OutputsFixture {
  /** The repo's one table: the benchmark's, which the member-summary transform reads. */
  static final String TABLE = SyntheticTable.TABLE;

  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  private OutputsFixture() {}

  /** A CSV repo of {@link #TABLE} with row key {@code EVENT_ID} and op column {@code OP}. */
  static ObjectNode repoSpec(String repo) {
    ObjectNode spec =
        TuskClient.object().put("name", repo).put("format", "csv").put("partitions", 2);
    ObjectNode events =
        spec.putArray("tables").addObject().put("name", TABLE).put("memberKey", "MEMBER_ID");
    for (String column : SyntheticTable.COLUMNS) {
      events.withArray("columns").add(column);
    }
    events.withArray("columns").add("OP");
    events.putArray("rowKey").add("EVENT_ID");
    events.put("opColumn", "OP");
    return spec;
  }

  /** A CSV line of {@link #TABLE}; {@code op} "D" deletes the row with this event ID. */
  static String row(int eventId, String member, String kind, String op) {
    return eventId + "," + member + "," + kind + ",1000" + eventId + ",2024-01-02,1.50," + op;
  }

  /** Sends the lines, seals a commit and waits for its job to succeed; returns the job's ID. */
  static String commitAndAwaitJob(
      KafkaSettings settings, TuskClient admin, String repo, List<String> rows) throws Exception {
    try (RowLoader loader = new RowLoader(settings, repo)) {
      for (String line : rows) {
        loader.send(TABLE, line.split(",")[1], line);
      }
      loader.flush();
    }
    JsonNode commit = admin.commit(repo);
    String jobId = commit.path("jobs").get(0).path("jobId").asText();
    JsonNode job = admin.awaitJobEnd(jobId, TIMEOUT);
    assertThat(job.path("state").asText()).as(job.toString()).isEqualTo("SUCCESS");
    return jobId;
  }

  /** Member to its current output, as a reader of {@code <pipeline>.output} sees it now. */
  static Map<String, Output> currentOutputs(
      KafkaSettings settings, Topics topics, String pipeline) {
    Map<String, Output> current = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("outputs-fixture-reader", null))) {
      List<TopicPartition> partitions = partitions(consumer, pipeline);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      for (ConsumerRecord<byte[], byte[]> record : TopicReader.readToEnd(consumer, TIMEOUT)) {
        if (record.key() == null || record.headers().lastHeader(Headers.ROLL) != null) {
          continue;
        }
        String member = new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
          current.remove(member);
        } else {
          current.put(member, topics.output(pipeline).readValue(record.value()));
        }
      }
    }
    return current;
  }

  /** The partitions of {@code <pipeline>.output}. */
  static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer, String pipeline) {
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo info : consumer.partitionsFor(TopicNames.output(pipeline))) {
      partitions.add(new TopicPartition(info.topic(), info.partition()));
    }
    return partitions;
  }
}
