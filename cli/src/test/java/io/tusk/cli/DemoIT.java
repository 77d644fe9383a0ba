package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.Output;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TopicReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The walking skeleton end to end, on a real broker and registry: the demo's two commits of the
 * OMOP sample through all four services, with 3 source partitions and 2 processor instances. What
 * Tusk should have done is computed independently from the CSV files.
 */
@Tag("integration")
@ExtendWith(LocalStackExtension.class)
class DemoIT {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  private static final Path DATA =
      Paths.get(System.getProperty("tusk.root", "..")).resolve("data/omop-gibleed");
  private static final List<String> EVENT_TABLES =
      List.of(
          "CONDITION_ERA", "DRUG_ERA", "PROCEDURE_OCCURRENCE", "VISIT_OCCURRENCE", "OBSERVATION");
  private static final Map<String, String> DATE_COLUMN =
      Map.of(
          "CONDITION_ERA", "CONDITION_ERA_START_DATE",
          "DRUG_ERA", "DRUG_ERA_START_DATE",
          "PROCEDURE_OCCURRENCE", "PROCEDURE_DATE",
          "VISIT_OCCURRENCE", "VISIT_START_DATE",
          "OBSERVATION", "OBSERVATION_DATE");

  @Test
  @Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
  void shouldProcessEveryMemberThenOnlyChangedMembersWithExactLineage(LocalStack stack)
      throws Exception {
    // Given the four services and two datum processors per pipeline on the real broker and registry
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "omop-" + suffix;
    String pipeline = "insights-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "demo-it-");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 2)) {
      TuskClient client = services.client();
      KafkaSettings settings =
          KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "demo-it");

      // When the demo loads the table as of the cut-off, commits, loads the weekly update and
      // commits
      OmopDemo.Result result =
          new OmopDemo(
                  client,
                  settings,
                  OmopDataset.read(DATA),
                  new PrintStream(printed, true, StandardCharsets.UTF_8),
                  repo,
                  pipeline,
                  3)
              .run();

      // Then job 1 processed every member once
      Set<String> members = membersBefore(OmopDemo.CUTOFF);
      assertThat(result.first().state()).isEqualTo("SUCCESS");
      assertThat(result.first().total()).isEqualTo(members.size());
      assertThat(result.first().processed()).isEqualTo(members.size());
      assertThat(result.first().skipped()).isZero();
      assertThat(result.first().rejected()).isZero();

      // And job 2 processed exactly the members whose rows changed, skipping the rest
      Set<String> changed = changedMembers(result.update());
      assertThat(changed).isNotEmpty().hasSizeLessThan(members.size() / 10);
      assertThat(result.second().state()).isEqualTo("SUCCESS");
      assertThat(result.second().total()).isEqualTo(members.size());
      assertThat(result.second().processed()).isEqualTo(changed.size());
      assertThat(result.second().skipped()).isEqualTo(members.size() - changed.size());

