package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.cli.export.OutputCut;
import io.tusk.cli.export.OutputTable;
import io.tusk.cli.export.ParquetWriter;
import io.tusk.common.config.KafkaSettings;
import io.tusk.schemas.Output;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk export PIPELINE [--job J] --parquet DIR}: the pipeline's outputs as of job J (every
 * member's output after J, from J or an earlier job; tombstoned members absent) as {@code
 * DIR/part-00000.parquet}. The pipeline is looked up through the commit service and the job through
 * the lineage service first, so the caller must be allowed to read the pipeline; the outputs come
 * straight from the output topic (read_committed) with the caller's Kafka settings, as {@code tusk
 * sink} reads them, so no service holds every output in memory for an export.
 */
@Command(
    name = "export",
    description =
        "Write a pipeline's outputs as of a job (default: its last successful job) as Parquet, with"
            + " their lineage columns.")
public final class ExportCommand implements Callable<Integer> {
  static final String FILE = "part-00000.parquet";
  private static final Duration READ_TIMEOUT = Duration.ofMinutes(10);

  @Mixin Api api;

  @Mixin OutputTopicAccess kafka;

  @Parameters(index = "0", description = "The pipeline.")
  String pipeline;

  @Option(
      names = "--job",
      description =
          "The job: its ID or a unique prefix of 6 or more characters (default: the pipeline's"
              + " last successful job).")
  String job;

  @Option(
      names = "--parquet",
      required = true,
      paramLabel = "DIR",
      description = "The directory to write " + FILE + " to (created if missing).")
  Path dir;

  @Option(names = "--overwrite", description = "Write into DIR even when it is not empty.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    // Fails with the service's 403 or 404 unless the caller may read this pipeline.
    api.client().commitGet("/pipelines/" + TuskClient.segment(pipeline));
    if (job != null) {
      // A full ID or a unique prefix, resolved as every job command does (404, 409, 400).
      job = api.client().lineageGet("/jobs/" + TuskClient.segment(job)).path("id").asText();
    }
    Path target = prepare(dir, overwrite);
    List<JsonNode> jobs = jobsNewestFirst();
    int index = chosen(jobs);
    String chosen = jobs.get(index).path("id").asText();
    Set<String> upTo = new HashSet<>();
    jobs.subList(index, jobs.size()).forEach(j -> upTo.add(j.path("id").asText()));
    KafkaSettings settings = kafka.settings(api, "tusk-export");
    List<Output> outputs = OutputCut.read(settings, pipeline, upTo, READ_TIMEOUT);
    requireContentRight(outputs);
    OutputTable table = OutputTable.of(outputs);
    Path partial = target.resolve("." + FILE + ".partial");
    ParquetWriter.write(table, partial);
    Path file = target.resolve(FILE);
    Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    if (api.json()) {
      Api.printJson(
          System.out,
          TuskClient.object()
              .put("pipeline", pipeline)
              .put("job", chosen)
              .put("rows", table.size())
              .put("file", file.toAbsolutePath().toString()));
    } else {
      System.out.printf(
          "exported %,d outputs of %s as of job %s to %s%n",
          table.size(), pipeline, chosen, file.toAbsolutePath());
    }
    return 0;
  }

  /** The index of the job to export in {@code jobs}: --job, or the newest successful one. */
  private int chosen(List<JsonNode> jobs) {
    for (int i = 0; i < jobs.size(); i++) {
      JsonNode j = jobs.get(i);
      boolean success = "SUCCESS".equals(j.path("state").asText());
      if (job == null && success) {
        return i;
      }
      if (job != null && job.equals(j.path("id").asText())) {
        if (!success) {
          throw new IllegalArgumentException(
              "job "
                  + job
                  + " is "
                  + j.path("state").asText()
                  + ", not SUCCESS: its outputs are no consistent cut; export a successful job");
        }
        return i;
      }
    }
    throw new IllegalArgumentException(
        job == null
            ? "pipeline " + pipeline + " has no successful job yet"
            : "not found: no job " + job + " of pipeline " + pipeline);
  }

  /**
   * Output data needs the {@code content} right on the pipeline, not just reader: asks the lineage
   * service for one exported member's output (an audited content read), before anything is written.
   * Its 403 stops the export; a 404 (that member's output is gone since) passed the check.
   */
  private void requireContentRight(List<Output> outputs) {
    if (outputs.isEmpty()) {
      return; // nothing to disclose
    }
    try {
      api.client()
          .lineageGet(
              "/pipelines/"
                  + TuskClient.segment(pipeline)
                  + "/outputs/"
                  + TuskClient.segment(outputs.get(0).getMember()));
    } catch (TuskClient.ApiError e) {
      if (e.status() != 404) {
        throw e;
      }
    }
  }

  /** Every job of the pipeline, newest first, page by page. */
  private List<JsonNode> jobsNewestFirst() {
    List<JsonNode> jobs = new ArrayList<>();
    String after = null;
    do {
      JsonNode page =
          api.client()
              .lineageGet(
                  "/jobs?pipeline="
                      + TuskClient.segment(pipeline)
                      + (after == null ? "" : "&after=" + TuskClient.segment(after)));
      page.path("jobs").forEach(jobs::add);
      after = page.hasNonNull("next") ? page.path("next").asText() : null;
    } while (after != null);
    return jobs;
  }

  /** Creates DIR if missing; refuses a non-empty DIR without --overwrite, or one not writable. */
  static Path prepare(Path dir, boolean overwrite) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--parquet " + dir + " is not a directory");
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot create --parquet " + dir + ": " + e, e);
    }
    if (!Files.isWritable(dir)) {
      throw new IllegalArgumentException("--parquet " + dir + " is not writable");
    }
    try (Stream<Path> entries = Files.list(dir)) {
      if (!overwrite && entries.findAny().isPresent()) {
        throw new IllegalArgumentException(
            "--parquet " + dir + " is not empty (--overwrite writes into it anyway)");
      }
    }
    return dir;
  }
}
