package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk lineage history PIPELINE MEMBER}: every version of a member's output. */
@Command(name = "history", description = "Every version of a member's output, newest first.")
final class LineageHistory extends LineageQuery {
  @Parameters(index = "0", description = "The pipeline.")
  String pipeline;

  @Parameters(index = "1", description = "The member key of the output.")
  String member;

  @Option(names = "--limit", description = "Versions per page (1..1000, default 100).")
  Integer limit;

  @Option(names = "--after", description = "Page cursor: the previous page's next (a job ID).")
  String after;

  @Override
  JsonNode query(TuskClient client) {
    return client.outputHistory(pipeline, member, limit, after);
  }

  @Override
  void print(PrintWriter out, JsonNode page) {
    Table table =
        new Table(
            out,
            "%-32s %-32s %-8s %-19s %-12s %7s %s%n",
            "JOB",
            "COMMIT",
            "STATE",
            "TIME (UTC)",
            "OUTPUT",
            "INPUTS",
            "REMOVED");
    for (JsonNode version : page.path("outputs")) {
      table.row(
          version.path("jobId").asText(),
          version.path("commitId").asText(),
          Api.text(version.path("job").path("state")),
          Api.time(version.path("timestamp")),
          Api.shortId(version.path("outputHash")),
          version.path("inputCount").asLong(),
          yesNo(version.path("removed")));
    }
    printNext(out, page);
  }
}
