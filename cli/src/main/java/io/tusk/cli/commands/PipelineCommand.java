package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
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

/** {@code tusk pipeline ...}: create, update, delete, list, inspect pipelines. */
@Command(
    name = "pipeline",
    description = "Create, update, delete, list and inspect pipelines (specs in YAML or JSON).",
    subcommands = {
      PipelineCommand.Create.class,
      PipelineCommand.Update.class,
      PipelineCommand.Delete.class,
      PipelineCommand.List.class,
      PipelineCommand.Inspect.class
    })
public final class PipelineCommand {

  /** The spec file's text and its media type (by extension: .yaml/.yml or JSON). */
  static String[] document(Path file) {
    try {
      String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
      String type =
          name.endsWith(".yaml") || name.endsWith(".yml") ? "application/yaml" : "application/json";
      return new String[] {Files.readString(file), type};
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** {@code tusk pipeline create -f spec.yaml}. */
  @Command(name = "create", description = "Create a pipeline from a spec file.")
  static final class Create implements Callable<Integer> {
    @Mixin Api api;

    @Option(
        names = {"-f", "--file"},
        required = true,
        description = "The spec (YAML or JSON).")
    Path file;

    @Override
    public Integer call() {
      String[] doc = document(file);
      Api.printJson(
          System.out, api.client().commitSendDocument("POST", "/pipelines", doc[0], doc[1]));
      return 0;
    }
  }

  /** {@code tusk pipeline update -f spec.yaml}. */
  @Command(
      name = "update",
      description =
          "Update a pipeline; unless the spec keeps outputs, every member is reprocessed.")
  static final class Update implements Callable<Integer> {
    @Mixin Api api;

    @Option(
        names = {"-f", "--file"},
        required = true,
        description = "The new spec (YAML or JSON); its name says which pipeline.")
    Path file;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "<pipeline>",
        description = "The pipeline (default: the spec's name).")
    String name;

    @Override
    public Integer call() {
      String[] doc = document(file);
      String pipeline = name != null ? name : specName(doc[0]);
      Api.printJson(
          System.out,
          api.client()
              .commitSendDocument(
                  "PUT", "/pipelines/" + TuskClient.segment(pipeline), doc[0], doc[1]));
      return 0;
    }

    private static String specName(String text) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("(?m)^\\s*\"?name\"?\\s*:\\s*\"?([a-z0-9_-]+)\"?")
              .matcher(text);
      if (!m.find()) {
        throw new IllegalArgumentException(
            "the spec has no name; give the pipeline as an argument");
      }
      return m.group(1);
    }
  }

  /** {@code tusk pipeline delete NAME}. */
  @Command(name = "delete", description = "Delete a pipeline.")
  static final class Delete implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", paramLabel = "<pipeline>", description = "The pipeline.")
    String name;

    @Override
    public Integer call() {
      api.client().commitSend("DELETE", "/pipelines/" + TuskClient.segment(name), null);
      System.out.println("deleted pipeline " + name);
      return 0;
    }
  }

  /** {@code tusk pipeline list}. */
  @Command(name = "list", description = "List pipelines.")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Override
    public Integer call() {
      api.print(api.client().commitGet("/pipelines"), List::print);
      return 0;
    }

    private static void print(JsonNode list) {
      System.out.printf(
          "%-24s %-24s %-8s %-7s %s%n", "NAME", "INPUT", "BRANCH", "VERSION", "TRANSFORM");
      for (JsonNode p : list) {
        JsonNode t = p.path("transform");
        java.util.List<String> cmd = new java.util.ArrayList<>();
        t.path("cmd").forEach(part -> cmd.add(part.asText()));
        String transform =
            t.path("kind").asText()
                + " "
                + (cmd.isEmpty() ? t.path("name").asText() : String.join(" ", cmd));
        System.out.printf(
            "%-24s %-24s %-8s %-7s %s%n",
            p.path("name").asText(),
            p.path("inputRepo").asText(),
            Api.text(p.path("inputBranch")),
            Api.text(p.path("version")),
            transform);
      }
    }
  }

  /** {@code tusk pipeline inspect NAME}. */
  @Command(name = "inspect", description = "Show a pipeline's spec, version and update policy.")
  static final class Inspect implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", paramLabel = "<pipeline>", description = "The pipeline.")
    String name;

    @Override
    public Integer call() {
      api.printCommitGet("/pipelines/" + TuskClient.segment(name));
      return 0;
    }
  }
}
