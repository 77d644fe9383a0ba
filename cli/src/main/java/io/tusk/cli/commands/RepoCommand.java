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

/** {@code tusk repo ...}: create, list, inspect repos. */
@Command(
    name = "repo",
    description = "Create, list and inspect repos.",
    subcommands = {RepoCommand.Create.class, RepoCommand.List.class, RepoCommand.Inspect.class})
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
      JsonNode spec;
      try {
        spec = new ObjectMapper().readTree(Files.readString(file));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
      Api.printJson(System.out, api.client().createRepo(spec));
      return 0;
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
