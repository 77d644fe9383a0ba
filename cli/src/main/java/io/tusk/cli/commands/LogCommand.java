package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk log REPO [--full]}: a repo's commits, newest first, with short IDs (as {@code git log
 * --oneline}; every command takes them back, README "Commit references").
 */
@Command(
    name = "log",
    description =
        "List a repo's commits, newest first, with the jobs they triggered. Commit IDs are"
            + " shortened to 12 characters (a unique prefix every command accepts) unless --full.")
public final class LogCommand implements Callable<Integer> {

  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Option(
      names = "--limit",
      defaultValue = "20",
      description = "Commits per page (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--before", description = "Page: commits with a lower sequence than this.")
  Long before;

  @Option(names = "--full", description = "Print whole 32-character commit and job IDs.")
  boolean full;

  @Override
  public Integer call() {
    String query = "?limit=" + limit + (before == null ? "" : "&before=" + before);
    JsonNode commits =
        api.client().commitGet("/repos/" + TuskClient.segment(repo) + "/commits" + query);
    api.print(commits, this::print);
    return 0;
  }

  private void print(JsonNode commits) {
    int width = full ? 32 : Api.SHORT_ID;
    String row = "%-5s %-" + width + "s %-" + width + "s %-19s %-9s %10s %9s %9s  %s%n";
    System.out.printf(
        row,
        "SEQ",
        "COMMIT",
        "PARENT",
        "TIME (UTC)",
        "STATE",
        "ROWS",
        "REJECTED",
        "CHANGED",
        "JOBS");
    for (JsonNode c : commits) {
      JsonNode stats = c.path("stats");
      StringBuilder jobs = new StringBuilder();
      for (JsonNode job : c.path("jobs")) {
        jobs.append(job.path("pipeline").asText()).append(':').append(id(job.path("jobId")));
        if (job.hasNonNull("state")) {
          jobs.append('(').append(job.path("state").asText()).append(')');
        }
        jobs.append(' ');
      }
      System.out.printf(
          row,
          c.path("sequence").asLong(),
          id(c.path("id")),
          id(c.path("parent")),
          Api.time(c.path("createdAt")),
          Api.text(c.path("state")),
          stats.isObject() ? stats.path("rows").asText() : "-",
          stats.isObject() ? stats.path("rejected").asText() : "-",
          stats.isObject() ? stats.path("changedMembers").asText() : "-",
          jobs.toString().trim());
    }
  }

  private String id(JsonNode id) {
    return full ? Api.text(id) : Api.shortId(id);
  }
}
