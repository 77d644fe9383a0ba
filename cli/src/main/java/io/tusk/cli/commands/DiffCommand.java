package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk diff REPO A B}: members added, changed, removed between two commits. */
@Command(
    name = "diff",
    description =
        "Members added, changed and removed between two commits (with --member: that member's rows).")
public final class DiffCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Parameters(
      index = "1",
      description =
          "From commit (an ID, a unique prefix of 6+ characters, a branch, or branch~N / branch^).")
  String from;

  @Parameters(index = "2", description = "To commit (any commit reference).")
  String to;

  @Option(
      names = "--member",
      description = "Show the rows added, replaced and removed for this member.")
  String member;

  @Option(
      names = "--limit",
      defaultValue = "100",
      description = "Members to list (default ${DEFAULT-VALUE}; counts cover all).")
  int limit;

  @Override
  public Integer call() {
    TuskClient client = api.client();
    String range = "?from=" + TuskClient.segment(from) + "&to=" + TuskClient.segment(to);
    String base = "/repos/" + TuskClient.segment(repo) + "/diff";
    if (member != null) {
      api.print(
          client.commitGet(base + "/" + TuskClient.segment(member) + range), this::printMember);
      return 0;
    }
    api.print(client.commitGet(base + range + "&limit=" + limit), DiffCommand::printMembers);
    return 0;
  }

  /** One member's rows added, replaced and removed. */
  private void printMember(JsonNode diff) {
    System.out.printf("member %s: %s%n", member, Api.text(diff.path("change")));
    diff.path("added").forEach(row -> System.out.println("  + " + row));
    diff.path("replaced")
        .forEach(
            pair ->
                System.out.println(
                    "  ~ " + pair.path("before") + "\n    -> " + pair.path("after")));
    diff.path("removed").forEach(row -> System.out.println("  - " + row));
  }

  /** The counts of changed members and the first page of them. */
  private static void printMembers(JsonNode diff) {
    System.out.printf(
        "%s..%s: %s added, %s changed, %s removed%n",
        Api.shortId(diff.path("from")),
        Api.shortId(diff.path("to")),
        diff.path("added").asText(),
        diff.path("changed").asText(),
        diff.path("removed").asText());
    for (JsonNode m : diff.path("members")) {
      System.out.printf("  %-8s %s%n", m.path("change").asText(), m.path("member").asText());
    }
    if (diff.hasNonNull("next")) {
      System.out.println("  ... (more members; --json shows the page cursor)");
    }
  }
}
