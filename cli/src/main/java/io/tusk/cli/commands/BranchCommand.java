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

  /** The branch a subcommand changes: {@code REPO NAME}. */
  static final class BranchRef {
    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Parameters(index = "1", paramLabel = "<branch>", description = "The branch.")
    String name;

    /** The branch's path in the commit service's API. */
    String path() {
      return branches(repo) + "/" + TuskClient.segment(name);
    }
  }

  /** {@code tusk branch list REPO}. */
  @Command(name = "list", description = "List a repo's branches and their heads.")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Override
    public Integer call() {
      api.print(api.client().commitGet(branches(repo)), List::print);
      return 0;
    }

    private static void print(JsonNode list) {
      for (JsonNode b : list) {
        System.out.printf(
            "%-20s %-32s seq %s%n",
            b.path("name").asText(), Api.text(b.path("head")), Api.text(b.path("headSequence")));
      }
    }
  }

  /** {@code tusk branch create REPO NAME --at COMMIT}. */
  @Command(name = "create", description = "Create a branch at a commit.")
  static final class Create implements Callable<Integer> {
    @Mixin Api api;
    @Mixin BranchRef branch;

    @Option(
        names = "--at",
        required = true,
        description =
            "The commit the branch starts at (an ID, a unique prefix of 6+ characters, a branch, or branch~N / branch^).")
    String at;

    @Override
    public Integer call() {
      Api.printJson(
          System.out,
          api.client()
              .commitSend(
                  "POST",
                  branches(branch.repo),
                  TuskClient.object().put("name", branch.name).put("head", at)));
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
    @Mixin BranchRef branch;

    @Option(
        names = "--to",
        required = true,
        description = "The new head commit (any commit reference, e.g. master~2).")
    String to;

    @Override
    public Integer call() {
      Api.printJson(
          System.out,
          api.client().commitSend("PUT", branch.path(), TuskClient.object().put("head", to)));
      return 0;
    }
  }

  /** {@code tusk branch delete REPO NAME}. */
  @Command(
      name = "delete",
      description = "Delete a branch (not master, not while a pipeline follows it).")
  static final class Delete implements Callable<Integer> {
    @Mixin Api api;
    @Mixin BranchRef branch;

    @Override
    public Integer call() {
      api.client().commitSend("DELETE", branch.path(), null);
      System.out.println("deleted branch " + branch.name + " of " + branch.repo);
      return 0;
    }
  }
}
