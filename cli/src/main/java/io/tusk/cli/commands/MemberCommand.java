package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk member REPO ID [--at COMMIT]}: a member's object as of a commit (time travel). */
@Command(
    name = "member",
    description = "Show a member's rows as of a commit (default: the newest).")
public final class MemberCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The repo.")
  String repo;

  @Parameters(index = "1", description = "The member key.")
  String member;

  @Option(
      names = "--at",
      description =
          "The commit to look at (an ID, a unique prefix of 6+ characters, a branch, or branch~N / branch^).")
  String at;

  @Override
  public Integer call() {
    String path =
        "/repos/"
            + TuskClient.segment(repo)
            + "/members/"
            + TuskClient.segment(member)
            + (at == null ? "" : "?at=" + TuskClient.segment(at));
    JsonNode object = api.client().commitGet(path);
    api.print(object, this::print);
    return 0;
  }

  private void print(JsonNode object) {
    System.out.printf(
        "member %s of %s: version of commit %s (sequence %s), hash %s, %d rows%n",
        member,
        repo,
        Api.text(object.path("commitId")),
        Api.text(object.path("sequence")),
        Api.shortId(object.path("hash")),
        object.path("rows").size());
    for (JsonNode row : object.path("rows")) {
      StringBuilder values = new StringBuilder();
      for (Iterator<Map.Entry<String, JsonNode>> it = row.path("values").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> value = it.next();
        values.append(value.getKey()).append('=').append(Api.text(value.getValue())).append(' ');
      }
      System.out.printf(
          "  %-22s p%s@%-8s %s%n",
          row.path("table").asText(),
          row.path("partition").asText(),
          row.path("offset").asText(),
          values.toString().trim());
    }
  }
}
