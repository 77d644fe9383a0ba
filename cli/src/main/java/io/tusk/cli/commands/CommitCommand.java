package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk commit REPO}: seal the rows produced so far into a commit. */
@Command(
    name = "commit",
    description =
        "Seal a commit of a repo (the rows produced so far), starting its pipelines' jobs.")
public final class CommitCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Option(
      names = "--branch",
      defaultValue = "master",
      description = "Branch whose head moves to the commit (default ${DEFAULT-VALUE}).")
  String branch;

  @Override
  public Integer call() {
    JsonNode commit =
        api.client()
            .commitSend(
                "POST",
                "/repos/"
                    + TuskClient.segment(repo)
                    + "/commits?branch="
                    + TuskClient.segment(branch),
                TuskClient.object());
    api.print(commit, this::print);
    return 0;
  }

  private void print(JsonNode commit) {
    System.out.printf(
        "commit %s (sequence %d, %s offsets) on %s%n",
        commit.path("id").asText(),
        commit.path("sequence").asLong(),
        commit.path("rowCount").asText(),
        branch);
    for (JsonNode job : commit.path("jobs")) {
      System.out.printf(
          "  job %s of pipeline %s%n", job.path("jobId").asText(), job.path("pipeline").asText());
    }
  }
}
