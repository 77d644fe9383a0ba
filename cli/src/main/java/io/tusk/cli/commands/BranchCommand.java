package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk branch ...}: a repo's branches. */
@Command(
    name = "branch",
    description = "List, create, move (rewind) and delete a repo's branches.",
    subcommands = {
      BranchCommand.List.class,
      BranchCommand.Create.class,
      BranchCommand.Move.class,
      BranchCommand.Delete.class
    })
public final class BranchCommand {

  private static String branches(String repo) {
    return "/repos/" + TuskClient.segment(repo) + "/branches";
  }

  /** {@code tusk branch list REPO}. */
  @Command(name = "list", description = "List a repo's branches and their heads.")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Override
    public Integer call() {
      JsonNode list = api.client().commitGet(branches(repo));
      if (api.json()) {
        Api.printJson(System.out, list);
        return 0;
      }
      for (JsonNode b : list) {
        System.out.printf(
            "%-20s %-32s seq %s%n",
            b.path("name").asText(), Api.text(b.path("head")), Api.text(b.path("headSequence")));
      }
      return 0;
    }
  }

  /** {@code tusk branch create REPO NAME --at COMMIT}. */
  @Command(name = "create", description = "Create a branch at a commit.")
  static final class Create implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Parameters(index = "1", description = "The new branch.")
    String name;

    @Option(names = "--at", required = true, description = "The commit the branch starts at.")
    String at;

    @Override
    public Integer call() {
      JsonNode branch =
          api.client()
              .commitSend(
                  "POST", branches(repo), TuskClient.object().put("name", name).put("head", at));
      Api.printJson(System.out, branch);
      return 0;
    }
  }

  /** {@code tusk branch move REPO NAME --to COMMIT}. */
  @Command(
      name = "move",
      description =
          "Move a branch's head (to an older commit: a rewind); pipelines following it run on the new head.")
  static final class Move implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Parameters(index = "1", description = "The branch.")
    String name;

    @Option(names = "--to", required = true, description = "The new head commit.")
    String to;

    @Override
    public Integer call() {
      JsonNode branch =
          api.client()
              .commitSend(
                  "PUT",
                  branches(repo) + "/" + TuskClient.segment(name),
                  TuskClient.object().put("head", to));
      Api.printJson(System.out, branch);
      return 0;
    }
  }

  /** {@code tusk branch delete REPO NAME}. */
  @Command(
      name = "delete",
      description = "Delete a branch (not master, not while a pipeline follows it).")
  static final class Delete implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Parameters(index = "1", description = "The branch.")
    String name;

    @Override
    public Integer call() {
      api.client().commitSend("DELETE", branches(repo) + "/" + TuskClient.segment(name), null);
      System.out.println("deleted branch " + name + " of " + repo);
      return 0;
    }
  }
}
