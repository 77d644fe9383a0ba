package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code tusk status}: one screen of the whole stack from the services' endpoints: each service's
 * {@code /health}, every repo with its branch heads, last commit and the rows waiting to be
 * committed on master, every pipeline with its last job's state and counts, the lag of its datum
 * topic and the first failed datums. The waiting rows and the lag come from the commit service
 * ({@code /repos/{repo}/waiting}, {@code /pipelines/{p}/lag}), which reads the broker, so the CLI
 * needs no Kafka client. Exit 1 when a service is not healthy.
 */
@Command(
    name = "status",
    description =
        "One screen: the services' health, every repo (branch heads, last commit, rows waiting to"
            + " be committed on master), every pipeline (last job's state and counts, lag of its"
            + " datum topic, failed datums). Exit 1 if a service is not UP.")
public final class StatusCommand implements Callable<Integer> {
  /** Failed datums named per pipeline; the job's count covers the rest. */
  private static final int FAILED_SHOWN = 5;

  @Mixin Api api;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    TuskClient client = api.client();
    ObjectNode status = TuskClient.object();
    ObjectNode health = status.putObject("services");
    boolean commitUp = health(client, "commit", health);
    boolean lineageUp = health(client, "lineage", health);
    if (commitUp) {
      status.set("repos", repos(client));
      status.set("pipelines", pipelines(client, lineageUp));
    }
    PrintWriter out = spec.commandLine().getOut();
    if (api.json()) {
      Api.printJson(out, status);
    } else {
      print(out, status);
    }
    out.flush();
    return commitUp && lineageUp ? 0 : 1;
  }

  private static boolean health(TuskClient client, String service, ObjectNode into) {
    ObjectNode node = into.putObject(service);
    try {
      JsonNode answer =
          service.equals("commit") ? client.commitGet("/health") : client.lineageGet("/health");
      node.put("status", answer.path("status").asText("UP"));
    } catch (TuskClient.ApiError e) {
      node.put("status", "DOWN").put("error", e.getMessage());
    }
    return "UP".equals(node.path("status").asText());
  }

  /**
   * A commit service figure that one screen can do without: its error is shown in its place instead
   * of failing the whole status (a broker slow to answer, a caller without access).
   */
  private static JsonNode optional(TuskClient client, String path) {
    try {
      return client.commitGet(path);
    } catch (TuskClient.ApiError e) {
      return TuskClient.object().put("error", e.getMessage());
    }
  }

  private static List<JsonNode> list(JsonNode answer) {
    List<JsonNode> items = new ArrayList<>();
    answer.forEach(items::add);
    return items;
  }

  private static JsonNode repos(TuskClient client) {
    var repos = TuskClient.object().arrayNode();
    for (JsonNode spec : list(client.commitGet("/repos"))) {
      String name = spec.path("name").asText();
      String path = "/repos/" + TuskClient.segment(name);
      ObjectNode repo = repos.addObject().put("name", name);
      repo.put("format", spec.path("format").asText());
      var branches = repo.putArray("branches");
      for (JsonNode b : list(client.commitGet(path + "/branches"))) {
        branches.addObject().put("name", b.path("name").asText()).set("head", b.path("head"));
      }
      List<JsonNode> last = list(client.commitGet(path + "/commits?limit=1"));
      repo.set("lastCommit", last.isEmpty() ? null : last.get(0));
      repo.set("waiting", optional(client, path + "/waiting"));
    }
    return repos;
  }

  private static JsonNode pipelines(TuskClient client, boolean lineageUp) {
    var pipelines = TuskClient.object().arrayNode();
    for (JsonNode spec : list(client.commitGet("/pipelines"))) {
      String name = spec.path("name").asText();
      ObjectNode pipeline = pipelines.addObject().put("name", name);
      pipeline.put("input", spec.path("inputRepo").asText());
      pipeline.set("datumLag", optional(client, "/pipelines/" + TuskClient.segment(name) + "/lag"));
      if (!lineageUp) {
        continue;
      }
      JsonNode jobs =
          client.lineageGet("/jobs?pipeline=" + TuskClient.segment(name) + "&limit=1").path("jobs");
      if (jobs.isEmpty()) {
        continue;
      }
      JsonNode job = jobs.get(0);
      pipeline.set("lastJob", job);
      if (job.path("failed").asLong() > 0) {
        JsonNode failed =
            client.lineageGet(
                "/jobs/"
                    + TuskClient.segment(job.path("id").asText())
                    + "/datums?state=failed&limit="
                    + FAILED_SHOWN);
        pipeline.set("failedDatums", failed.path("datums"));
      }
    }
    return pipelines;
  }

  private static void print(PrintWriter out, JsonNode status) {
    out.println("SERVICES");
    status
        .path("services")
        .fields()
        .forEachRemaining(
            s ->
                out.printf(
                    "  %-8s %s%s%n",
                    s.getKey(),
                    s.getValue().path("status").asText(),
                    s.getValue().has("error") ? "  " + s.getValue().path("error").asText() : ""));
    if (!status.has("repos")) {
      out.println("(repos and pipelines need the commit service)");
      return;
    }
    out.println();
    out.println("REPOS");
    out.printf(
        "  %-24s %-6s %-36s %-5s %-12s %-9s %10s %9s %8s%n",
        "NAME", "FORMAT", "BRANCHES", "SEQ", "LAST COMMIT", "STATE", "ROWS", "REJECTED", "WAITING");
    for (JsonNode r : status.path("repos")) {
      List<String> heads = new ArrayList<>();
      r.path("branches")
          .forEach(b -> heads.add(b.path("name").asText() + "@" + Api.shortId(b.path("head"))));
      JsonNode c = r.path("lastCommit");
      out.printf(
          "  %-24s %-6s %-36s %-5s %-12s %-9s %10s %9s %8s%n",
          r.path("name").asText(),
          r.path("format").asText(),
          heads.isEmpty() ? "-" : String.join(" ", heads),
          c.isObject() ? c.path("sequence").asText() : "-",
          c.isObject() ? Api.shortId(c.path("id")) : "-",
          c.isObject() ? Api.text(c.path("state")) : "-",
          c.isObject() ? Api.text(c.path("stats").path("rows")) : "-",
          c.isObject() ? Api.text(c.path("stats").path("rejected")) : "-",
          figure(r.path("waiting"), "waitingRows"));
    }
    out.println();
    out.println("PIPELINES");
    out.printf(
        "  %-24s %-24s %-12s %-9s %8s %9s %8s %6s %7s%n",
        "NAME", "INPUT", "LAST JOB", "STATE", "TOTAL", "PROCESSED", "SKIPPED", "FAILED", "LAG");
    for (JsonNode p : status.path("pipelines")) {
      JsonNode j = p.path("lastJob");
      out.printf(
          "  %-24s %-24s %-12s %-9s %8s %9s %8s %6s %7s%n",
          p.path("name").asText(),
          p.path("input").asText(),
          j.isObject() ? Api.shortId(j.path("id")) : "-",
          j.isObject() ? Api.text(j.path("state")) : "-",
          j.isObject() ? j.path("total").asText() : "-",
          j.isObject() ? j.path("processed").asText() : "-",
          j.isObject() ? j.path("skipped").asText() : "-",
          j.isObject() ? j.path("failed").asText() : "-",
          figure(p.path("datumLag"), "lag"));
      for (JsonNode d : p.path("failedDatums")) {
        out.printf(
            "      failed datum %s (%s attempts): %s%n",
            d.path("member").asText(), d.path("attempts").asText(), Api.text(d.path("error")));
      }
    }
  }

  /** A figure of an {@link #optional} answer, "?" when it failed (its error is in --json). */
  private static String figure(JsonNode answer, String field) {
    return answer.has(field) ? answer.path(field).asText() : "?";
  }
}
