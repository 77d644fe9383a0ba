package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.CliRun;
import io.tusk.cli.CompletionShell;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.TuskServices;
import io.tusk.commit.CommitService;
import io.tusk.commit.CommitServiceConfig;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.partition.PartitionService;
import io.tusk.partition.PartitionServiceConfig;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import io.tusk.testfixtures.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code tusk put} against the real broker, the commit service (for the repo's spec and the seal)
 * and the partition service: a CSV file and a JSON-lines file go into one CSV repo, keyed by
 * member, and the commit counts their rows and the one bad line.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class PutCommandIT {
  private static final int CSV_ROWS = 300;
  private static final int JSON_ROWS = 40;

  @Test
  void shouldLoadCsvAndJsonLinesFilesKeyedByMemberWhenPutIntoARepo(
      LocalStack stack, @TempDir Path dir) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "it-put-" + suffix;
    Map<String, String> env = env(stack, "it-put-" + suffix, dir);
    try (CommitService commits = CommitService.start(CommitServiceConfig.from(env));
        PartitionService partitions = PartitionService.start(PartitionServiceConfig.from(env))) {
      String commitUrl = "http://127.0.0.1:" + commits.port();
      TuskClient client = new TuskClient(commitUrl, commitUrl, TestAuth.shared().adminToken());
      // Given a CSV repo created through the commit service
      client.createRepo(
          new ObjectMapper()
              .readTree(
                  """
                  {"name": "%s", "format": "csv", "partitions": 3, "tables": [{"name": "claims",
                   "columns": ["PERSON_ID", "CLAIM_ID", "AMOUNT"], "memberKey": "PERSON_ID",
                   "rowKey": ["CLAIM_ID"]}]}
                  """
                      .formatted(repo)));

      // And a CSV file (header line, rows of 100 members, one line with an unbalanced quote)
      // and a JSON-lines file of other members
      StringBuilder csv = new StringBuilder("PERSON_ID,CLAIM_ID,AMOUNT\n");
      for (int i = 0; i < CSV_ROWS; i++) {
        csv.append(member(i % 100)).append(",c").append(i).append(',').append(i).append('\n');
      }
      csv.append("\"P999,broken,1\n");
      Path csvFile = Files.writeString(dir.resolve("claims.csv"), csv);
      StringBuilder json = new StringBuilder();
      for (int i = 0; i < JSON_ROWS; i++) {
        json.append("{\"PERSON_ID\": \"")
            .append(member(200 + i))
            .append("\", \"CLAIM_ID\": \"j")
            .append(i)
            .append("\", \"AMOUNT\": 5}\n");
      }
      Path jsonFile = Files.writeString(dir.resolve("more-claims.jsonl"), json);

      // When both are put
      assertThat(put(repo, csvFile, commitUrl, stack)).isZero();
      assertThat(put(repo, jsonFile, commitUrl, stack)).isZero();

      // Then the updates topic holds every line once (the header line is not sent), keyed by
      // member, with table and format headers
      List<ConsumerRecord<byte[], byte[]>> records =
          readToEnd(stack, suffix, TopicNames.updates(repo));
      assertThat(records).hasSize(CSV_ROWS + 1 + JSON_ROWS);
      assertThat(records)
          .filteredOn(r -> "json".equals(Headers.text(r.headers(), Headers.FORMAT)))
          .hasSize(JSON_ROWS)
          .allSatisfy(r -> assertThat(text(r.key())).startsWith("P2"));
      assertThat(records)
          .allSatisfy(r -> assertThat(Headers.text(r.headers(), Headers.TABLE)).isEqualTo("claims"))
          .filteredOn(r -> r.key() != null)
          .allSatisfy(r -> assertThat(text(r.value())).contains(text(r.key())));

      // And a commit sealed after them counts every row, and the broken line as rejected
      JsonNode commit = client.commit(repo);
      JsonNode done =
          client.awaitCommitComplete(repo, commit.path("id").asText(), Duration.ofSeconds(120));
      assertThat(done.path("stats").path("rows").asLong()).isEqualTo(CSV_ROWS + JSON_ROWS);
      assertThat(done.path("stats").path("rejected").asLong()).isEqualTo(1);
      assertThat(done.path("stats").path("members").asLong()).isEqualTo(100 + JSON_ROWS);

      // When two more bad lines come in a second commit, and a third commit has none
      Path bad =
          Files.writeString(dir.resolve("bad.csv"), "PERSON_ID,CLAIM_ID,AMOUNT\n\"P1,x\n\"P2,y\n");
      assertThat(put(repo, bad, commitUrl, stack)).isZero();
      String second = client.commit(repo).path("id").asText();
      client.awaitCommitComplete(repo, second, Duration.ofSeconds(120));
      String third = client.commit(repo).path("id").asText();
      client.awaitCommitComplete(repo, third, Duration.ofSeconds(120));
      String lineage = "http://127.0.0.1:1";
      String token = TestAuth.shared().adminToken();

      // Then `tusk rejected REPO` lists the rejects of every commit, newest first
      CliRun all = CliRun.tusk(commitUrl, lineage, token, "rejected", repo);
      assertThat(all.code()).as(all.err()).isZero();
      List<String> lines = all.out().lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines).hasSize(4);
      assertThat(lines.get(0)).startsWith("COMMIT");
      assertThat(lines.subList(1, 3))
          .allSatisfy(l -> assertThat(l).startsWith(second.substring(0, 12)));
      assertThat(lines.get(3)).startsWith(commit.path("id").asText().substring(0, 12));

      // And a page of 2 rows ends with how to get the next one, which has the last row
      CliRun page = CliRun.tusk(commitUrl, lineage, token, "rejected", repo, "--limit", "2");
      String more =
          page.out().lines().filter(l -> l.startsWith("more: ")).findFirst().orElseThrow();
      // (the next commit with rejects is the first: from its sequence down)
      long firstSequence = commit.path("sequence").asLong();
      assertThat(more)
          .isEqualTo("more: tusk rejected " + repo + " --before " + (firstSequence + 1));
      CliRun next =
          CliRun.tusk(
              commitUrl, lineage, token, "rejected", repo, "--before", "" + (firstSequence + 1));
      assertThat(next.out().lines().skip(1).toList())
          .singleElement()
          .satisfies(l -> assertThat(l).startsWith(commit.path("id").asText().substring(0, 12)));

      // And one row of the second commit, by branch reference, pages within the commit
      CliRun one =
          CliRun.tusk(
              commitUrl, lineage, token, "rejected", repo, "--commit", "master^", "--limit", "1");
      assertThat(one.out()).contains("more: tusk rejected " + repo + " --commit master^ --after ");

      // And bash completes the repo's name and its branch's from the running commit service
      CompletionShell bash =
          CompletionShell.in(
              Files.createDirectories(dir.resolve("completion")),
              Map.of(
                  "TUSK_COMMIT_URL",
                  commitUrl,
                  "TUSK_TOKEN",
                  TestAuth.shared().adminToken(),
                  // a busy test machine is slower than a TAB press should be
                  "TUSK_COMPLETION_TIMEOUT",
                  "20"));
      assertThat(bash.complete("tusk", "put", repo.substring(0, 9)).replies()).contains(repo);
      assertThat(bash.complete("tusk", "branch", "move", repo, "ma").replies())
          .containsExactly("master");
    }
  }

  private static int put(String repo, Path file, String commitUrl, LocalStack stack) {
    return new CommandLine(new PutCommand())
        .execute(
            repo,
            file.toString(),
            "--commit-url",
            commitUrl,
            "--token",
            TestAuth.shared().adminToken(),
            "--bootstrap",
            stack.bootstrapServers());
  }

  private static Map<String, String> env(LocalStack stack, String instance, Path dir) {
    Map<String, String> env = new HashMap<>();
    env.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), stack.bootstrapServers());
    env.put(KafkaSettings.REGISTRY_URL.name(), stack.registryUrl());
    env.put(KafkaSettings.SYSTEM_PARTITIONS.name(), "3");
    // The partition service's application ID is fixed, so on this JVM's shared broker its
    // changelogs are shared with the other ITs' services (TuskServices): their task count, the
    // most member partitions of any by-member topic, must agree, or whichever IT runs second
    // fails with "internal topic ... has invalid partitions".
    env.put("TUSK_MEMBER_PARTITIONS", Integer.toString(TuskServices.MEMBER_PARTITIONS));
    env.put(KafkaSettings.INSTANCE_ID.name(), instance);
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.put("TUSK_STATE_DIR", dir.resolve("state").toString());
    env.putAll(TestAuth.shared().env());
    return env;
  }

  private static List<ConsumerRecord<byte[], byte[]>> readToEnd(
      LocalStack stack, String suffix, String topic) {
    KafkaSettings settings = KafkaSettings.of(stack.bootstrapServers(), "", "it-put-" + suffix);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("it-put-reader-" + suffix, null))) {
      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
      return TopicReader.readToEnd(consumer, Duration.ofSeconds(60));
    }
  }

  private static String member(int m) {
    return String.format("P%03d", m);
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
