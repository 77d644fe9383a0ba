package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The paged subvenance walks of {@code tusk lineage}: every output version derived from a member
 * ({@link Member}) or from one row ({@link Row}), printed as one table with the next page's cursor.
 */
abstract class LineageSubvenance extends LineageQuery {
  @Mixin Paging paging;

  /** The line above the table: what the outputs were derived from. */
  abstract String heading(JsonNode page);

  @Override
  void print(PrintWriter out, JsonNode page) {
    out.println(heading(page));
    Table table =
        new Table(
            out,
            "%-5s %-24s %-16s %-32s %-32s %-12s %-7s %s%n",
            "DEPTH",
            "PIPELINE",
            "MEMBER",
            "JOB",
            "COMMIT",
            "GLOBAL",
            "REMOVED",
            "VIA");
    for (JsonNode o : page.path("outputs")) {
      JsonNode via = o.path("via");
      table.row(
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

  /** {@code tusk lineage subvenance REPO MEMBER}: outputs derived from a source member. */
  @Command(
      name = "subvenance",
      description =
          "Every output version derived from a member of a repo, breadth first across the"
              + " pipeline DAG.")
  static final class Member extends LineageSubvenance {
    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Parameters(index = "1", description = "The member key.")
    String member;

    @Override
    JsonNode query(TuskClient client) {
      return client.memberSubvenance(repo, member, paging.depth, paging.limit, paging.after);
    }

    @Override
    String heading(JsonNode page) {
      return String.format(
          "outputs derived from member %s of repo %s (depth <= %s):",
          member, repo, Api.text(page.path("depth")));
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
  static final class Row extends LineageSubvenance {
    @Parameters(index = "0", description = "The row's topic.")
    String topic;

    @Parameters(index = "1", description = "The row's partition.")
    int partition;

    @Parameters(index = "2", description = "The row's offset.")
    long offset;

    @Override
    JsonNode query(TuskClient client) {
      return client.rowSubvenance(
          topic, partition, offset, paging.depth, paging.limit, paging.after);
    }

    @Override
    String heading(JsonNode page) {
      return String.format(
          "outputs derived from %s partition %d offset %d (depth <= %s):",
          topic, partition, offset, Api.text(page.path("depth")));
    }
  }
}
