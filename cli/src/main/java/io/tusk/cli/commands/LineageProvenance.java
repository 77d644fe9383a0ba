package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk lineage provenance PIPELINE MEMBER}: an output's sources, as a tree. */
@Command(
    name = "provenance",
    description =
        "Where a member's output came from: its job, input commit and input rows, following rows"
            + " of upstream pipelines' outputs.")
final class LineageProvenance extends LineageQuery {
  @Parameters(index = "0", description = "The pipeline.")
  String pipeline;

  @Parameters(index = "1", description = "The member key of the output.")
  String member;

  @Option(
      names = "--at",
      description = "Input commit ID: the output as of that commit (default: the latest).")
  String at;

  @Option(names = "--depth", description = "Upstream levels to follow (0..10, default 10).")
  Integer depth;

  @Option(
      names = "--content",
      description = "Include each source row's content (read from Kafka) and upstream data.")
  boolean content;

  // The default keeps a terminal readable (a member can have thousands of rows); the service
  // still counts every row, so the tree says how many were left out.
  @Option(
      names = "--limit",
      defaultValue = "10",
      description = "Input rows per node (1..1000, default ${DEFAULT-VALUE}).")
  int limit;

  @Override
  JsonNode query(TuskClient client) {
    return client.provenance(pipeline, member, at, depth, content, limit);
  }

  @Override
  void print(PrintWriter out, JsonNode node) {
    printNode(out, node, "");
  }

  /** Prints a provenance node and, indented further, the upstream nodes of its rows. */
  static void printNode(PrintWriter out, JsonNode node, String indent) {
    JsonNode output = node.path("output");
    out.printf(
        "%soutput %s/%s hash %s%s%n",
        indent,
        node.path("pipeline").asText(),
        node.path("member").asText(),
        Api.text(output.path("outputHash")),
        output.path("removed").asBoolean() ? " (removed)" : "");
    JsonNode position = output.path("position");
    out.printf(
        "%s  written to %s partition %s offset %s at %s%n",
        indent,
        Api.text(position.path("topic")),
        Api.text(position.path("partition")),
        Api.text(position.path("offset")),
        Api.time(output.path("timestamp")));
    if (output.has("data")) {
      out.printf("%s  data: %s%n", indent, data(output.path("data")));
    }
    JsonNode job = node.path("job");
    if (job.isObject()) {
      out.printf(
          "%s  job %s %s (%s %s), created %s%n",
          indent,
          job.path("id").asText(),
          job.path("state").asText(),
          Api.text(job.path("kind")),
          Api.text(job.path("mode")),
          Api.time(job.path("createdAt")));
    } else {
      out.printf("%s  job %s (not indexed yet)%n", indent, Api.text(output.path("jobId")));
    }
    JsonNode commit = node.path("commit");
    if (node.path("repoDeleted").asBoolean()) {
      out.printf(
          "%s  input commit %s of repo %s (repo deleted)%n",
          indent, Api.text(output.path("commitId")), Api.text(node.path("repo")));
    } else if (commit.isObject()) {
      out.printf(
          "%s  input commit %s of repo %s (sequence %s)%n",
          indent,
          commit.path("id").asText(),
          commit.path("repo").asText(),
          Api.text(commit.path("sequence")));
    } else {
      out.printf(
          "%s  input commit %s of repo %s (not indexed yet)%n",
          indent, Api.text(output.path("commitId")), Api.text(node.path("repo")));
    }
    JsonNode rows = node.path("inputs");
    long count = node.path("inputCount").asLong(rows.size());
    out.printf("%s  input rows: %,d%n", indent, count);
    if (rows.size() > 0) {
      printRows(out, rows, indent);
    }
    if (count > rows.size()) {
      out.printf("%s    ... %,d more (--limit shows more per node)%n", indent, count - rows.size());
    }
  }

  /** The input rows of a node, each followed by its content and upstream node when given. */
  private static void printRows(PrintWriter out, JsonNode rows, String indent) {
    Table table =
        new Table(
            out, "%s    %-32s %9s %12s  %s%n", indent, "TOPIC", "PARTITION", "OFFSET", "TABLE");
    for (JsonNode row : rows) {
      table.row(
          indent,
          row.path("topic").asText(),
          row.path("partition").asText(),
          row.path("offset").asText(),
          Api.text(row.path("table")));
      if (row.has("content")) {
        out.printf("%s      content: %s%n", indent, content(row.path("content")));
      }
      if (row.has("upstream")) {
        printUpstream(out, row.path("upstream"), indent + "      ");
      }
    }
  }

  private static void printUpstream(PrintWriter out, JsonNode upstream, String indent) {
    if (upstream.isNull()) {
      out.printf("%supstream output not indexed yet%n", indent);
    } else if (upstream.path("truncated").asBoolean()) {
      out.printf(
          "%supstream output %s/%s hash %s (not expanded: --depth reached or node limit)%n",
          indent,
          upstream.path("pipeline").asText(),
          upstream.path("member").asText(),
          Api.text(upstream.path("output").path("outputHash")));
      if (upstream.path("output").has("data")) {
        out.printf("%s  data: %s%n", indent, data(upstream.path("output").path("data")));
      }
    } else {
      out.printf("%supstream:%n", indent);
      printNode(out, upstream, indent);
    }
  }

  private static String content(JsonNode content) {
    if (content.path("missing").asBoolean()) {
      return "(no longer in Kafka)";
    }
    String value = content.path("value").asText();
    // A CSV line ends with its line break; the tree prints one row per line.
    value = value.stripTrailing();
    return "base64".equals(content.path("encoding").asText()) ? "base64 " + value : value;
  }
}
