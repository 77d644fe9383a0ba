package io.tusk.cli;

import static io.tusk.cli.OutputsFixture.commitAndAwaitJob;
import static io.tusk.cli.OutputsFixture.repoSpec;
import static io.tusk.cli.OutputsFixture.row;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tusk sink PIPELINE --postgres URL} against a real PostgreSQL and the real stack: after
 * every job the table equals the pipeline's current outputs (read from {@code <pipeline>.output} as
 * a user would), through updates, a member whose rows are all deleted, an erasure, a stopped and
 * restarted sink, and a sink fed again from the beginning.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class SinkIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldKeepTheTableEqualToThePipelinesCurrentOutputsAfterEveryJob(LocalStack stack)
      throws Exception {
    PostgresServer.assumeInstalled();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "sink-" + suffix;
    String pipeline = "sink-p-" + suffix;
    String table = "sink_p_" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "sink-it-");
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "sink-it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    try (PostgresServer pg = PostgresServer.start();
        TuskServices services =
            TuskServices.start(
                stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1)) {
      pg.psql("postgres", "CREATE DATABASE analytics");
      String url = pg.jdbcUrl("analytics");
      TuskClient admin = services.client();
      String token = services.auth().adminToken();
      admin.createRepo(repoSpec(repo));
      ObjectNode spec = StackRoutes.pipelineSpec(pipeline, repo).put("parallelism", 3);
      admin.createPipeline(spec);
      String[] sinkArgs = {
        "sink",
        pipeline,
        "--postgres",
        url,
        "--db-user",
        PostgresServer.USER,
        "--bootstrap",
        stack.bootstrapServers(),
        "--registry-url",
        stack.registryUrl(),
        "--commit-url",
        services.commitUrl(),
        "--lineage-url",
        services.lineageUrl(),
        "--token",
        token
      };

      // Given six members, committed and processed
      AtomicInteger eventId = new AtomicInteger();
      List<String> first = new ArrayList<>();
      for (int m = 1; m <= 6; m++) {
        first.add(row(eventId.incrementAndGet(), "M" + m, "claim", ""));
      }
      first.add(row(eventId.incrementAndGet(), "M1", "drug", ""));
      String job1 = commitAndAwaitJob(settings, admin, repo, first);

      // When the sink follows the pipeline
      AtomicInteger exit = new AtomicInteger(-1);
      Thread follower =
          new Thread(() -> exit.set(Tusk.commandLine().execute(sinkArgs)), "sink-it-follower");
      follower.start();

      // Then the table equals the pipeline's outputs, JSON content readable as jsonb
      awaitTableEqualsOutputs(settings, topics, pipeline, url, table);
      try (Connection db = connect(url);
          Statement sql = db.createStatement();
          ResultSet rows =
              sql.executeQuery(
                  "SELECT job_id, data_json IS NOT NULL, data_text FROM "
                      + table
                      + " WHERE member = 'M1'")) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getString(1)).isEqualTo(job1);
        assertThat(rows.getBoolean(2)).as("member-summary's JSON in data_json").isTrue();
        assertThat(JSON.readTree(rows.getString(3)).toString()).contains("M1");
      }

      // When M1 gains a row, M2's only row is deleted and M7 arrives, while the sink follows
      String job2 =
          commitAndAwaitJob(
              settings,
              admin,
              repo,
              List.of(
                  row(eventId.incrementAndGet(), "M1", "procedure", ""),
                  row(2, "M2", "claim", "D"),
                  row(eventId.incrementAndGet(), "M7", "claim", "")));

      // Then the table follows: M2 is gone, M7 is there, M1 is job 2's and M3 still job 1's
      Map<String, String> afterJob2 =
          awaitTableEqualsOutputs(settings, topics, pipeline, url, table);
      assertThat(afterJob2).doesNotContainKey("M2").containsKey("M7");
      assertThat(jobOf(url, table, "M1")).isEqualTo(job2);
      assertThat(jobOf(url, table, "M3")).isEqualTo(job1);

      // When the sink stops, M3 changes and M4 is erased meanwhile
      follower.interrupt();
      follower.join(TIMEOUT.toMillis());
      assertThat(follower.isAlive()).isFalse();
      assertThat(exit.get()).isZero();
      commitAndAwaitJob(
          settings, admin, repo, List.of(row(eventId.incrementAndGet(), "M3", "drug", "")));
      String erasure = admin.erase(repo, "M4", "request 17 (sink IT)", null).path("id").asText();
      TuskClient.await(
          () -> admin.erasure(erasure),
          e -> "purged".equals(e.path("state").asText()),
          TIMEOUT,
          "erasure " + erasure + " purged");
      Await.until(
          "M4's output removed",
          TIMEOUT,
          () -> !currentOutputs(settings, topics, pipeline).containsKey("M4"));

      // Then a run with --once brings the table to the pipeline's outputs, without M4
      CliRun once =
          CliRun.tusk(services.commitUrl(), services.lineageUrl(), token, onceArgs(sinkArgs));
      assertThat(once.code()).as(once.err()).isZero();
      assertThat(once.out()).contains("deleted").contains(table);
      assertThat(tableRows(url, table)).isEqualTo(currentOutputs(settings, topics, pipeline));
      assertThat(tableRows(url, table)).doesNotContainKey("M4").containsKey("M3");
      // And the positions it keeps are the topic's end: nothing is read or applied twice
      assertThat(storedPositions(url, table)).isEqualTo(endOffsets(settings, pipeline));
      CliRun again =
          CliRun.tusk(services.commitUrl(), services.lineageUrl(), token, onceArgs(sinkArgs));
      assertThat(again.code()).as(again.err()).isZero();
      assertThat(again.out()).contains("applied 0 output records");

      // When the table is fed again from the beginning (its positions forgotten)
      try (Connection db = connect(url);
          Statement sql = db.createStatement()) {
        sql.executeUpdate("DELETE FROM tusk_sink_offsets WHERE sink_table = '" + table + "'");
      }
      CliRun replay =
          CliRun.tusk(
              services.commitUrl(), services.lineageUrl(), token, onceArgs(sinkArgs, "--json"));
      assertThat(replay.code()).as(replay.err()).isZero();

      // Then it ends the same: the newest output of each member, the deleted and erased absent
      JsonNode replayed = JSON.readTree(replay.out());
      assertThat(replayed.path("records").asLong()).isPositive();
      assertThat(tableRows(url, table)).isEqualTo(currentOutputs(settings, topics, pipeline));

      // And another pipeline cannot feed the same table
      CliRun other =
          CliRun.tusk(
              services.commitUrl(),
              services.lineageUrl(),
              token,
              "sink",
              StackRoutes.fixture(stack, admin, "sink2", suffix).pipeline(),
              "--postgres",
              url,
              "--db-user",
              PostgresServer.USER,
              "--table",
              table,
              "--once",
              "--bootstrap",
              stack.bootstrapServers(),
              "--registry-url",
              stack.registryUrl());
      assertThat(other.code()).isNotZero();
      assertThat(other.err()).contains("is fed by " + TopicNames.output(pipeline));

      // When an operator deletes the output topic and creates it again, empty
      try (Admin kafkaAdmin = Admin.create(settings.admin("sink-it-admin-" + suffix))) {
        String outputTopic = TopicNames.output(pipeline);
        kafkaAdmin.deleteTopics(List.of(outputTopic)).all().get();
        Await.until(
            outputTopic + " deleted",
            TIMEOUT,
            () -> !kafkaAdmin.listTopics().names().get().contains(outputTopic));
        kafkaAdmin
            .createTopics(
                List.of(
                    new NewTopic(outputTopic, 3, (short) 1)
                        .configs(Map.of("cleanup.policy", "compact"))))
            .all()
            .get();
      }

      // Then the sink sees a new topic: the table, which held the old topic's outputs, is emptied
      CliRun fresh =
          CliRun.tusk(services.commitUrl(), services.lineageUrl(), token, onceArgs(sinkArgs));
      assertThat(fresh.code()).as(fresh.err()).isZero();
      assertThat(tableRows(url, table)).isEmpty();
      assertThat(storedPositions(url, table)).isEqualTo(Map.of(0, 0L, 1, 0L, 2, 0L));
    }
  }

  private static String[] onceArgs(String[] sinkArgs, String... more) {
    List<String> args = new ArrayList<>(List.of(sinkArgs));
    // CliRun adds the service URLs and the token itself.
    int urls = args.indexOf("--commit-url");
    args = new ArrayList<>(args.subList(0, urls));
    args.add("--once");
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** Waits until the table equals the outputs, and returns them (member to output hash). */
  private static Map<String, String> awaitTableEqualsOutputs(
      KafkaSettings settings, Topics topics, String pipeline, String url, String table) {
    Map<String, String> outputs = currentOutputs(settings, topics, pipeline);
    Await.until(
        "table " + table + " equals the outputs of " + pipeline + " (the last value: the table)",
        TIMEOUT,
        () -> tableRows(url, table),
        rows -> rows.equals(outputs));
    return outputs;
  }

  /** Member to output hash and job, as a reader of {@code <pipeline>.output} sees it now. */
  private static Map<String, String> currentOutputs(
      KafkaSettings settings, Topics topics, String pipeline) {
    Map<String, String> current = new TreeMap<>();
    OutputsFixture.currentOutputs(settings, topics, pipeline)
        .forEach(
            (member, output) ->
                current.put(member, output.getOutputHash() + " " + output.getJobId()));
    return current;
  }

  private static Map<Integer, Long> endOffsets(KafkaSettings settings, String pipeline) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("sink-it-ends", null))) {
      Map<Integer, Long> ends = new TreeMap<>();
      consumer
          .endOffsets(OutputsFixture.partitions(consumer, pipeline))
          .forEach((partition, offset) -> ends.put(partition.partition(), offset));
      return ends;
    }
  }

  private static Map<String, String> tableRows(String url, String table) throws Exception {
    Map<String, String> rows = new TreeMap<>();
    try (Connection db = connect(url);
        Statement sql = db.createStatement();
        ResultSet result = sql.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
      result.next();
      if (!result.getBoolean(1)) {
        return rows;
      }
    }
    try (Connection db = connect(url);
        Statement sql = db.createStatement();
        ResultSet result = sql.executeQuery("SELECT member, output_hash, job_id FROM " + table)) {
      while (result.next()) {
        rows.put(result.getString(1), result.getString(2) + " " + result.getString(3));
      }
    }
    return rows;
  }

  private static String jobOf(String url, String table, String member) throws Exception {
    try (Connection db = connect(url);
        Statement sql = db.createStatement();
        ResultSet result =
            sql.executeQuery("SELECT job_id FROM " + table + " WHERE member = '" + member + "'")) {
      assertThat(result.next()).as(member + " in " + table).isTrue();
      return result.getString(1);
    }
  }

  private static Map<Integer, Long> storedPositions(String url, String table) throws Exception {
    Map<Integer, Long> positions = new TreeMap<>();
    try (Connection db = connect(url);
        Statement sql = db.createStatement();
        ResultSet result =
            sql.executeQuery(
                "SELECT partition, next_offset FROM tusk_sink_offsets WHERE sink_table = '"
                    + table
                    + "'")) {
      while (result.next()) {
        positions.put(result.getInt(1), result.getLong(2));
      }
    }
    return positions;
  }

  private static Connection connect(String url) throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", PostgresServer.USER);
    return DriverManager.getConnection(url, properties);
  }
}
