package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tusk lineage ...}: the lineage service's provenance and subvenance queries (where an
 * output came from, what was derived from a member or row, an output's versions and what changed
 * between them, everything one source commit caused).
 *
 * <p>The subcommands print to picocli's output stream (System.out unless a caller redirects it), so
 * tests can capture what a user sees without swapping the JVM's standard output.
 */
@Command(
    name = "lineage",
    description = "Provenance and subvenance queries of the lineage service.",
    subcommands = {
      LineageCommand.Provenance.class,
      LineageCommand.Subvenance.class,
      LineageCommand.RowSubvenance.class,
      LineageCommand.History.class,
      LineageCommand.Changes.class,
      LineageCommand.Global.class
    })
public final class LineageCommand {
  /** Rows of added or removed inputs printed by {@code changes} (the JSON answer lists all). */
  private static final int CHANGED_ROWS_SHOWN = 20;

  /** {@code tusk lineage provenance PIPELINE MEMBER}: an output's sources, as a tree. */
  @Command(
      name = "provenance",
      description =
          "Where a member's output came from: its job, input commit and input rows, following rows"
              + " of upstream pipelines' outputs.")
  static final class Provenance implements Callable<Integer> {
    @Mixin Api api;
    @Spec CommandSpec spec;

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
    public Integer call() {
      JsonNode node = api.client().provenance(pipeline, member, at, depth, content, limit);
      PrintWriter out = spec.commandLine().getOut();
      if (api.json()) {
        Api.printJson(out, node);
      } else {
        printNode(out, node, "");
      }
      out.flush();
      return 0;
    }
  }

  /** {@code tusk lineage subvenance REPO MEMBER}: outputs derived from a source member. */
  @Command(
      name = "subvenance",
      description =
          "Every output version derived from a member of a repo, breadth first across the"
              + " pipeline DAG.")
  static final class Subvenance implements Callable<Integer> {
    @Mixin Api api;
    @Mixin Paging paging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Parameters(index = "1", description = "The member key.")
    String member;

    @Override
    public Integer call() {
      JsonNode page =
          api.client().memberSubvenance(repo, member, paging.depth, paging.limit, paging.after);
      PrintWriter out = spec.commandLine().getOut();
      if (api.json()) {
        Api.printJson(out, page);
      } else {
        out.printf(
            "outputs derived from member %s of repo %s (depth <= %s):%n",
            member, repo, Api.text(page.path("depth")));
        printSubvenance(out, page);
      }
      out.flush();
      return 0;
    }
  }

  /**
   * {@code tusk lineage row-subvenance TOPIC PARTITION OFFSET}: outputs derived from one row. A
   * subcommand of its own rather than a {@code --row} option of {@code subvenance}, so each has
   * plain positional parameters and picocli checks their count and types.
   */
  @Command(
      name = "row-subvenance",
      description =
          "Every output version derived from one row (of a repo's updates topic or of a"
              + " pipeline's output topic).")
  static final class RowSubvenance implements Callable<Integer> {
    @Mixin Api api;
    @Mixin Paging paging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "The row's topic.")
    String topic;

    @Parameters(index = "1", description = "The row's partition.")
    int partition;

    @Parameters(index = "2", description = "The row's offset.")
    long offset;

