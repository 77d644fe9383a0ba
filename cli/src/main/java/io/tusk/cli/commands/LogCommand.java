package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk log REPO}: a repo's commits, newest first. */
@Command(
    name = "log",
    description = "List a repo's commits, newest first, with the jobs they triggered.")
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

  @Override
  public Integer call() {
    String query = "?limit=" + limit + (before == null ? "" : "&before=" + before);
    JsonNode commits =
        api.client().commitGet("/repos/" + TuskClient.segment(repo) + "/commits" + query);
    api.print(commits, LogCommand::print);
    return 0;
  }

  private static void print(JsonNode commits) {
    System.out.printf(
        "%-5s %-32s %-12s %-19s %-9s %10s %9s %9s  %s%n",
        "SEQ", "COMMIT", "PARENT", "TIME (UTC)", "STATE", "ROWS", "REJECTED", "CHANGED", "JOBS");
    for (JsonNode c : commits) {
      JsonNode stats = c.path("stats");
      StringBuilder jobs = new StringBuilder();
      for (JsonNode job : c.path("jobs")) {
        jobs.append(job.path("pipeline").asText())
            .append(':')
            .append(Api.shortId(job.path("jobId")));
        if (job.hasNonNull("state")) {
          jobs.append('(').append(job.path("state").asText()).append(')');
        }
        jobs.append(' ');
      }
      System.out.printf(
          "%-5d %-32s %-12s %-19s %-9s %10s %9s %9s  %s%n",
          c.path("sequence").asLong(),
          c.path("id").asText(),
          Api.shortId(c.path("parent")),
          Api.time(c.path("createdAt")),
          Api.text(c.path("state")),
          stats.isObject() ? stats.path("rows").asText() : "-",
          stats.isObject() ? stats.path("rejected").asText() : "-",
          stats.isObject() ? stats.path("changedMembers").asText() : "-",
          jobs.toString().trim());
    }
  }
}
