package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tusk rerun JOB [--reprocess]}: run a job's pipeline again on the job's input commit. */
@Command(
    name = "rerun",
    description =
        "Run a job's pipeline again on its input commit; --reprocess runs every datum and reports identical/different outputs (the reproducibility check).")
public final class RerunCommand implements Callable<Integer> {
  @Mixin Api api;

  @Parameters(index = "0", description = "The job to re-run.")
  String job;

  @Option(
      names = "--reprocess",
      description = "Process every datum again, not only those without a success.")
  boolean reprocess;

  @Option(
      names = "--no-wait",
      description = "Return at once instead of waiting for the new job to end.")
  boolean noWait;

  @Mixin JobWait wait;

  @Override
  public Integer call() {
    TuskClient client = api.client();
    JsonNode started =
        client.commitSend(
            "POST",
            "/jobs/" + TuskClient.segment(job) + "/rerun?reprocess=" + reprocess,
            TuskClient.object());
    String newJob = started.path("jobId").asText();
    System.out.printf("re-run of %s started as job %s%n", job, newJob);
    if (noWait) {
      return 0;
    }
    JsonNode ended = client.awaitJobEnd(newJob, wait.timeout);
    api.print(ended, JobCommand::print);
    boolean reproduced = !reprocess || ended.path("different").asLong() == 0;
    if (reprocess) {
      System.out.println(
          reproduced
              ? "reproduced: every output is byte-identical"
              : "NOT reproduced: some outputs differ");
    }
    return "SUCCESS".equals(ended.path("state").asText()) && reproduced ? 0 : 1;
  }
}
