package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk lineage changes PIPELINE MEMBER}: what changed between two output versions. */
@Command(
    name = "changes",
    description =
        "What changed between two versions of a member's output: input rows added and removed,"
            + " and the output's fields.")
final class LineageChanges extends LineageQuery {
  /** Rows of added or removed inputs printed (the JSON answer lists all). */
  private static final int CHANGED_ROWS_SHOWN = 20;

  @Parameters(index = "0", description = "The pipeline.")
  String pipeline;

  @Parameters(index = "1", description = "The member key of the output.")
  String member;

  @Option(names = "--from", description = "The earlier version's job (default: the one before).")
  String from;

  @Option(names = "--to", description = "The later version's job (default: the latest).")
  String to;

  @Override
  JsonNode query(TuskClient client) {
    return client.outputChanges(pipeline, member, from, to);
  }

  @Override
  void print(PrintWriter out, JsonNode changes) {
    printChanges(out, changes);
  }

  /** Prints the changes between two output versions. */
  static void printChanges(PrintWriter out, JsonNode changes) {
    JsonNode from = changes.path("from");
    JsonNode to = changes.path("to");
    String member = changes.path("member").asText();
    String pipeline = changes.path("pipeline").asText();
    if (from.isObject()) {
      out.printf(
          "output %s/%s: job %s (commit %s) -> job %s (commit %s)%n",
          pipeline,
          member,
          from.path("jobId").asText(),
          from.path("commitId").asText(),
          to.path("jobId").asText(),
          to.path("commitId").asText());
    } else {
      out.printf(
          "output %s/%s: job %s (commit %s), its first version%n",
          pipeline, member, to.path("jobId").asText(), to.path("commitId").asText());
    }
    JsonNode inputs = changes.path("inputs");
    out.printf(
        "input rows: %,d added, %,d removed, %,d unchanged%n",
        inputs.path("added").size(),
        inputs.path("removed").size(),
        inputs.path("unchanged").asLong());
    printRows(out, "+", inputs.path("added"));
    printRows(out, "-", inputs.path("removed"));
    JsonNode output = changes.path("output");
    out.printf("output changed: %s%n", yesNo(output.path("changed")));
    JsonNode fields = output.path("fields");
    if (fields.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = fields.path("added").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        out.printf("  field added   %s: %s%n", field.getKey(), field.getValue());
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = fields.path("removed").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        out.printf("  field removed %s: %s%n", field.getKey(), field.getValue());
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = fields.path("changed").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        out.printf(
            "  field changed %s: %s -> %s%n",
            field.getKey(), field.getValue().path("before"), field.getValue().path("after"));
      }
    } else if (output.path("changed").asBoolean()) {
      // Not two JSON objects (text output, or no earlier version): the data as a whole.
      if (!output.path("before").isNull() && !output.path("before").isMissingNode()) {
        out.printf("  before: %s%n", data(output.path("before")));
      }
      out.printf("  after:  %s%n", data(output.path("after")));
    }
  }

  private static void printRows(PrintWriter out, String sign, JsonNode rows) {
    int shown = 0;
    for (JsonNode row : rows) {
      if (shown++ == CHANGED_ROWS_SHOWN) {
        out.printf("  ... %,d more (--json lists all)%n", rows.size() - CHANGED_ROWS_SHOWN);
        return;
      }
      out.printf(
          "  %s %s partition %s offset %s (table %s)%n",
          sign,
          row.path("topic").asText(),
          row.path("partition").asText(),
          row.path("offset").asText(),
          Api.text(row.path("table")));
    }
  }
}
