package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.TuskClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk repo ...}: create, list, inspect repos, change and list their layouts. */
@Command(
    name = "repo",
    description = "Create, list and inspect repos; change their layouts.",
    subcommands = {
      RepoCommand.Create.class,
      RepoCommand.List.class,
      RepoCommand.Inspect.class,
      RepoCommand.Update.class,
      RepoCommand.History.class,
      RepoDeleteCommand.class
    })
public final class RepoCommand {

  /** {@code tusk repo create -f repo.json}. */
  @Command(
      name = "create",
      description = "Create a repo from a JSON spec (name, format, tables, partitions, trigger).")
  static final class Create implements Callable<Integer> {
    @Mixin Api api;

    @Option(
        names = {"-f", "--file"},
        required = true,
        description = "The repo spec (JSON).")
    Path file;

    @Override
    public Integer call() {
      Api.printJson(System.out, api.client().createRepo(read(file)));
      return 0;
    }
  }

  /** {@code tusk repo update -f repo.json}: a layout change from the repo's next commit on. */
  @Command(
      name = "update",
      description = {
        "Change a repo's layout from its next commit on: add tables, add columns at the end (with"
            + " \"defaults\" for older rows), widen column types, set op columns.",
        "The file is the repo's spec as for create (its name says which repo); unsafe changes"
            + " (dropping or reordering columns, changing the member or row key, narrowing a"
            + " type) are refused naming the change. Older commits keep their layout."
      })
  static final class Update implements Callable<Integer> {
    @Mixin Api api;

    @Option(
        names = {"-f", "--file"},
        required = true,
        description = "The repo spec with the new layout (JSON).")
    Path file;

    @Override
    public Integer call() {
      JsonNode spec = read(file);
      String name = spec.path("name").asText("");
      if (name.isEmpty()) {
        throw new IllegalArgumentException(file + " has no \"name\": which repo to update?");
      }
      JsonNode updated = api.client().commitSend("PUT", "/repos/" + TuskClient.segment(name), spec);
      api.print(updated, Update::print);
      return 0;
    }

    private static void print(JsonNode repo) {
      if (!repo.path("changed").asBoolean(true)) {
        System.out.printf(
            "repo %s: layout unchanged (version %d)%n",
            repo.path("name").asText(), repo.path("layoutVersion").asInt(1));
        return;
      }
      System.out.printf(
          "repo %s: layout version %d, read from commit sequence %d on%n",
          repo.path("name").asText(),
          repo.path("layoutVersion").asInt(1),
          repo.path("layoutStartSequence").asLong());
      for (JsonNode change : repo.path("layoutChanges")) {
        System.out.println("  " + change.asText());
      }
    }
  }

  /** {@code tusk repo history REPO}: the layout versions with the commit each starts at. */
  @Command(
      name = "history",
      description = "List a repo's layout versions, with the commit each starts at.")
  static final class History implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Override
    public Integer call() {
      api.print(
          api.client().commitGet("/repos/" + TuskClient.segment(repo) + "/layouts"),
          History::print);
      return 0;
    }

    private static void print(JsonNode answer) {
      System.out.printf("%-8s %-28s %-20s %s%n", "VERSION", "STARTS AT", "CHANGED", "CHANGES");
      for (JsonNode layout : answer.path("layouts")) {
        String start =
            layout.path("startSequence").asLong() <= 1
                ? "first commit"
                : "#"
                    + layout.path("startSequence").asLong()
                    + (layout.path("startCommit").isTextual()
                        ? " " + Api.shortId(layout.path("startCommit"))
                        : " (next)");
        java.util.List<String> changes = new java.util.ArrayList<>();
        layout.path("changes").forEach(c -> changes.add(c.asText()));
        System.out.printf(
            "%-8d %-28s %-20s %s%n",
            layout.path("version").asInt(),
            start,
            Api.time(layout.path("changedAt")),
            changes.isEmpty() ? "(created)" : String.join("; ", changes));
      }
    }
  }

  private static JsonNode read(Path file) {
    try {
      return new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** {@code tusk repo list}. */
  @Command(name = "list", description = "List repos.")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Override
    public Integer call() {
      api.print(api.client().commitGet("/repos"), List::print);
      return 0;
    }

    private static void print(JsonNode repos) {
      for (JsonNode r : repos) {
        System.out.printf(
            "%-24s %-6s %d tables, %d partitions%n",
            r.path("name").asText(),
            r.path("format").asText(),
            r.path("tables").size(),
            r.path("updatePartitions").asInt());
      }
    }
  }

  /** {@code tusk repo inspect NAME}. */
  @Command(name = "inspect", description = "Show a repo's spec.")
  static final class Inspect implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The repo.")
    String repo;

    @Override
    public Integer call() {
      api.printCommitGet("/repos/" + TuskClient.segment(repo));
      return 0;
    }
  }
}
