package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk repo delete REPO [--force]}: deletes a repo, its topics, commits and branches. A
 * separate class so the repo command group only registers it.
 */
@Command(
    name = "delete",
    description = {
      "Delete a repo: its rows, members, rejected rows, commits and branches.",
      "Refused while pipelines read the repo (they are named) unless --force; a forced delete"
          + " leaves those pipelines, whose next job fails naming the missing repo. A repo"
          + " created again under the name starts empty."
    })
final class RepoDeleteCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Option(
      names = "--force",
      description =
          "Delete even while pipelines read the repo (they stay, and fail their next job).")
  boolean force;

  @Override
  public Integer call() {
    JsonNode answer =
        api.client()
            .commitSend(
                "DELETE",
                "/repos/" + TuskClient.segment(repo) + (force ? "?force=true" : ""),
                null);
    api.print(
        answer,
        json -> {
          System.out.println("deleted repo " + repo);
          if (json != null && json.path("readers").size() > 0) {
            System.out.println("pipelines still reading it: " + json.path("readers"));
          }
        });
    return 0;
  }
}
