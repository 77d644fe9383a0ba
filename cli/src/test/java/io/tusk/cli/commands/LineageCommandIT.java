package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.CliRun;
import io.tusk.cli.TuskClient;
import io.tusk.cli.bench.NoopTransform;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tusk lineage ...} against the real services: a tiny repo, a per-member pipeline and a
 * second stage reading its outputs, two commits (the second adds a row to one member), then every
 * lineage subcommand run in-process as a user runs it, checked against the rows this test produced
 * and the jobs, commits and output positions the services and Kafka reported. The second stage
 * reads the first stage's outputs, so provenance is followed upstream and subvenance downstream
 * across both stages.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class LineageCommandIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final String FIRST_DATE = "2024-01-02";

  /** A row this test produced and where Kafka put it. */
  private record Sent(String member, String line, String topic, int partition, long offset) {}

  /** Where Kafka holds a record. */
  private record Position(String topic, int partition, long offset) {}

  /** What one run of the CLI printed. */
  private String commitUrl;

  private String lineageUrl;
  private String token;

  @Test
  void shouldTraceOutputsBackToRowsAndRowsForwardToOutputsWhenAskedThroughTheCli(LocalStack stack)
      throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "it-lineage-" + suffix;
    String summaries = "it-summary-" + suffix;
    String second = "it-noop-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "lineage-it-");
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1)) {
      commitUrl = services.commitUrl();
      lineageUrl = services.lineageUrl();
      token = services.auth().adminToken();
      TuskClient client = services.client();
      KafkaSettings settings =
          KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "lineage-it-" + suffix);

      // Given a repo of events, a per-member summary pipeline and a second stage over its outputs
      createRepoAndPipelines(client, repo, summaries, second);

      // And a first commit of two rows for M1 and one for M2, then a second adding one row to M1
      List<Sent> first =
          produce(
              settings,
              repo,
              List.of(
                  "1,M1,claim,100001,2024-01-02,10.00",
                  "2,M1,drug,100002,2024-01-03,5.50",
                  "3,M2,claim,100003,2024-01-04,7.25"));
      String commit1 = commitAndSettle(client, repo, summaries, second);
      List<Sent> update = produce(settings, repo, List.of("4,M1,procedure,100004,2024-02-01,2.00"));
      String commit2 = commitAndSettle(client, repo, summaries, second);
      Sent added = update.get(0);

      JsonNode global1 = client.global(commit1);
      JsonNode global2 = client.global(commit2);
      String summaryJob1 = jobOf(global1, summaries);
      String summaryJob2 = jobOf(global2, summaries);
      String secondJob1 = jobOf(global1, second);
      String secondJob2 = jobOf(global2, second);
      String outputCommit2 = commitOfJob(global2, secondJob2);
      String derivedRepo = TopicNames.derivedRepo(summaries, "first");
      // Where the second version of M1's summary is, as Kafka has it: the row the second stage read
      Position summaryM1 = outputPosition(settings, summaries, "M1", summaryJob2);
      // The lineage indexes are fed by the output topics through repartition topics, so they may
      // trail the jobs' end: wait until every version is there.
      awaitVersions(client, summaries, "M1", 2);
      awaitVersions(client, summaries, "M2", 1);
      awaitVersions(client, second, FIRST_DATE, 2);

      // When provenance is asked of M1's summary, with the rows' content
      CliRun provenance = tusk("provenance", summaries, "M1", "--content");

      // Then the tree names its job and input commit, then each of M1's source rows (and none of
      // M2's) with its content
      assertThat(provenance.code()).as(provenance.err()).isZero();
      assertThat(provenance.out())
          .contains("output " + summaries + "/M1 hash ")
          .contains("job " + summaryJob2 + " SUCCESS")
          .contains("input commit " + commit2 + " of repo " + repo)
          .contains("input rows: 3")
          .contains("content: " + added.line())
          .doesNotContain("M2");
      for (Sent row : rowsOf(first, update, "M1")) {
        assertThat(provenance.out()).containsPattern(rowLine(row));
      }

      // When provenance of the second stage's output is asked two levels deep
      CliRun downstream = tusk("provenance", second, FIRST_DATE, "--depth", "2");

      // Then it names its job and the output commit it read, then its one input row, the first
      // stage's output for M1, and under that row the upstream node: that output's job, input
      // commit and source rows
      assertThat(downstream.code()).as(downstream.err()).isZero();
      assertThat(downstream.out())
          .contains("output " + second + "/" + FIRST_DATE + " hash ")
          .contains("job " + secondJob2 + " SUCCESS")
          .contains("input commit " + outputCommit2 + " of repo " + derivedRepo)
          .contains("input rows: 1\n")
          .containsPattern(
              "\n {4}"
                  + Pattern.quote(summaryM1.topic())
                  + " +"
                  + summaryM1.partition()
                  + " +"
                  + summaryM1.offset()
                  + " +output\n {6}upstream:\n {6}output "
                  + Pattern.quote(summaries + "/M1")
                  + " hash \\S+\n {8}written to "
                  + Pattern.quote(summaryM1.topic())
                  + " partition "
                  + summaryM1.partition()
                  + " offset "
                  + summaryM1.offset()
                  + " ")
          .containsPattern("\n {8}job " + summaryJob2 + " SUCCESS")
          .containsPattern("\n {8}input commit " + commit2 + " of repo " + repo + " ")
          .containsPattern("\n {8}input rows: 3\n")
          .containsPattern("\n {10}" + rowLine(added) + "\n");

      // And --json gives the row's upstream object: the first stage's output and its job
      JsonNode tree =
          JSON.readTree(tusk("provenance", second, FIRST_DATE, "--depth", "2", "--json").out());
      assertThat(tree.path("job").path("id").asText()).isEqualTo(secondJob2);
      assertThat(tree.path("inputs")).hasSize(1);
      JsonNode row = tree.path("inputs").get(0);
      assertThat(row.path("topic").asText()).isEqualTo(summaryM1.topic());
      assertThat(row.path("partition").asInt()).isEqualTo(summaryM1.partition());
      assertThat(row.path("offset").asLong()).isEqualTo(summaryM1.offset());
      JsonNode upstream = row.path("upstream");
      assertThat(upstream.path("pipeline").asText()).isEqualTo(summaries);
      assertThat(upstream.path("member").asText()).isEqualTo("M1");
      assertThat(upstream.path("truncated").asBoolean()).isFalse();
      assertThat(upstream.path("job").path("id").asText()).isEqualTo(summaryJob2);
      assertThat(upstream.path("output").path("jobId").asText()).isEqualTo(summaryJob2);
      assertThat(upstream.path("commit").path("id").asText()).isEqualTo(commit2);
      assertThat(upstream.path("inputCount").asInt()).isEqualTo(3);

      // And the tree of the output as of the first commit lists only that commit's rows
      CliRun asOf = tusk("provenance", summaries, "M1", "--at", commit1);
      assertThat(asOf.code()).as(asOf.err()).isZero();
      assertThat(asOf.out())
          .contains("job " + summaryJob1 + " SUCCESS")
          .contains("input rows: 2")
          .doesNotContainPattern(rowLine(added));

      // And --limit bounds the rows printed per node and says how many were left out
      CliRun limited = tusk("provenance", summaries, "M1", "--limit", "1");
      assertThat(limited.out()).contains("input rows: 3").contains("... 2 more");
      assertThat(lines(limited.out(), Pattern.quote(added.topic()))).hasSize(1);

      // And --json prints the service's answer
      CliRun json = tusk("provenance", summaries, "M1", "--json");
      JsonNode node = JSON.readTree(json.out());
      assertThat(node.path("job").path("id").asText()).isEqualTo(summaryJob2);
      assertThat(node.path("inputCount").asInt()).isEqualTo(3);

      // When the subvenance of M1 is asked, both versions of its summary are listed at depth 1
      CliRun subvenance = tusk("subvenance", repo, "M1");
      assertThat(subvenance.code()).as(subvenance.err()).isZero();
      assertThat(subvenance.out())
          .containsPattern("(?m)^1\\s+" + summaries + "\\s+M1\\s+" + summaryJob2 + "\\s+" + commit2)
          .containsPattern("(?m)^1\\s+" + summaries + "\\s+M1\\s+" + summaryJob1 + "\\s+" + commit1)
          .doesNotContainPattern("(?m)^1\\s+" + summaries + "\\s+M2");

      // And two levels deep, the second stage's outputs follow at depth 2, each via the version of
      // M1's summary it read
      CliRun deep = tusk("subvenance", repo, "M1", "--depth", "2");
      assertThat(deep.code()).as(deep.err()).isZero();
      assertThat(deep.out())
          .containsPattern("(?m)^1\\s+" + summaries + "\\s+M1\\s+" + summaryJob2 + "\\s+" + commit2)
          .containsPattern(
              "(?m)^2\\s+"
                  + second
                  + "\\s+"
                  + FIRST_DATE
                  + "\\s+"
                  + secondJob2
                  + "\\s+"
                  + outputCommit2
                  + "\\s.*\\s"
                  + Pattern.quote(summaries + "/M1 (job " + summaryJob2.substring(0, 12) + ")")
                  + "$")
          .containsPattern(
              "(?m)^2\\s+"
                  + second
                  + "\\s+"
                  + FIRST_DATE
                  + "\\s+"
                  + secondJob1
                  + "\\s.*\\s"
                  + Pattern.quote(summaries + "/M1 (job " + summaryJob1.substring(0, 12) + ")")
                  + "$");
      assertThat(lines(deep.out(), "^2\\s")).hasSize(2);

      // And a page of one says where the next page starts
      assertThat(tusk("subvenance", repo, "M1", "--limit", "1").out()).contains("--after 1");

      // And the row added in the second commit was read only by the second versions
      CliRun rowSubvenance =
          tusk(
              "row-subvenance",
              added.topic(),
              Integer.toString(added.partition()),
              Long.toString(added.offset()));
      assertThat(rowSubvenance.code()).as(rowSubvenance.err()).isZero();
      assertThat(rowSubvenance.out()).contains(summaryJob2).doesNotContain(summaryJob1);

      // When the history of M1's summary is asked, newest first, a page at a time
      CliRun history = tusk("history", summaries, "M1");
      assertThat(history.code()).as(history.err()).isZero();
      // (job IDs shortened to 12 characters unless --full)
      assertThat(history.out())
          .containsPattern("(?s)" + shortId(summaryJob2) + " .*\n" + shortId(summaryJob1) + " ")
          .doesNotContain(summaryJob2);
      assertThat(tusk("history", summaries, "M1", "--full").out())
          .containsPattern("(?s)" + summaryJob2 + ".*\n" + summaryJob1);
      assertThat(tusk("history", summaries, "M1", "--limit", "1").out())
          .contains("--after " + summaryJob2)
          .doesNotContain(summaryJob1);

      // And the changes between its versions: one input row added, the counts and total changed
      CliRun changes = tusk("changes", summaries, "M1");
      assertThat(changes.code()).as(changes.err()).isZero();
      assertThat(changes.out())
          .contains("job " + summaryJob1 + " (commit " + commit1 + ") -> job " + summaryJob2)
          .contains("input rows: 1 added, 0 removed, 2 unchanged")
          .containsPattern(
              "\\+ "
                  + Pattern.quote(added.topic())
                  + " partition "
                  + added.partition()
                  + " offset "
                  + added.offset())
          .contains("output changed: yes")
          .contains("field changed total: \"15.50\" -> \"17.50\"");

      // And M2, untouched by the second commit, has one version only
      assertThat(tusk("changes", summaries, "M2").out())
          .contains("its first version")
          .contains("input rows: 1 added, 0 removed, 0 unchanged");

      // When the global ID of the second commit is asked
      CliRun global = tusk("global", commit2);
      assertThat(global.code()).as(global.err()).isZero();
      // Then it lists the source commit, the first stage's job, the output commit it sealed and
      // the second stage's job that read it
      // (IDs shortened to 12 characters unless --full)
      assertThat(global.out())
          .contains("global ID " + commit2 + ": success")
          .containsPattern("(?m)^ {2}" + shortId(commit2) + "\\s+" + repo + "\\s")
          .containsPattern(
              "(?m)^ {2}"
                  + shortId(outputCommit2)
                  + "\\s+"
                  + derivedRepo
                  + "\\s+.*\\s"
                  + shortId(summaryJob2)
                  + "$")
          .containsPattern(
              "(?m)^ {2}"
                  + shortId(summaryJob2)
                  + "\\s+"
                  + summaries
                  + "\\s+SUCCESS\\s+"
                  + shortId(commit2)
                  + "\\s")
          .containsPattern(
              "(?m)^ {2}"
                  + shortId(secondJob2)
                  + "\\s+"
                  + second
                  + "\\s+SUCCESS\\s+"
                  + shortId(outputCommit2)
                  + "\\s")
          .doesNotContain(summaryJob2);
      // (a prefix of the commit ID names the same global ID)
      assertThat(tusk("global", commit2.substring(0, 8)).out()).isEqualTo(global.out());
      assertThat(tusk("global", commit2, "--full").out())
          .containsPattern(
              "(?m)^ {2}" + summaryJob2 + "\\s+" + summaries + "\\s+SUCCESS\\s+" + commit2 + "\\s");

      // When a member has no output, the service's 404 is a one-line message and exit status 1
      CliRun unknown = tusk("provenance", summaries, "NOBODY");
      assertThat(unknown.code()).isEqualTo(1);
      assertThat(unknown.err()).startsWith("tusk: ").contains("404").doesNotContain("Exception");
      assertThat(unknown.out()).isEmpty();

      // When the stack's status is asked
      CliRun status = CliRun.tusk(commitUrl, lineageUrl, token, "status");

      // Then both services are UP, the repo shows master's head at the second commit (also its
      // last commit), and each pipeline its last job, successful, with no failed datum
      assertThat(status.code()).as(status.err()).isZero();
      assertThat(status.out())
          .containsPattern("(?m)^  commit +UP$")
          .containsPattern("(?m)^  lineage +UP$")
          .containsPattern(
              "(?m)^  "
                  + repo
                  + " +\\S+ +master@"
                  + commit2.substring(0, 12)
                  + " +\\d+ +"
                  + commit2.substring(0, 12)
                  + " ")
          .containsPattern(
              "(?m)^  "
                  + summaries
                  + " +"
                  + repo
                  + " +"
                  + summaryJob2.substring(0, 12)
                  + " +SUCCESS +\\d+ +\\d+ +\\d+ +0 +\\d+$")
          .containsPattern(
              "(?m)^  " + second + " +\\S+ +" + secondJob2.substring(0, 12) + " +SUCCESS ")
          // (status lists every pipeline on the shared broker: other ITs' may have failures)
          .doesNotContainPattern("(?m)^  " + summaries + " .*\\n +failed datum")
          .doesNotContainPattern("(?m)^  " + second + " .*\\n +failed datum");
      // And every row of the repo is committed: none waiting on master
      assertThat(status.out()).containsPattern("(?m)^  " + repo + " .* 0$");
      // And each pipeline's datum lag is read from its processors' group on its datum topic
      JsonNode statusJson =
          new ObjectMapper()
              .readTree(CliRun.tusk(commitUrl, lineageUrl, token, "status", "--json").out());
      for (String pipeline : List.of(summaries, second)) {
        JsonNode lag = named(statusJson.path("pipelines"), pipeline).path("datumLag");
        assertThat(lag.path("topic").asText()).isEqualTo(TopicNames.datums(pipeline));
        assertThat(lag.path("group").asText()).isEqualTo("tusk-processor-" + pipeline);
        assertThat(lag.path("partitions").size()).as(lag.toString()).isPositive();
        assertThat(lag.path("lag").isIntegralNumber()).as(lag.toString()).isTrue();
      }

      // When a third commit is sealed with `tusk commit --wait`
      produce(settings, repo, List.of("5,M2,drug,100005,2024-03-01,1.00"));
      // (status first shows that row waiting to be committed on master)
      CliRun beforeCommit = CliRun.tusk(commitUrl, lineageUrl, token, "status");
      assertThat(beforeCommit.out()).containsPattern("(?m)^  " + repo + " .* 1$");
      CliRun waited = CliRun.tusk(commitUrl, lineageUrl, token, "commit", repo, "--wait");

      // Then it ends once both stages' jobs it caused have ended, and lists them
      assertThat(waited.code()).as(waited.out() + waited.err()).isZero();
      assertThat(waited.out())
          .containsPattern("(?m)^" + summaries + "\\s+\\S+\\s+SUCCESS\\s+processed 1 ")
          .containsPattern("(?m)^" + second + "\\s+\\S+\\s+SUCCESS\\s")
          .endsWith("success");

      // And commits are named by references: M1 as of master~1 (commit2) and by a short ID
      CliRun log = CliRun.tusk(commitUrl, lineageUrl, token, "log", repo);
      assertThat(log.out()).contains(commit2.substring(0, 12) + " ").doesNotContain(commit2);
      CliRun byBranch =
          CliRun.tusk(
              commitUrl, lineageUrl, token, "member", repo, "M1", "--at", "master~1", "--json");
      CliRun byPrefix =
          CliRun.tusk(
              commitUrl,
              lineageUrl,
              token,
              "member",
              repo,
              "M1",
              "--at",
              commit2.substring(0, 8),
              "--json");
      assertThat(byBranch.code()).as(byBranch.err()).isZero();
      assertThat(byBranch.out()).contains(commit2).isEqualTo(byPrefix.out());

      // And jobs are named by unique prefixes too: the CLI and both services answer as for the
      // full ID (the lineage service for job, datums and logs, the commit service for restart)
      String jobPrefix = summaryJob2.substring(0, 8);
      for (List<String> command :
          List.of(List.of("job"), List.of("datum", "list"), List.of("logs"))) {
        CliRun byJobPrefix = cli(command, jobPrefix, "--json");
        assertThat(byJobPrefix.code()).as(command + ": " + byJobPrefix.err()).isZero();
        assertThat(byJobPrefix.out())
            .as("tusk %s by prefix", command)
            .contains(summaryJob2)
            .isEqualTo(cli(command, summaryJob2, "--json").out());
      }
      assertThat(client.lineageGet("/jobs/" + jobPrefix))
          .isEqualTo(client.lineageGet("/jobs/" + summaryJob2));
      CliRun restart = cli(List.of("datum", "restart"), jobPrefix);
      assertThat(restart.code()).isEqualTo(1);
      assertThat(restart.err()).contains("409").contains(summaryJob2 + " has no failed datums");
      CliRun tooShort = cli(List.of("job"), summaryJob2.substring(0, 5));
      assertThat(tooShort.code()).isEqualTo(1);
      assertThat(tooShort.err()).contains("400").contains("too short");
    }
  }

  private void createRepoAndPipelines(
      TuskClient client, String repo, String summaries, String second) {
    client.createRepo(SyntheticTable.repoSpec(repo, 2));
    ObjectNode first = TuskClient.object().put("name", summaries).put("parallelism", 1);
    first.putObject("input").put("repo", repo);
    first.putObject("transform").put("java", "member-summary");
    client.createPipeline(first);
    ObjectNode next = TuskClient.object().put("name", second).put("parallelism", 1);
    // Keyed by the summary's first event date: M1's summaries (first event 2024-01-02 in both
    // versions) are the datum FIRST_DATE of the second stage.
    next.putObject("input").put("pipeline", summaries).put("memberKey", "first");
    next.putObject("transform").put("java", NoopTransform.class.getName());
    client.createPipeline(next);
  }

  /** Produces CSV lines keyed by their member, returning where each one went. */
  private static List<Sent> produce(KafkaSettings settings, String repo, List<String> lines)
      throws Exception {
    String topic = TopicNames.updates(repo);
    List<Sent> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("lineage-it-loader", null))) {
      for (String line : lines) {
        String member = line.split(",")[1];
        ProducerRecord<byte[], byte[]> record =
            new ProducerRecord<>(
                topic,
                member.getBytes(StandardCharsets.UTF_8),
                line.getBytes(StandardCharsets.UTF_8));
        record.headers().add(new RecordHeader(Headers.TABLE, Headers.bytes(SyntheticTable.TABLE)));
        RecordMetadata metadata = producer.send(record).get(30, TimeUnit.SECONDS);
        sent.add(new Sent(member, line, topic, metadata.partition(), metadata.offset()));
      }
    }
    return sent;
  }

  private static void awaitVersions(
      TuskClient client, String pipeline, String member, int versions) {
    TuskClient.await(
        () -> client.outputHistory(pipeline, member, null, null),
        h -> h.path("outputs").size() == versions,
        TIMEOUT,
        versions + " versions of " + pipeline + "/" + member + " to be indexed");
  }

  /** Seals a commit and waits until both stages' jobs of its global ID have succeeded. */
  private static String commitAndSettle(
      TuskClient client, String repo, String summaries, String second) {
    String commitId = client.commit(repo).path("id").asText();
    JsonNode global =
        TuskClient.await(
            () -> client.global(commitId),
            g ->
                !"running".equals(g.path("state").asText())
                    && hasJob(g, summaries)
                    && hasJob(g, second),
            TIMEOUT,
            "both stages' jobs of commit " + commitId);
    assertThat(global.path("state").asText()).as(global.toString()).isEqualTo("success");
    return commitId;
  }

  private static JsonNode named(JsonNode items, String name) {
    for (JsonNode item : items) {
      if (name.equals(item.path("name").asText())) {
        return item;
      }
    }
    throw new AssertionError("no " + name + " in " + items);
  }

  private static boolean hasJob(JsonNode global, String pipeline) {
    return global.path("jobs").findValuesAsText("pipeline").contains(pipeline);
  }

  private static String jobOf(JsonNode global, String pipeline) {
    for (JsonNode job : global.path("jobs")) {
      if (pipeline.equals(job.path("pipeline").asText())) {
        return job.path("id").asText();
      }
    }
    throw new AssertionError("no job of " + pipeline + " in " + global);
  }

  private static String commitOfJob(JsonNode global, String jobId) {
    for (JsonNode job : global.path("jobs")) {
      if (jobId.equals(job.path("id").asText())) {
        return job.path("commitId").asText();
      }
    }
    throw new AssertionError("no job " + jobId + " in " + global);
  }

  /**
   * Where Kafka put the output {@code job} wrote for {@code member} on {@code pipeline}'s output
   * topic (read committed, from the beginning to the end: the job has ended).
   */
  private static Position outputPosition(
      KafkaSettings settings, String pipeline, String member, String job) {
    String topic = TopicNames.output(pipeline);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("lineage-it-reader", null))) {
      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
      List<Position> found = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> record : TopicReader.readToEnd(consumer, TIMEOUT)) {
        if (member.equals(new String(record.key(), StandardCharsets.UTF_8))
            && job.equals(Headers.text(record.headers(), Headers.JOB_ID))) {
          found.add(new Position(topic, record.partition(), record.offset()));
        }
      }
      assertThat(found).as("outputs of job " + job + " for " + member + " on " + topic).hasSize(1);
      return found.get(0);
    }
  }

  private static List<Sent> rowsOf(List<Sent> first, List<Sent> update, String member) {
    List<Sent> rows = new ArrayList<>();
    for (List<Sent> batch : List.of(first, update)) {
      batch.stream().filter(r -> r.member().equals(member)).forEach(rows::add);
    }
    return rows;
  }

  /** A row of a provenance tree's row table: topic, partition, offset, table. */
  private static String rowLine(Sent row) {
    return Pattern.quote(row.topic())
        + "\\s+"
        + row.partition()
        + "\\s+"
        + row.offset()
        + "\\s+"
        + SyntheticTable.TABLE;
  }

  private static List<String> lines(String text, String regex) {
    Pattern pattern = Pattern.compile(regex);
    return text.lines().filter(line -> pattern.matcher(line).find()).toList();
  }

  /** Runs {@code tusk COMMAND... ARGS} in this JVM against the test's services. */
  private CliRun cli(List<String> command, String... args) {
    List<String> all = new ArrayList<>(command);
    all.addAll(List.of(args));
    return CliRun.tusk(commitUrl, lineageUrl, token, all.toArray(String[]::new));
  }

  /** An ID as listings print it by default ({@code Api.SHORT_ID} characters). */
  private static String shortId(String id) {
    return id.substring(0, Api.SHORT_ID);
  }

  /** Runs {@code tusk lineage ARGS} in this JVM against the test's services. */
  private CliRun tusk(String... args) {
    List<String> all = new ArrayList<>(List.of("lineage"));
    all.addAll(List.of(args));
    return CliRun.tusk(commitUrl, lineageUrl, token, all.toArray(String[]::new));
  }
}
