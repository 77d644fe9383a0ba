package io.tusk.cli.completion;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.cli.commands.Api;
import io.tusk.cli.context.ContextConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tusk __complete repos|pipelines|branches REPO|contexts}: the names the completion script
 * offers, one a line, from the commit service (contexts: from the config file). Hidden: only the
 * script calls it. It must never get in the way of typing, so it prints nothing and succeeds when
 * the services are unreachable, slow or refuse the token, and gives up after {@link
 * #BUDGET_MILLIS}.
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

  /**
   * Seconds the services get instead of {@link #BUDGET_MILLIS} (the completion script then waits
   * that plus 2 s for the whole command): for slow links and busy machines.
   */
  public static final String TIMEOUT_VARIABLE = "TUSK_COMPLETION_TIMEOUT";

  /** What can be completed. */
  public enum Kind {
    repos,
    pipelines,
    branches,
    contexts
  }

  @Mixin Api api;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", description = "repos, pipelines, branches or contexts.")
  Kind kind;

  @Parameters(index = "1", arity = "0..1", description = "The repo (for branches).")
  String repo;

  @Override
  public void run() {
    List<String> names;
    try {
      names = CompletableFuture.supplyAsync(this::names).get(budgetMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) { // unreachable, slow, 401, bad config: no names, no noise
      return;
    }
    names.forEach(spec.commandLine().getOut()::println);
    spec.commandLine().getOut().flush();
  }

  private static long budgetMillis() {
    String seconds = System.getenv(TIMEOUT_VARIABLE);
    if (seconds != null && seconds.strip().matches("[1-9][0-9]{0,3}")) {
      return Long.parseLong(seconds.strip()) * 1000;
    }
    return BUDGET_MILLIS;
  }

  private List<String> names() {
    if (kind == Kind.contexts) {
      return new ArrayList<>(
          ContextConfig.read(ContextConfig.path(System::getenv)).contexts().keySet());
    }
    TuskClient client = api.client();
    JsonNode list =
        switch (kind) {
          case repos -> client.commitGet("/repos");
          case pipelines -> client.commitGet("/pipelines");
          case contexts -> TuskClient.object(); // answered above, from the config file
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
