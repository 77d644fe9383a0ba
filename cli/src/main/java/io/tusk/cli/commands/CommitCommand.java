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
        "Seal a commit of a repo (the rows produced so far), starting its pipelines' jobs;"
            + " with --wait, follow them until they end.")
public final class CommitCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Option(
      names = "--branch",
      defaultValue = "master",
      description = "Branch whose head moves to the commit (default ${DEFAULT-VALUE}).")
  String branch;

  @Option(
      names = "--wait",
      description =
          "Then follow the jobs the commit started, and those they cause downstream, with live"
              + " progress until they end; exit 1 if one failed.")
  boolean await;

  @Mixin JobWait wait;

  @Option(names = "--full", description = "Print whole 32-character job IDs (with --wait).")
  boolean full;

  @Override
  public Integer call() {
    TuskClient client = api.client();
    JsonNode commit = client.seal(repo, branch);
    api.print(commit, this::print);
    if (!await) {
      return 0;
    }
    if (commit.path("jobs").isEmpty()) {
      System.out.println("no pipeline follows " + branch + ": no job to wait for");
      return 0;
    }
    String globalId =
        commit.hasNonNull("globalId")
            ? commit.path("globalId").asText()
            : commit.path("id").asText();
    JsonNode global = WaitCommand.awaitSettled(client, globalId, wait.timeout, JobBoard.onStderr());
    api.print(global, g -> WaitCommand.printJobs(g, full));
    return "success".equals(global.path("state").asText()) ? 0 : 1;
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
