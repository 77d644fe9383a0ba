package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tusk audit [--since TIME] [--limit N]}: the audit trail (admins only). */
@Command(
    name = "audit",
    description =
        "The audit trail, oldest first: every mutation, read of row content and denied request"
            + " (admins only).")
public final class AuditCommand implements Callable<Integer> {
  @Mixin Api api;

  @Option(
      names = "--since",
      description =
          "From this time: ISO-8601 (2026-12-04T09:00:00Z) or a duration back from now (PT1H);"
              + " default the last 24 hours.")
  String since;

  @Option(names = "--limit", description = "Most events (1..1000, default 100).")
  Integer limit;

  @Override
  public Integer call() {
    api.print(api.client().audit(sinceTime(since), limit), AuditCommand::print);
    return 0;
  }

  /** An ISO time as is, a duration as now minus it. */
  static String sinceTime(String since) {
    if (since == null || since.isBlank()) {
      return null;
    }
    if (since.startsWith("P") || since.startsWith("p")) {
      try {
        return Instant.now().minus(Duration.parse(since)).toString();
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("--since: not an ISO-8601 duration: " + since, e);
      }
    }
    return since;
  }

  private static void print(JsonNode page) {
    for (JsonNode e : page.path("events")) {
      System.out.printf(
          "%s %-16s %-24s %-15s %3d %-40s %s%s%n",
          e.path("time").asText(),
          e.path("service").asText(),
          e.path("principal").asText().isEmpty() ? "-" : e.path("principal").asText(),
          e.path("outcome").asText(),
          e.path("status").asInt(),
          e.path("action").asText(),
          Api.text(e.path("resource")),
          e.path("detail").isNull() || e.path("detail").isMissingNode()
              ? ""
              : "  " + e.path("detail").asText());
    }
    if (!page.path("next").isNull() && !page.path("next").isMissingNode()) {
      System.out.printf("more: --since %s%n", page.path("next").asText());
    }
  }
}
