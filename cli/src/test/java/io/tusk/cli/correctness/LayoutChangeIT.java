package io.tusk.cli.correctness;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.CliRun;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A repo whose layout changes between two commits, through the CLI and the real services: a column
 * added with a default, a type widened and a table added take effect at the next commit; older
 * commits keep their columns; only members whose rows changed are processed, and the processor
 * reads them with the new layout; unsafe changes are refused naming the change.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class LayoutChangeIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldReadEachCommitWithItsLayoutWhenColumnsAndTablesAreAdded(LocalStack stack)
      throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "it-layout-" + suffix;
    String pipeline = "it-layout-p-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "layout-it-");
    try (TuskServices services =
            TuskServices.start(
                stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1);
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(
                KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "layout-it")
                    .producer("layout-it-" + suffix, null))) {
      TuskClient client = services.client();
      String token = services.auth().adminToken();
      // Given a claims repo (AMOUNT an int) and a pipeline echoing each member's PLAN values
      Path v1 =
          Files.writeString(
              home.resolve("v1.json"),
              spec(repo, "\"CLAIM_ID\", \"PERSON_ID\", \"AMOUNT\"", "", false));
      assertThat(cli(services, token, "repo", "create", "-f", v1.toString()).code()).isZero();
      ObjectNode p = TuskClient.object().put("name", pipeline).put("parallelism", 1);
      p.putObject("input").put("repo", repo);
      p.putObject("transform").put("java", PlanEcho.class.getName());
      client.createPipeline(p);

      // And a first commit of P1 (two claims), P2 and P3
      send(producer, repo, "claims", "c1,P1,10", "c2,P1,20", "c3,P2,30", "c4,P3,40");
      JsonNode commit1 = client.commit(repo);
      JsonNode job1 = jobOf(client, commit1, pipeline);
      assertThat(job1.path("processed").asLong()).isEqualTo(3);

      // When the layout gains PLAN (default basic), AMOUNT becomes a long and a labs table appears
      Path v2 =
          Files.writeString(
              home.resolve("v2.json"),
              spec(
                  repo,
                  "\"CLAIM_ID\", \"PERSON_ID\", \"AMOUNT\", \"PLAN\"",
                  "\"defaults\": {\"PLAN\": \"basic\"},",
                  true));
      CliRun update = cli(services, token, "repo", "update", "-f", v2.toString());

      // Then it is version 2 from the next commit on, listing its changes
      assertThat(update.code()).as(update.err()).isZero();
      assertThat(update.out())
          .contains("layout version 2, read from commit sequence 2 on")
          .contains("add column claims.PLAN (older rows: default 'basic')")
          .contains("widen claims.AMOUNT from int to long")
          .contains("add table labs [PERSON_ID, VALUE]");

      // And the same layout again changes nothing
      CliRun again = cli(services, token, "repo", "update", "-f", v2.toString());
      assertThat(again.out()).contains("layout unchanged (version 2)");

      // And an unsafe change is refused naming it, and changes nothing
      Path reordered =
          Files.writeString(
              home.resolve("reordered.json"),
              spec(repo, "\"PERSON_ID\", \"CLAIM_ID\", \"AMOUNT\"", "", false));
      CliRun refused = cli(services, token, "repo", "update", "-f", reordered.toString());
      assertThat(refused.code()).isNotZero();
      assertThat(refused.err()).contains("can only be added at the end");

      // When P1 gets a claim with a plan, P2 one in the old width, P4 a lab row, and it commits
      send(producer, repo, "claims", "c5,P1,50,gold", "c6,P2,60");
      send(producer, repo, "labs", "P4,1.5");
      JsonNode commit2 = client.commit(repo);
      JsonNode job2 = jobOf(client, commit2, pipeline);

      // Then only the three changed members are processed, with the new layout: older rows and
      // the old-width row read PLAN's default
      assertThat(job2.path("processed").asLong()).as(job2.toString()).isEqualTo(3);
      String job2Id = job2.path("id").asText();
      assertThat(output(client, pipeline, "P1", job2Id).toString())
          .isEqualTo("{\"member\":\"P1\",\"plans\":[\"basic\",\"basic\",\"gold\"],\"labs\":0}");
      assertThat(output(client, pipeline, "P2", job2Id).path("plans").toString())
          .isEqualTo("[\"basic\",\"basic\"]");
      assertThat(output(client, pipeline, "P4", job2Id).path("labs").asInt()).isEqualTo(1);
      // P3 keeps the output of the first job
      assertThat(client.output(pipeline, "P3").path("jobId").asText())
          .isEqualTo(job1.path("id").asText());

      // And a member as of the first commit shows the old columns, as of the second the new ones
      String id1 = commit1.path("id").asText();
      String id2 = commit2.path("id").asText();
      assertThat(columns(client, repo, "P1", id1))
          .containsExactly("CLAIM_ID", "PERSON_ID", "AMOUNT");
      assertThat(columns(client, repo, "P3", id2))
          .containsExactly("CLAIM_ID", "PERSON_ID", "AMOUNT", "PLAN");
      assertThat(
              member(client, repo, "P3", id2)
                  .path("rows")
                  .get(0)
                  .path("values")
                  .path("PLAN")
                  .asText())
          .isEqualTo("basic");

      // And the diff of the two commits lists the changed members only
      JsonNode diff = client.commitGet("/repos/" + repo + "/diff?from=" + id1 + "&to=" + id2);
      List<String> changed = new ArrayList<>();
      diff.path("members").forEach(m -> changed.add(m.path("member").asText()));
      assertThat(changed).containsExactly("P1", "P2", "P4");

      // And `tusk repo history` lists both versions, the second starting at the second commit
      CliRun history = cli(services, token, "repo", "history", repo);
      assertThat(history.code()).as(history.err()).isZero();
      List<String> lines = history.out().lines().toList();
      assertThat(lines).hasSize(3);
      assertThat(lines.get(1)).startsWith("1 ").contains("first commit").contains("(created)");
      assertThat(lines.get(2))
          .startsWith("2 ")
          .contains("#2 " + id2.substring(0, 12))
          .contains("add column claims.PLAN");
    }
  }

  private static String spec(String repo, String claimColumns, String defaults, boolean labs) {
    String widened = labs ? "long" : "int";
    return """
        {"name": "%s", "format": "csv", "partitions": 2, "tables": [
          {"name": "claims", "columns": [%s], "memberKey": "PERSON_ID", "rowKey": ["CLAIM_ID"],
           %s "columnTypes": {"AMOUNT": "%s"}}%s]}
        """
        .formatted(
            repo,
            claimColumns,
            defaults,
            widened,
            labs
                ? ", {\"name\": \"labs\", \"columns\": [\"PERSON_ID\", \"VALUE\"],"
                    + " \"memberKey\": \"PERSON_ID\"}"
                : "");
  }

  private static void send(
      KafkaProducer<byte[], byte[]> producer, String repo, String table, String... lines)
      throws Exception {
    for (String line : lines) {
      String member = table.equals("labs") ? line.split(",")[0] : line.split(",")[1];
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(
              TopicNames.updates(repo),
              member.getBytes(StandardCharsets.UTF_8),
              line.getBytes(StandardCharsets.UTF_8));
      record.headers().add(new RecordHeader(Headers.TABLE, Headers.bytes(table)));
      producer.send(record).get(30, TimeUnit.SECONDS);
    }
  }

  private static CliRun cli(TuskServices services, String token, String... args) {
    return CliRun.tusk(services.commitUrl(), services.lineageUrl(), token, args);
  }

  private static JsonNode jobOf(TuskClient client, JsonNode commit, String pipeline) {
    for (JsonNode job : commit.path("jobs")) {
      if (job.path("pipeline").asText().equals(pipeline)) {
        JsonNode ended = client.awaitJobEnd(job.path("jobId").asText(), TIMEOUT);
        assertThat(ended.path("state").asText()).as(ended.toString()).isEqualTo("SUCCESS");
        return ended;
      }
    }
    throw new AssertionError("no job of " + pipeline + " on commit " + commit);
  }

  /** The member's output by {@code jobId}, once the lineage service has indexed it. */
  private static JsonNode output(TuskClient client, String pipeline, String member, String jobId)
      throws Exception {
    JsonNode output =
        TuskClient.await(
            () -> client.output(pipeline, member),
            o -> o.path("jobId").asText().equals(jobId),
            TIMEOUT,
            "output of " + pipeline + "/" + member + " by job " + jobId);
    JsonNode data = output.path("data");
    return data.isTextual() ? JSON.readTree(data.asText()) : data;
  }

  private static JsonNode member(TuskClient client, String repo, String member, String at) {
    return client.commitGet("/repos/" + repo + "/members/" + member + "?at=" + at);
  }

  private static List<String> columns(TuskClient client, String repo, String member, String at) {
    List<String> columns = new ArrayList<>();
    member(client, repo, member, at)
        .path("rows")
        .get(0)
        .path("values")
        .fieldNames()
        .forEachRemaining(columns::add);
    return columns;
  }
}