      // And every output names the commit and job that made it, exactly once per processed datum
      Topics topics = new Topics(settings.registryClient());
      List<ConsumerRecord<byte[], byte[]>> outputs =
          readAll(settings, topics.output(pipeline).name(), members.size() + changed.size());
      assertThat(outputs).hasSize(members.size() + changed.size());
      Map<String, Output> latest = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record : outputs) {
        Output output = topics.output(pipeline).readValue(record.value());
        boolean second = output.getJobId().equals(result.second().jobId());
        assertThat(output.getJobId()).isIn(result.first().jobId(), result.second().jobId());
        assertThat(output.getCommitId())
            .isEqualTo(second ? result.second().commitId() : result.first().commitId());
        assertThat(Headers.text(record.headers(), Headers.JOB_ID)).isEqualTo(output.getJobId());
        assertThat(Headers.text(record.headers(), Headers.COMMIT_ID))
            .isEqualTo(output.getCommitId());
        if (second) {
          assertThat(changed).contains(output.getMember());
        }
        latest.put(output.getMember(), output);
      }
      assertThat(latest.keySet()).isEqualTo(members);

      // And the cohort stage computed every cohort once, then only the cohorts the update touched:
      // the old and new cohort of every member whose insight changed
      Map<String, String> cohortBefore = new HashMap<>();
      Map<String, String> hashBefore = new HashMap<>();
      Map<String, String> cohortAfter = new HashMap<>();
      Set<String> affected = new HashSet<>();
      for (ConsumerRecord<byte[], byte[]> record : outputs) {
        Output output = topics.output(pipeline).readValue(record.value());
        String cohort = JSON.readTree(output.getData().array()).path("cohortKey").asText();
        if (output.getJobId().equals(result.first().jobId())) {
          cohortBefore.put(output.getMember(), cohort);
          hashBefore.put(output.getMember(), output.getOutputHash());
        } else if (!output.getOutputHash().equals(hashBefore.get(output.getMember()))) {
          affected.add(cohortBefore.get(output.getMember()));
          affected.add(cohort);
        }
        cohortAfter.put(output.getMember(), cohort);
      }
      assertThat(result.firstCohorts().state()).isEqualTo("SUCCESS");
      assertThat(result.firstCohorts().processed())
          .isEqualTo(new HashSet<>(cohortBefore.values()).size());
      assertThat(result.secondCohorts().state()).isEqualTo("SUCCESS");
      assertThat(result.secondCohorts().processed()).isEqualTo(affected.size());
      assertThat(result.secondCohorts().total())
          .isEqualTo(new HashSet<>(cohortAfter.values()).size());
      assertThat(result.secondCohorts().processed()).isLessThan(result.firstCohorts().processed());

      // And both processor instances took part
      Topic<String, DatumResult> results = topics.datumResults;
      Set<String> processors = new HashSet<>();
      for (ConsumerRecord<byte[], byte[]> record : readAll(settings, results.name(), 0)) {
        DatumResult datum = results.readValue(record.value());
        if (datum.getPipeline().equals(pipeline)) {
          processors.add(datum.getProcessorId().replaceAll("-\\d+$", ""));
        }
      }
      assertThat(processors).hasSizeGreaterThanOrEqualTo(2);

      // And the lineage service traces an output to its job, commit and exact input rows
      String member = result.lineageMember();
      JsonNode lineage = result.lineage();
      assertThat(changed).contains(member);
      assertThat(lineage.path("job").path("id").asText()).isEqualTo(result.second().jobId());
      assertThat(lineage.path("commit").path("id").asText()).isEqualTo(result.second().commitId());
      assertThat(lineage.path("repo").asText()).isEqualTo(repo);
      assertThat(lineage.path("inputRows").size())
          .isEqualTo(rowsOf(member, OmopDemo.CUTOFF.plusDays(OmopDemo.UPDATE_DAYS)));
      assertThat(lineage.path("output").path("outputHash").asText())
          .isEqualTo(latest.get(member).getOutputHash());
      JsonNode commitJobs = client.lineageCommit(result.second().commitId()).path("jobs");
      assertThat(commitJobs.findValuesAsText("id")).contains(result.second().jobId());
      assertThat(printed.toString(StandardCharsets.UTF_8))
          .contains("[7/7]")
          .contains(result.second().jobId());
    }
  }

  /** Members with any row dated before {@code cutoff} or a PERSON row, straight from the files. */
  private static Set<String> membersBefore(LocalDate cutoff) throws IOException {
    Set<String> members = new HashSet<>();
    for (String[] row : rows("PERSON")) {
      members.add(row[0]);
    }
    for (String table : EVENT_TABLES) {
      int date = column(table, DATE_COLUMN.get(table));
      int member = column(table, "PERSON_ID");
      for (String[] row : rows(table)) {
        if (LocalDate.parse(row[date]).isBefore(cutoff)) {
          members.add(row[member]);
        }
      }
    }
    return members;
  }

  /**
   * Members with rows dated in the update window, plus members whose rows the update really
   * corrects.
   */
  private static Set<String> changedMembers(OmopDataset.Update update) throws IOException {
    Set<String> changed = new HashSet<>();
    LocalDate end = OmopDemo.CUTOFF.plusDays(OmopDemo.UPDATE_DAYS);
    for (String table : EVENT_TABLES) {
      int date = column(table, DATE_COLUMN.get(table));
      int member = column(table, "PERSON_ID");
      for (String[] row : rows(table)) {
        LocalDate d = LocalDate.parse(row[date]);
        if (!d.isBefore(OmopDemo.CUTOFF) && d.isBefore(end)) {
          changed.add(row[member]);
        }
      }
    }
    Map<String, String> originalById = new HashMap<>();
    for (String line : lines("CONDITION_ERA")) {
      originalById.put(line.split(",", -1)[0], line);
    }
    for (OmopDataset.Row correction : update.corrections()) {
      String original = originalById.get(correction.line().split(",", -1)[0]);
      assertThat(correction.line()).isNotEqualTo(original);
      changed.add(correction.member());
    }
    return changed;
  }

  /** Rows of {@code member} dated before {@code end} (all its PERSON rows). */
  private static int rowsOf(String member, LocalDate end) throws IOException {
    int count = 0;
    for (String[] row : rows("PERSON")) {
      count += row[0].equals(member) ? 1 : 0;
    }
    for (String table : EVENT_TABLES) {
      int date = column(table, DATE_COLUMN.get(table));
      int m = column(table, "PERSON_ID");
      for (String[] row : rows(table)) {
        count += row[m].equals(member) && LocalDate.parse(row[date]).isBefore(end) ? 1 : 0;
      }
    }
    return count;
  }

  private static List<String> lines(String table) throws IOException {
    List<String> lines = Files.readAllLines(DATA.resolve(table + ".csv"), StandardCharsets.UTF_8);
    return lines.subList(1, lines.size());
  }

  private static List<String[]> rows(String table) throws IOException {
    List<String[]> rows = new ArrayList<>();
    for (String line : lines(table)) {
      rows.add(line.split(",", -1));
    }
    return rows;
  }

  private static int column(String table, String column) throws IOException {
    String header = Files.readAllLines(DATA.resolve(table + ".csv"), StandardCharsets.UTF_8).get(0);
    return List.of(header.split(",")).indexOf(column);
  }

  /**
   * Reads a topic to its end (read_committed), and again while it holds fewer than {@code atLeast}
   * records (the demo may still be writing), up to a deadline.
   */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(
      KafkaSettings settings, String topic, int atLeast) {
    Duration deadline = Duration.ofMinutes(2);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("demo-it-reader", null))) {
      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      Await.until(
          atLeast + " records on " + topic,
          deadline,
          () -> {
            records.addAll(TopicReader.readToEnd(consumer, deadline));
            return records.size() >= atLeast;
          });
      return records;
    }
  }
}
