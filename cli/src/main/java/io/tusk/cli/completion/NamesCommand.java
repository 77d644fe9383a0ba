package io.tusk.cli.completion;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.cli.commands.Api;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tusk __complete repos|pipelines|branches REPO}: the names the completion script offers,
 * one a line, from the commit service. Hidden: only the script calls it. It must never get in the
 * way of typing, so it prints nothing and succeeds when the services are unreachable, slow or
 * refuse the token, and gives up after {@link #BUDGET_MILLIS}.
 */
@Command(
    name = NamesCommand.NAME,
    hidden = true,
    description = "Names for shell completion (used by the completion script).")
public final class NamesCommand implements Runnable {
  /** The command's name, as the completion script calls it. */
  public static final String NAME = "__complete";

  /** How long the services get to answer: a TAB press should not hang. */
  static final long BUDGET_MILLIS = 1200;

  /** What can be completed. */
  public enum Kind {
    repos,
    pipelines,
    branches
  }

  @Mixin Api api;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", description = "repos, pipelines or branches.")
  Kind kind;

  @Parameters(index = "1", arity = "0..1", description = "The repo (for branches).")
  String repo;

  @Override
  public void run() {
    List<String> names;
    try {
      names = CompletableFuture.supplyAsync(this::names).get(BUDGET_MILLIS, TimeUnit.MILLISECONDS);
    } catch (Exception e) { // unreachable, slow, 401, bad config: no names, no noise
      return;
    }
    names.forEach(spec.commandLine().getOut()::println);
    spec.commandLine().getOut().flush();
  }

  private List<String> names() {
    TuskClient client = api.client();
    JsonNode list =
        switch (kind) {
          case repos -> client.commitGet("/repos");
          case pipelines -> client.commitGet("/pipelines");
          case branches ->
              repo == null || repo.isBlank()
                  ? TuskClient.object()
                  : client.commitGet("/repos/" + TuskClient.segment(repo) + "/branches");
        };
    List<String> names = new ArrayList<>();
    for (JsonNode item : list) {
      String name = item.path("name").asText("");
      if (!name.isEmpty()) {
        names.add(name);
      }
    }
    return names;
  }
}
