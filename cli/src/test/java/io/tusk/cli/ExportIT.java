package io.tusk.cli;

import static io.tusk.cli.OutputsFixture.commitAndAwaitJob;
import static io.tusk.cli.OutputsFixture.currentOutputs;
import static io.tusk.cli.OutputsFixture.repoSpec;
import static io.tusk.cli.OutputsFixture.row;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Output;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tusk export PIPELINE [--job J] --parquet DIR} against the real stack: after two jobs (the
 * second skips members, deletes one, adds one), the exports of job 1 and job 2 read back with
 * DuckDB equal the outputs a Kafka reader saw right after each job: row counts, lineage columns and
 * every JSON field of each member's output.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class ExportIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldExportEachJobsOutputsAsParquet(LocalStack stack) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "export-" + suffix;
    String pipeline = "export-p-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "export-it-");
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "export-it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(),
            stack.registryUrl(),
            home,
            Ports.ephemeral(),
            TuskServices.MEMBER_PARTITIONS)) {
      TuskClient admin = services.client();
      String token = services.auth().adminToken();
      admin.createRepo(repoSpec(repo));
      admin.createPipeline(StackRoutes.pipelineSpec(pipeline, repo).put("parallelism", 2));

      // Given five members, then a commit that changes M1, deletes M2's only row and adds M6
      List<String> first = new ArrayList<>();
      for (int m = 1; m <= 5; m++) {
        first.add(row(m, "M" + m, "claim", ""));
      }
      first.add(row(10, "M1", "drug", ""));
      String job1 = commitAndAwaitJob(settings, admin, repo, first);
      Map<String, Output> afterJob1 = currentOutputs(settings, topics, pipeline);
      String job2 =
          commitAndAwaitJob(
              settings,
              admin,
              repo,
              List.of(
                  row(11, "M1", "procedure", ""),
                  row(2, "M2", "claim", "D"),
                  row(12, "M6", "claim", "")));
      Map<String, Output> afterJob2 = currentOutputs(settings, topics, pipeline);
      assertThat(afterJob1.keySet()).containsExactly("M1", "M2", "M3", "M4", "M5");
      assertThat(afterJob2.keySet()).containsExactly("M1", "M3", "M4", "M5", "M6");

      // When job 1 and (by default, the last successful job) job 2 are exported
      Path out1 = home.resolve("job1");
      Path out2 = home.resolve("job2");
      // (job 1 named by a 12-character prefix, as tusk prints job IDs)
      CliRun export1 =
          export(services, token, stack, pipeline, out1, "--job", job1.substring(0, 12));
      assertThat(export1.code()).as(export1.err()).isZero();
      CliRun export2 = export(services, token, stack, pipeline, out2, "--json");
      assertThat(export2.code()).as(export2.err()).isZero();
      assertThat(JSON.readTree(export2.out()).path("job").asText()).isEqualTo(job2);

      // Then each file holds exactly that job's cut: job 2's keeps M3 from job 1, lacks M2
      assertMatches(out1.resolve("part-00000.parquet"), afterJob1);
      assertMatches(out2.resolve("part-00000.parquet"), afterJob2);
      assertThat(afterJob2.get("M3").getJobId()).isEqualTo(job1);
      assertThat(afterJob2.get("M1").getJobId()).isEqualTo(job2);

      // And bad requests are refused with clear messages
      String noSuchJob = "0".repeat(32);
      CliRun unknownJob =
          export(services, token, stack, pipeline, home.resolve("x"), "--job", noSuchJob);
      assertThat(unknownJob.code()).isNotZero();
      assertThat(unknownJob.err()).contains(noSuchJob).contains("404");
      CliRun unknownPipeline =
          export(services, token, stack, "no-such-" + suffix, home.resolve("y"));
      assertThat(unknownPipeline.code()).isNotZero();
      CliRun notEmpty = export(services, token, stack, pipeline, out1);
      assertThat(notEmpty.code()).isNotZero();
      assertThat(notEmpty.err()).contains("not empty");
      CliRun overwrite = export(services, token, stack, pipeline, out1, "--overwrite");
      assertThat(overwrite.code()).as(overwrite.err()).isZero();
      assertMatches(out1.resolve("part-00000.parquet"), afterJob2);
      // A reader without the content right gets no output data
      String bob = "export-bob-" + suffix;
      CliRun grant =
          CliRun.tusk(
              services.commitUrl(),
              services.lineageUrl(),
              token,
              "auth",
              "grant",
              "pipeline:" + pipeline,
              "reader",
              bob);
      assertThat(grant.code()).as(grant.err()).isZero();
      String bobs = services.auth().token(bob, Duration.ofMinutes(10));
      Path bobsDir = home.resolve("bob");
      Await.until(
          "bob refused for want of the content right (the grant reached both services)",
          TIMEOUT,
          () -> export(services, bobs, stack, pipeline, bobsDir),
          run -> run.code() != 0 && run.err().contains("/outputs/") && run.err().contains("403"));
      assertThat(Files.exists(bobsDir.resolve("part-00000.parquet"))).isFalse();
      Path file = Files.writeString(home.resolve("a-file"), "x");
      CliRun notADirectory = export(services, token, stack, pipeline, file);
      assertThat(notADirectory.code()).isNotZero();
      assertThat(notADirectory.err()).contains("not a directory");
    }
  }

  private static CliRun export(
      TuskServices services,
      String token,
      LocalStack stack,
      String pipeline,
      Path dir,
      String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "export",
                pipeline,
                "--parquet",
                dir.toString(),
                "--bootstrap",
                stack.bootstrapServers(),
                "--registry-url",
                stack.registryUrl()));
    args.addAll(List.of(more));
    return CliRun.tusk(
        services.commitUrl(), services.lineageUrl(), token, args.toArray(String[]::new));
  }

  /** The file has one row per expected member, lineage columns and JSON fields equal. */
  private static void assertMatches(Path file, Map<String, Output> expected) throws Exception {
    Map<String, Map<String, String>> rows = new TreeMap<>();
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement sql = db.createStatement();
        ResultSet rs = sql.executeQuery("SELECT * FROM '" + file + "' ORDER BY member")) {
      ResultSetMetaData meta = rs.getMetaData();
      while (rs.next()) {
        Map<String, String> row = new LinkedHashMap<>();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
          row.put(meta.getColumnName(c), rs.getString(c));
        }
        rows.put(row.get("member"), row);
      }
    }
    assertThat(rows.keySet()).containsExactlyElementsOf(expected.keySet());
    for (Map.Entry<String, Output> entry : expected.entrySet()) {
      Output output = entry.getValue();
      Map<String, String> row = rows.get(entry.getKey());
      assertThat(row)
          .as(entry.getKey())
          .containsEntry("job_id", output.getJobId())
          .containsEntry("commit_id", output.getCommitId())
          .containsEntry("global_id", output.getGlobalId())
          .containsEntry("output_hash", output.getOutputHash());
      JsonNode content = JSON.readTree(text(output));
      assertThat(content.isObject()).as("member-summary writes a JSON object").isTrue();
      for (Iterator<Map.Entry<String, JsonNode>> it = content.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        JsonNode value = field.getValue();
        String column =
            row.containsKey(field.getKey() + "_") ? field.getKey() + "_" : field.getKey();
        if (value.isNull()) {
          assertThat(row.get(column)).as(column).isNull();
        } else if (value.isTextual() || value.isIntegralNumber() || value.isBoolean()) {
          assertThat(row.get(column)).as(entry.getKey() + "." + column).isEqualTo(value.asText());
        } else if (value.isNumber()) {
          assertThat(Double.parseDouble(row.get(column))).isEqualTo(value.doubleValue());
        } else {
          assertThat(JSON.readTree(row.get(column))).as(column).isEqualTo(value);
        }
      }
    }
  }

  private static String text(Output output) {
    ByteBuffer data = output.getData().duplicate();
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
