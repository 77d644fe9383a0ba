package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk lineage history PIPELINE MEMBER}: every version of a member's output. */
@Command(
    name = "history",
    description =
        "Every version of a member's output, newest first; IDs shortened to 12 characters unless"
            + " --full.")
final class LineageHistory extends LineageQuery {
  @Parameters(index = "0", description = "The pipeline.")
  String pipeline;

  @Parameters(index = "1", description = "The member key of the output.")
  String member;

  @Option(names = "--limit", description = "Versions per page (1..1000, default 100).")
  Integer limit;

  @Option(names = "--after", description = "Page cursor: the previous page's next (a job ID).")
  String after;

  @Option(names = "--full", description = "Print whole 32-character job and commit IDs.")
  boolean full;

  @Override
  JsonNode query(TuskClient client) {
    return client.outputHistory(pipeline, member, limit, after);
  }

  @Override
  void print(PrintWriter out, JsonNode page) {
    int width = full ? 32 : Api.SHORT_ID;
    Table table =
        new Table(
            out,
            "%-" + width + "s %-" + width + "s %-8s %-19s %-12s %7s %s%n",
            "JOB",
            "COMMIT",
            "STATE",
            "TIME (UTC)",
            "OUTPUT",
            "INPUTS",
            "REMOVED");
    for (JsonNode version : page.path("outputs")) {
      table.row(
          Api.id(version.path("jobId"), full),
          Api.id(version.path("commitId"), full),
          Api.text(version.path("job").path("state")),
          Api.time(version.path("timestamp")),
          Api.shortId(version.path("outputHash")),
          version.path("inputCount").asLong(),
          yesNo(version.path("removed")));
    }
    printNext(out, page);
  }
}
