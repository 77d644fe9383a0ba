package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk lineage global ID}: a source commit and everything it caused downstream. */
@Command(
    name = "global",
    description =
        "A global ID's state, and its commits and jobs across the pipeline DAG, oldest first;"
            + " IDs shortened to 12 characters unless --full.")
final class LineageGlobal extends LineageQuery {
  @Parameters(
      index = "0",
      description = "The global ID (a source commit's ID, or a unique prefix of a commit ID).")
  String globalId;

  @Option(names = "--full", description = "Print whole 32-character job and commit IDs.")
  boolean full;

  @Override
  JsonNode query(TuskClient client) {
    globalId = client.globalIdOf(globalId);
    return client.global(globalId);
  }

  @Override
  void print(PrintWriter out, JsonNode global) {
    out.printf("global ID %s: %s%n", globalId, Api.text(global.path("state")));
    out.printf("commits:%n");
    Table commits =
        new Table(
            out,
            "  %-" + width() + "s %-24s %5s %-19s %s%n",
            "COMMIT",
            "REPO",
            "SEQ",
            "TIME (UTC)",
            "SOURCE JOB");
    for (JsonNode c : global.path("commits")) {
      commits.row(
          Api.id(c.path("id"), full),
          c.path("repo").asText(),
          Api.text(c.path("sequence")),
          Api.time(c.path("createdAt")),
          c.hasNonNull("sourceJob") ? Api.id(c.path("sourceJob"), full) : "-");
    }
    out.printf("jobs:%n");
    Table jobs =
        new Table(
            out,
            "  %-" + width() + "s %-24s %-8s %-" + width() + "s %-19s %s%n",
            "JOB",
            "PIPELINE",
            "STATE",
            "COMMIT",
            "CREATED (UTC)",
            "DATUMS");
    for (JsonNode j : global.path("jobs")) {
      jobs.row(
          Api.id(j.path("id"), full),
          j.path("pipeline").asText(),
          j.path("state").asText(),
          Api.id(j.path("commitId"), full),
          Api.time(j.path("createdAt")),
          String.format(
              "processed %,d skipped %,d failed %,d",
              j.path("processed").asLong(), j.path("skipped").asLong(), j.path("failed").asLong()));
    }
  }

  private int width() {
    return full ? 32 : Api.SHORT_ID;
  }
}
