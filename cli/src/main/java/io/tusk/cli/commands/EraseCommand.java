package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk erase REPO MEMBER --reason TEXT}: forget a member everywhere (admins only), and
 * {@code tusk erase status|verify|list} for the erasure log.
 */
@Command(
    name = "erase",
    description =
        "Erase a member: an erasure commit removes its rows, every pipeline downstream removes its"
            + " outputs, every store forgets it (admins only). See README \"Erasure and"
            + " retention\".",
    subcommands = {EraseCommand.Status.class, EraseCommand.Verify.class, EraseCommand.List.class})
public final class EraseCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", arity = "0..1", description = "The repo.")
  String repo;

  @Parameters(index = "1", arity = "0..1", description = "The member key.")
  String member;

  @Option(
      names = "--reason",
      description = "Why (kept in the erasure log, e.g. a ticket: no personal data).")
  String reason;

  @Option(names = "--branch", description = "The branch to seal on (default master).")
  String branch;

  @Override
  public Integer call() {
    if (repo == null || member == null || reason == null || reason.isBlank()) {
      throw new IllegalArgumentException(
          "usage: tusk erase REPO MEMBER --reason TEXT (or tusk erase status|verify|list)");
    }
    api.print(api.client().erase(repo, member, reason, branch), EraseCommand::printRequest);
    return 0;
  }

  /** {@code tusk erase status REQUEST}. */
  @Command(
      name = "status",
      description =
          "An erasure's state, the jobs it caused and, per topic, by when no copy can remain.")
  static final class Status implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The erasure request ID.")
    String id;

    @Override
    public Integer call() {
      api.print(api.client().erasure(id), EraseCommand::printRequest);
      return 0;
    }
  }

  /** {@code tusk erase verify REQUEST MEMBER}. */
  @Command(
      name = "verify",
      description =
          "Scan every topic that could hold the member (its key is checked against the request"
              + " first) and wait for the result, recorded in the erasure log; exit 1 if found.")
  static final class Verify implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "The erasure request ID.")
    String id;

    @Parameters(index = "1", description = "The member key the request erased.")
    String member;

    @Option(
        names = "--timeout",
        description = "How long to wait for the scan, ISO-8601 (default PT30M).",
        defaultValue = "PT30M")
    Duration timeout;

    @Override
    public Integer call() {
      long started =
          api.client().verifyErasure(id, member).path("verification").path("checkedAt").asLong(0);
      // The scan runs in the commit service and records its result in the erasure log.
      JsonNode answer =
          TuskClient.await(
              () -> api.client().erasure(id),
              e -> e.path("verification").path("checkedAt").asLong(0) > started,
              timeout,
              "the verification scan of erasure " + id);
      api.print(answer, EraseCommand::printRequest);
      return answer.path("verification").path("found").asLong(1) == 0 ? 0 : 1;
    }
  }

  /** {@code tusk erase list [--repo R]}. */
  @Command(name = "list", description = "The erasure log, oldest first.")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Option(names = "--repo", description = "Only this repo's requests.")
    String repo;

    @Override
    public Integer call() {
      api.print(
          api.client().erasures(repo),
          answer -> {
            for (JsonNode e : answer.path("erasures")) {
              System.out.printf(
                  "%s  %-12s %-10s %s  %s  %s%n",
                  e.path("id").asText(),
                  e.path("repo").asText(),
                  e.path("state").asText(),
                  Api.text(e.path("requestedAtTime")),
                  e.path("requestedBy").asText(),
                  e.path("reason").asText());
            }
          });
      return 0;
    }
  }

  private static void printRequest(JsonNode e) {
    System.out.printf(
        "erasure %s: %s (repo %s, commit %s)%n",
        e.path("id").asText(),
        e.path("state").asText(),
        e.path("repo").asText(),
        Api.text(e.path("commitId")));
    System.out.printf(
        "requested by %s at %s: %s%n",
        e.path("requestedBy").asText(),
        Api.text(e.path("requestedAtTime")),
        e.path("reason").asText());
    for (JsonNode job : e.path("jobs")) {
      System.out.printf(
          "  job %s %-20s %s%n",
          Api.shortId(job.path("jobId")),
          job.path("pipeline").asText(),
          job.path("state").asText());
    }
    for (JsonNode place : e.path("places")) {
      System.out.printf(
          "  %-40s %-7s bound %-8s %s%n",
          place.path("topic").asText(),
          place.path("cleanup").asText(),
          Api.text(place.path("bound")),
          place.path("clear").asBoolean()
              ? "clear"
              : "clear by " + Api.text(place.path("clearByTime")));
    }
    JsonNode verification = e.path("verification");
    if (!verification.isMissingNode() && !verification.isNull()) {
      System.out.printf(
          "verified at %s: %d records scanned, %d found%s%n",
          Api.time(verification.path("checkedAt")),
          verification.path("recordsScanned").asLong(),
          verification.path("found").asLong(),
          verification.path("places").isEmpty() ? "" : " in " + verification.path("places"));
    }
  }
}
