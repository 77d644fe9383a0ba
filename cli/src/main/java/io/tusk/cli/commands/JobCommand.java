package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code tusk job JOB}: a job's state and counts. */
@Command(name = "job", description = "Show a job's state, counts and timing.")
public final class JobCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The job ID.")
  String job;

  @Override
  public Integer call() {
    JsonNode j = api.client().lineageGet("/jobs/" + TuskClient.segment(job));
    api.print(j, JobCommand::print);
    return 0;
  }

  /** Prints a job in a few lines. */
  static void print(JsonNode j) {
    System.out.printf(
        "job %s (%s %s) of pipeline %s: %s%n",
        j.path("id").asText(),
        Api.text(j.path("kind")),
        Api.text(j.path("mode")),
        j.path("pipeline").asText(),
        j.path("state").asText());
    System.out.printf(
        "  commit %s of %s; datums total %,d / processed %,d / skipped %,d / failed %,d / recovered %,d%n",
        j.path("commitId").asText(),
        j.path("repo").asText(),
        j.path("total").asLong(),
        j.path("processed").asLong(),
        j.path("skipped").asLong(),
        j.path("failed").asLong(),
        j.path("recovered").asLong());
    if (j.hasNonNull("rerunOf")) {
      System.out.printf(
          "  re-run of %s: %,d identical, %,d different outputs%n",
          j.path("rerunOf").asText(), j.path("identical").asLong(), j.path("different").asLong());
    }
    System.out.printf(
        "  created %s, finished %s%s%n",
        Api.time(j.path("createdAt")),
        Api.time(j.path("finishedAt")),
        j.hasNonNull("error") ? "; " + j.path("error").asText() : "");
  }
}
