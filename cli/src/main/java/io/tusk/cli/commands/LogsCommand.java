package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk logs JOB [--datum MEMBER]}: captured output of a job's datums. */
@Command(
    name = "logs",
    description = "Show the captured output (bounded per datum) of a job's datums.")
public final class LogsCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The job.")
  String job;

  @Option(names = "--datum", description = "Only this member's datum.")
  String member;

  @Option(
      names = "--limit",
      defaultValue = "50",
      description = "Datums (default ${DEFAULT-VALUE}).")
  int limit;

  @Override
  public Integer call() {
    TuskClient client = api.client();
    String base = "/jobs/" + TuskClient.segment(job);
    JsonNode logs =
        member == null
            ? client.lineageGet(base + "/logs?limit=" + limit)
            : client.lineageGet(base + "/datums/" + TuskClient.segment(member) + "/logs");
    api.print(logs, LogsCommand::print);
    return 0;
  }

  private static void print(JsonNode logs) {
    JsonNode entries = logs.has("logs") ? logs.path("logs") : logs.isArray() ? logs : null;
    if (entries == null) {
      System.out.printf("== %s%n%s%n", Api.text(logs.path("member")), Api.text(logs.path("log")));
      return;
    }
    for (JsonNode entry : entries) {
      System.out.printf(
          "== %s (%s)%n%s%n",
          Api.text(entry.path("member")),
          Api.text(entry.path("state")),
          Api.text(entry.path("log")));
    }
  }
}