    @Override
    public Integer call() {
      JsonNode page =
          api.client()
              .rowSubvenance(topic, partition, offset, paging.depth, paging.limit, paging.after);
      PrintWriter out = spec.commandLine().getOut();
      if (api.json()) {
        Api.printJson(out, page);
      } else {
        out.printf(
            "outputs derived from %s partition %d offset %d (depth <= %s):%n",
            topic, partition, offset, Api.text(page.path("depth")));
        printSubvenance(out, page);
      }
      out.flush();
      return 0;
    }
  }

  /** Options of the paged subvenance walks. */
  static final class Paging {
    @Option(
        names = "--depth",
        description = "Levels of the DAG to walk (1 = outputs that read the source; default 10).")
    Integer depth;

    @Option(names = "--limit", description = "Outputs per page (1..1000, default 100).")
    Integer limit;

    @Option(names = "--after", description = "Page cursor: the previous page's next.")
    String after;
  }

  /** {@code tusk lineage history PIPELINE MEMBER}: every version of a member's output. */
  @Command(name = "history", description = "Every version of a member's output, newest first.")
  static final class History implements Callable<Integer> {
    @Mixin Api api;
    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "The pipeline.")
    String pipeline;

    @Parameters(index = "1", description = "The member key of the output.")
    String member;

    @Option(names = "--limit", description = "Versions per page (1..1000, default 100).")
    Integer limit;

    @Option(names = "--after", description = "Page cursor: the previous page's next (a job ID).")
    String after;

    @Override
    public Integer call() {
      JsonNode page = api.client().outputHistory(pipeline, member, limit, after);
      PrintWriter out = spec.commandLine().getOut();
      if (api.json()) {
        Api.printJson(out, page);
        out.flush();
        return 0;
      }
      out.printf(
          "%-32s %-32s %-8s %-19s %-12s %7s %s%n",
          "JOB", "COMMIT", "STATE", "TIME (UTC)", "OUTPUT", "INPUTS", "REMOVED");
      for (JsonNode version : page.path("outputs")) {
        out.printf(
            "%-32s %-32s %-8s %-19s %-12s %7d %s%n",
            version.path("jobId").asText(),
            version.path("commitId").asText(),
            Api.text(version.path("job").path("state")),
            Api.time(version.path("timestamp")),
            Api.shortId(version.path("outputHash")),
            version.path("inputCount").asLong(),
            yesNo(version.path("removed")));
      }
      printNext(out, page);
      out.flush();
      return 0;
    }
  }

  /** {@code tusk lineage changes PIPELINE MEMBER}: what changed between two output versions. */
  @Command(
      name = "changes",
      description =
          "What changed between two versions of a member's output: input rows added and removed,"
              + " and the output's fields.")
  static final class Changes implements Callable<Integer> {
    @Mixin Api api;
    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "The pipeline.")
    String pipeline;

    @Parameters(index = "1", description = "The member key of the output.")
    String member;

    @Option(names = "--from", description = "The earlier version's job (default: the one before).")
    String from;

    @Option(names = "--to", description = "The later version's job (default: the latest).")
    String to;

    @Override
    public Integer call() {
      JsonNode changes = api.client().outputChanges(pipeline, member, from, to);
      PrintWriter out = spec.commandLine().getOut();
      if (api.json()) {
        Api.printJson(out, changes);
      } else {
        printChanges(out, changes);
      }
      out.flush();
      return 0;
    }
  }

  /** {@code tusk lineage global ID}: a source commit and everything it caused downstream. */
  @Command(
      name = "global",
      description =
          "A global ID's state, and its commits and jobs across the pipeline DAG, oldest first.")
  static final class Global implements Callable<Integer> {
    @Mixin Api api;
    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "The global ID (a source commit's ID).")
    String globalId;

    @Override
    public Integer call() {
      JsonNode global = api.client().global(globalId);
      PrintWriter out = spec.commandLine().getOut();
      if (api.json()) {
        Api.printJson(out, global);
        out.flush();
        return 0;
      }
      out.printf("global ID %s: %s%n", globalId, Api.text(global.path("state")));
      out.printf("commits:%n");
      out.printf(
          "  %-32s %-24s %5s %-19s %s%n", "COMMIT", "REPO", "SEQ", "TIME (UTC)", "SOURCE JOB");
      for (JsonNode c : global.path("commits")) {
        out.printf(
            "  %-32s %-24s %5s %-19s %s%n",
            c.path("id").asText(),
            c.path("repo").asText(),
            Api.text(c.path("sequence")),
            Api.time(c.path("createdAt")),
            Api.text(c.path("sourceJob")));
      }
      out.printf("jobs:%n");
      out.printf(
          "  %-32s %-24s %-8s %-32s %-19s %s%n",
          "JOB", "PIPELINE", "STATE", "COMMIT", "CREATED (UTC)", "DATUMS");
      for (JsonNode j : global.path("jobs")) {
        out.printf(
            "  %-32s %-24s %-8s %-32s %-19s processed %,d skipped %,d failed %,d%n",
            j.path("id").asText(),
            j.path("pipeline").asText(),
            j.path("state").asText(),
            j.path("commitId").asText(),
            Api.time(j.path("createdAt")),
            j.path("processed").asLong(),
            j.path("skipped").asLong(),
            j.path("failed").asLong());
      }
      out.flush();
      return 0;
    }
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
    if (commit.isObject()) {
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
      out.printf("%s    %-32s %9s %12s  %s%n", indent, "TOPIC", "PARTITION", "OFFSET", "TABLE");
    }
    for (JsonNode row : rows) {
      out.printf(
          "%s    %-32s %9s %12s  %s%n",
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
    if (count > rows.size()) {
      out.printf("%s    ... %,d more (--limit shows more per node)%n", indent, count - rows.size());
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

  /** Prints a subvenance page as a table, with the cursor of the next page. */
  static void printSubvenance(PrintWriter out, JsonNode page) {
    out.printf(
        "%-5s %-24s %-16s %-32s %-32s %-12s %-7s %s%n",
        "DEPTH", "PIPELINE", "MEMBER", "JOB", "COMMIT", "GLOBAL", "REMOVED", "VIA");
    for (JsonNode o : page.path("outputs")) {
      JsonNode via = o.path("via");
      out.printf(
          "%-5s %-24s %-16s %-32s %-32s %-12s %-7s %s%n",
          o.path("depth").asText(),
          o.path("pipeline").asText(),
          o.path("member").asText(),
          o.path("jobId").asText(),
          o.path("commitId").asText(),
          Api.shortId(o.path("globalId")),
          yesNo(o.path("removed")),
          via.isObject()
              ? via.path("pipeline").asText()
                  + "/"
                  + via.path("member").asText()
                  + " (job "
                  + Api.shortId(via.path("jobId"))
                  + ")"
              : "-");
    }
    printNext(out, page);
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

  private static void printNext(PrintWriter out, JsonNode page) {
    if (page.hasNonNull("next")) {
      out.printf("... more: --after %s%n", page.path("next").asText());
    }
  }

  /** An output's data: text as it is, JSON as JSON. */
  private static String data(JsonNode data) {
    return data.isTextual() ? data.asText() : data.isMissingNode() ? "-" : data.toString();
  }

  private static String yesNo(JsonNode flag) {
    return flag.asBoolean() ? "yes" : "no";
  }
}
