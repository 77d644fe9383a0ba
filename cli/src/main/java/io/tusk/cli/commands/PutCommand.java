package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.RowLoader;
import io.tusk.cli.TuskClient;
import io.tusk.cli.context.Connection;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk put REPO FILE}: loads a CSV or JSON-lines file into a repo's updates topic, one line
 * per record keyed by the member column, with a progress line on stderr and a summary at the end.
 * The repo's spec (tables, columns, member key) comes from the commit service; the rows go straight
 * to Kafka through an idempotent producer ({@code acks=all}), so retries never duplicate rows.
 * Nothing is committed: {@code tusk commit REPO} seals what was loaded.
 */
@Command(
    name = "put",
    description =
        "Load a CSV or JSON-lines file into a repo's updates topic, keyed by the member column.")
public final class PutCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Parameters(
      index = "1",
      description = "The file: CSV lines in the table's column order, or JSON lines.")
  Path file;

  @Option(
      names = "--table",
      description = "The table of the rows (default: the repo's default table).")
  String table;

  @Option(
      names = "--format",
      description =
          "csv or json (JSON lines); default from the file name: .json, .jsonl, .ndjson are json, others csv.")
  String format;

  @Option(
      names = "--member-column",
      description = "The column whose value keys each record (default: the table's member key).")
  String memberColumn;

  @Option(
      names = "--bootstrap",
      description =
          "Kafka bootstrap servers (default: env TUSK_BOOTSTRAP_SERVERS, else the current"
              + " context's, else "
              + Connection.LOCAL_BOOTSTRAP_SERVERS
              + ").")
  String bootstrap;

  @Override
  public Integer call() {
    // The flag, else the environment, else the current context, else the local stack's Kafka.
    bootstrap = api.connection(bootstrap).bootstrapServers();
    JsonNode spec = api.client().commitGet("/repos/" + TuskClient.segment(repo));
    if ("OUTPUT".equals(spec.path("format").asText())) {
      throw new IllegalArgumentException(
          "repo "
              + repo
              + " is derived from pipeline "
              + spec.path("sourcePipeline").asText()
              + ": its rows are that pipeline's outputs");
    }
    String tableName = table == null ? spec.path("defaultTable").asText() : table;
    JsonNode tableSpec = table(spec, tableName);
    List<String> columns = new ArrayList<>();
    tableSpec.path("columns").forEach(c -> columns.add(c.asText()));
    String member = memberColumn == null ? tableSpec.path("memberKey").asText() : memberColumn;
    FileRows.Format fileFormat =
        format == null
            ? FileRows.Format.of(file.getFileName().toString())
            : FileRows.Format.named(format);
    FileRows rows = new FileRows(fileFormat, tableName, columns, member);
    JsonNode updatesTopic = spec.path("updatesTopic");
    String topic = updatesTopic.isTextual() ? updatesTopic.asText() : TopicNames.updates(repo);

    long size = size(file);
    Progress progress = new Progress(System.err, size, System.console() != null, System::nanoTime);
    long start = System.nanoTime();
    FileRows.Summary summary;
    try (RowLoader loader = new RowLoader(new KafkaProducer<>(producer()), topic);
        InputStream in = Files.newInputStream(file)) {
      summary = rows.send(in, loader, progress);
      loader.flush();
      progress.finish(summary.rows(), size);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (KafkaException e) {
      throw new IllegalStateException(
          "cannot produce to " + topic + " at " + bootstrap + ": " + e.getMessage(), e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    print(System.out, summary, topic, tableName, member, fileFormat, seconds);
    return 0;
  }

  private Map<String, Object> producer() {
    // put sends bytes as they are in the file: no schema registry is involved. TUSK_KAFKA_*
    // settings (a secured cluster's credentials) reach its producer as they reach the services'.
    return KafkaSettings.of(bootstrap, "", "tusk-put")
        .withClientSettingsFrom(System.getenv())
        .loader("tusk-put-" + repo);
  }

  private JsonNode table(JsonNode spec, String name) {
    List<String> names = new ArrayList<>();
    for (JsonNode t : spec.path("tables")) {
      if (t.path("name").asText().equals(name)) {
        return t;
      }
      names.add(t.path("name").asText());
    }
    throw new IllegalArgumentException(
        "repo " + repo + " has no table " + name + " (tables: " + names + ")");
  }

  private static String count(long n, String noun) {
    return String.format("%,d %s%s", n, noun, n == 1 ? "" : "s");
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private void print(
      PrintStream out,
      FileRows.Summary summary,
      String topic,
      String tableName,
      String member,
      FileRows.Format fileFormat,
      double seconds) {
    if (api.json()) {
      ObjectNode json = TuskClient.object();
      json.put("repo", repo)
          .put("topic", topic)
          .put("table", tableName)
          .put("format", fileFormat.header())
          .put("rows", summary.rows())
          .put("skippedLines", summary.skipped())
          .put("rowsWithoutMember", summary.withoutMember())
          .put("seconds", seconds);
      Api.printJson(out, json);
      return;
    }
    out.printf(
        "Put %s into %s (table %s, %s) in %.1f s (%,.0f rows/s); %s skipped",
        count(summary.rows(), "row"),
        topic,
        tableName,
        fileFormat.header(),
        seconds,
        summary.rows() / Math.max(seconds, 1e-9),
        count(summary.skipped(), "line"));
    if (summary.withoutMember() > 0) {
      out.printf(
          "; %s without a readable %s (the service rejects them: tusk rejected %s)",
          count(summary.withoutMember(), "row"), member, repo);
    }
    out.println();
  }
}
