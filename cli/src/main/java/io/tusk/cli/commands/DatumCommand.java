package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk datum ...}: a job's datums. */
@Command(
    name = "datum",
    description = "List a job's datums, or restart its failed datums.",
    subcommands = {DatumCommand.List.class, DatumCommand.Restart.class})
public final class DatumCommand {

  /** {@code tusk datum list JOB [--state failed]}. */
  @Command(
      name = "list",
      description = "List a job's datums (processed ones; skipped datums are never run).")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The job.")
    String job;

    @Option(
        names = "--state",
        description = "Only datums in this state: success, failed, recovered.")
    String state;

    @Option(
        names = "--limit",
        defaultValue = "100",
        description = "Datums per page (default ${DEFAULT-VALUE}).")
    int limit;

    @Override
    public Integer call() {
      String query =
          "?limit=" + limit + (state == null ? "" : "&state=" + TuskClient.segment(state));
      JsonNode page =
          api.client().lineageGet("/jobs/" + TuskClient.segment(job) + "/datums" + query);
      api.print(page, List::print);
      return 0;
    }

    private static void print(JsonNode page) {
      System.out.printf(
          "%-16s %-10s %-8s %-12s %s%n", "MEMBER", "STATE", "ATTEMPTS", "DATUM", "ERROR");
      for (JsonNode d : page.path("datums")) {
        System.out.printf(
            "%-16s %-10s %-8s %-12s %s%n",
            d.path("member").asText(),
            d.path("state").asText(),
            d.path("attempts").asText(),
            Api.shortId(d.path("datumHash")),
            Api.text(d.path("error")));
      }
    }
  }

  /** {@code tusk datum restart JOB}. */
  @Command(name = "restart", description = "Run a job's failed datums again, into the same job.")
  static final class Restart implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The job.")
    String job;

    @Override
    public Integer call() {
      Api.printJson(
          System.out,
          api.client()
              .commitSend(
                  "POST", "/jobs/" + TuskClient.segment(job) + "/restart", TuskClient.object()));
      return 0;
    }
  }
}
