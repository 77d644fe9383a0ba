package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk rejected REPO [--commit C]}: rejected rows with their reasons, of every commit newest
 * first (paged over commits with {@code --before}), or of one commit (paged with {@code --after}).
 */
@Command(
    name = "rejected",
    description =
        "List a repo's rejected rows with their reasons: of every complete commit, newest first,"
            + " or of one commit with --commit. A page ends after --limit rows and says how to get"
            + " the next one.")
public final class RejectedCommand implements Callable<Integer> {
  /** Commits asked for per request while walking the history. */
  private static final int COMMITS_PER_PAGE = 50;

  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Option(
      names = "--commit",
      description = "Only the rows of this commit (any commit reference: ID, prefix, branch).")
  String commit;

  @Option(names = "--limit", defaultValue = "100", description = "Rows (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(
      names = "--after",
      description = "With --commit: the rows after this cursor (a page's `more` line names it).")
  String after;

  @Option(
      names = "--before",
      description = "Without --commit: only commits with a sequence below this one.")
  Long before;

  @Override
  public Integer call() {
    if (after != null && commit == null) {
      throw new IllegalArgumentException("--after pages within one commit: give --commit too");
    }
    TuskClient client = api.client();
    ObjectNode page = JsonNodeFactory.instance.objectNode().put("repo", repo);
    ArrayNode rows = page.putArray("rows");
    if (commit != null) {
      JsonNode answer = rejectedOf(client, commit, limit, after);
      answer.path("rows").forEach(r -> rows.add(withCommit(r, answer.path("commit"))));
      if (answer.hasNonNull("next")) {
        page.put("more", "--commit " + commit + " --after " + answer.path("next").asText());
      }
    } else {
      walkCommits(client, page, rows);
    }
    api.print(page, RejectedCommand::print);
    return 0;
  }

  /** Every complete commit with rejected rows, newest first, until {@code limit} rows. */
  private void walkCommits(TuskClient client, ObjectNode page, ArrayNode rows) {
    long below = before == null ? Long.MAX_VALUE : before;
    while (true) {
      JsonNode commits =
          client.commitGet(
              "/repos/"
                  + TuskClient.segment(repo)
                  + "/commits?limit="
                  + COMMITS_PER_PAGE
                  + (below == Long.MAX_VALUE ? "" : "&before=" + below));
      if (commits.isEmpty()) {
        return;
      }
      for (JsonNode c : commits) {
        long sequence = c.path("sequence").asLong();
        below = sequence;
        // A sealed commit's rejects are known once it is complete; it is listed then.
        if (c.path("stats").path("rejected").asLong(0) == 0) {
          continue;
        }
        String id = c.path("id").asText();
        String cursor = null;
        do {
          if (rows.size() == limit) {
            page.put(
                "more",
                (cursor == null ? "" : "--commit " + id + " --after " + cursor + ", then ")
                    + "--before "
                    + (cursor == null ? sequence + 1 : sequence));
            return;
          }
          JsonNode answer = rejectedOf(client, id, limit - rows.size(), cursor);
          answer.path("rows").forEach(r -> rows.add(withCommit(r, c.path("id"))));
          cursor = answer.hasNonNull("next") ? answer.path("next").asText() : null;
        } while (cursor != null);
      }
    }
  }

  private JsonNode rejectedOf(TuskClient client, String commitRef, int rows, String cursor) {
    return client.commitGet(
        "/repos/"
            + TuskClient.segment(repo)
            + "/rejected?limit="
            + rows
            + "&commit="
            + TuskClient.segment(commitRef)
            + (cursor == null ? "" : "&after=" + TuskClient.segment(cursor)));
  }

  private static JsonNode withCommit(JsonNode row, JsonNode commit) {
    return ((ObjectNode) row.deepCopy()).set("commit", commit);
  }

  private static void print(JsonNode page) {
    System.out.printf(
        "%-12s %-9s %-10s %-22s %-20s %s%n",
        "COMMIT", "PARTITION", "OFFSET", "REASON", "TABLE", "DETAIL");
    for (JsonNode r : page.path("rows")) {
      System.out.printf(
          "%-12s %-9s %-10s %-22s %-20s %s%n",
          Api.shortId(r.path("commit")),
          r.path("partition").asText(),
          r.path("offset").asText(),
          r.path("reason").asText(),
          Api.text(r.path("table")),
          Api.text(r.path("detail")));
    }
    if (page.hasNonNull("more")) {
      System.out.println(
          "more: tusk rejected " + page.path("repo").asText() + " " + page.path("more").asText());
    }
  }
}
