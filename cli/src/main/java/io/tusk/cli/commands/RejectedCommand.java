package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk rejected REPO [--commit C]}: rows that were rejected, with reasons. */
@Command(
    name = "rejected",
    description = "List a repo's rejected rows with their reasons (of one commit with --commit).")
public final class RejectedCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Option(
      names = "--commit",
      description = "Only the rows of this commit, any commit reference (default: the newest).")
  String commit;

  @Option(names = "--limit", defaultValue = "100", description = "Rows (default ${DEFAULT-VALUE}).")
  int limit;

  @Override
  public Integer call() {
    String query =
        "?limit=" + limit + (commit == null ? "" : "&commit=" + TuskClient.segment(commit));
    JsonNode rejected =
        api.client().commitGet("/repos/" + TuskClient.segment(repo) + "/rejected" + query);
    api.print(rejected, RejectedCommand::print);
    return 0;
  }

  private static void print(JsonNode rejected) {
    JsonNode rows = rejected.has("rows") ? rejected.path("rows") : rejected;
    System.out.printf(
        "%-9s %-10s %-22s %-20s %s%n", "PARTITION", "OFFSET", "REASON", "TABLE", "DETAIL");
    for (JsonNode r : rows) {
      System.out.printf(
          "%-9s %-10s %-22s %-20s %s%n",
          r.path("partition").asText(),
          r.path("offset").asText(),
          r.path("reason").asText(),
          Api.text(r.path("table")),
          Api.text(r.path("detail")));
    }
  }
}
