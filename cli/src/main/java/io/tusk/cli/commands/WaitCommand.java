package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk wait GLOBAL_ID}: block until every job a commit caused downstream has ended. */
@Command(
    name = "wait",
    description =
        "Wait until every job with this global ID (across the pipeline DAG) has ended, showing"
            + " their progress on stderr; exit 1 if any failed. Job IDs are shortened to 12"
            + " characters (a unique prefix every command accepts) unless --full.")
public final class WaitCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(
      index = "0",
      description = "The global ID (a source commit's ID, or a unique prefix of a commit ID).")
  String globalId;

  @Mixin JobWait wait;

  @Option(names = "--full", description = "Print whole 32-character job IDs.")
  boolean full;

  @Override
  public Integer call() {
    TuskClient client = api.client();
    JsonNode global =
        awaitSettled(client, client.globalIdOf(globalId), wait.timeout, JobBoard.onStderr());
    api.print(global, g -> printJobs(g, full));
    return "success".equals(global.path("state").asText()) ? 0 : 1;
  }

  /**
   * Waits until every job of the global ID has ended (and the output commits downstream pipelines
   * need are sealed), showing the jobs' progress on {@code board}; the last answer.
   */
  static JsonNode awaitSettled(
      TuskClient client, String globalId, Duration timeout, JobBoard board) {
    return TuskClient.await(
        () -> client.global(globalId),
        g -> {
          board.draw(g);
          return !"running".equals(g.path("state").asText()) && g.path("jobs").size() > 0;
        },
        timeout,
        "global ID " + globalId + " to settle");
  }

  /** The global ID's jobs, one line each (short job IDs unless {@code full}), then its state. */
  static void printJobs(JsonNode global, boolean full) {
    for (JsonNode job : global.path("jobs")) {
      System.out.printf(
          "%-24s %-" + (full ? 32 : Api.SHORT_ID) + "s %-8s processed %,d skipped %,d failed %,d%n",
          job.path("pipeline").asText(),
          Api.id(job.path("id"), full),
          job.path("state").asText(),
          job.path("processed").asLong(),
          job.path("skipped").asLong(),
          job.path("failed").asLong());
    }
    System.out.println(global.path("state").asText());
  }
}
