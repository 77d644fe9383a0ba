package io.tusk.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.RowLoader;
import io.tusk.cli.TuskClient;
import io.tusk.common.config.KafkaSettings;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The demo's story, step by step: create the OMOP repo and the GiBleed pipeline, load the table as
 * of a cut-off date and commit (job 1 processes every member), load a weekly update and commit (job
 * 2 processes only the changed members), then ask the lineage service where one output came from.
 * The end-to-end test runs this same code and checks its result.
 */
public final class OmopDemo {
  /** The demo's cut-off: rows dated before it make up the first commit. */
  public static final LocalDate CUTOFF = LocalDate.of(2019, 1, 1);

  /** Days of rows after the cut-off that make up the weekly update. */
  public static final int UPDATE_DAYS = 14;

  /** Earlier rows corrected in the update (same row key, new content). */
  public static final int CORRECTIONS = 5;

  /** Earlier rows re-sent unchanged in the update (must not count as changes). */
  public static final int RESENDS = 2;

  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(10);

  /** A job as the demo reports it. */
  public record JobSummary(
      String commitId,
      String jobId,
      String state,
      long total,
      long processed,
      long skipped,
      long failed,
      long rows,
      long rejected,
      Duration wall) {}

  /** What the demo did, for printing and for the end-to-end test's assertions. */
  public record Result(
      JobSummary first,
      JobSummary second,
      JobSummary firstCohorts,
      JobSummary secondCohorts,
      OmopDataset.Update update,
      String lineageMember,
      JsonNode lineage) {}

  private final TuskClient client;
  private final KafkaSettings settings;
  private final OmopDataset data;
  private final PrintStream out;
  private final String repo;
  private final String pipeline;
  private final String cohortPipeline;
  private final int partitions;

  public OmopDemo(
      TuskClient client,
      KafkaSettings settings,
      OmopDataset data,
      PrintStream out,
      String repo,
      String pipeline,
      int partitions) {
    this.client = Objects.requireNonNull(client, "client");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.data = Objects.requireNonNull(data, "data");
    this.out = Objects.requireNonNull(out, "out");
    this.repo = repo;
    this.pipeline = pipeline;
    this.cohortPipeline = pipeline + "-cohorts";
    this.partitions = partitions;
  }

  /** Runs every step, printing as it goes. */
  public Result run() {
    return run(() -> {});
  }

  /**
   * Runs every step, printing as it goes, and calls {@code created} once the repo and pipelines
   * exist (the chaos run starts its kills there: a create whose answer is lost is not retried).
   */
  public Result run(Runnable created) {
    createRepoAndPipeline();
    created.run();

    List<OmopDataset.Row> initial = data.before(CUTOFF);
    long members = initial.stream().map(OmopDataset.Row::member).distinct().count();
    load("[3/7] Loading the table as of " + CUTOFF + ": ", initial);
    JobSummary first = commitAndWait("[4/7] Commit 1");
    printJob(first);
    out.printf("      %,d distinct members in the rows loaded%n", members);
    JobSummary firstCohorts = downstream(first.commitId());

    OmopDataset.Update update = data.weeklyUpdate(CUTOFF, UPDATE_DAYS, CORRECTIONS, RESENDS);
    load(
        String.format(
            "[5/7] Loading the weekly update (%,d rows dated %s..%s, %d corrected rows, %d unchanged re-sends): ",
            update.newRows().size(),
            CUTOFF,
            CUTOFF.plusDays(UPDATE_DAYS - 1),
            update.corrections().size(),
            update.unchangedResends().size()),
        update.all());
    JobSummary second = commitAndWait("[6/7] Commit 2");
    printJob(second);
    JobSummary secondCohorts = downstream(second.commitId());
    out.printf(
        "      incremental: %,d of %,d datums processed (%.1f%% skipped), wall time %.1f%% of job 1's%n",
        second.processed(),
        second.total(),
        second.total() == 0 ? 0.0 : 100.0 * second.skipped() / second.total(),
        100.0 * second.wall().toMillis() / Math.max(1, first.wall().toMillis()));

    out.printf(
        "      cohorts: %,d of %,d recomputed after the update (job 1 of %s computed all %,d)%n",
        secondCohorts.processed(), secondCohorts.total(), cohortPipeline, firstCohorts.processed());

    String member =
        new TreeSet<>(update.newRows().stream().map(OmopDataset.Row::member).toList()).first();
    JsonNode lineage = client.lineage(pipeline, member);
    printLineage("[7/7] ", member, lineage);
    return new Result(first, second, firstCohorts, secondCohorts, update, member, lineage);
  }

  /**
   * The spec of the demo's repo: one CSV table per sample table, keyed by {@link
   * OmopDataset#MEMBER_KEY}, each row keyed by its first column.
   */
  public static ObjectNode repoSpec(OmopDataset data, String repo, int partitions) {
    ObjectNode spec = TuskClient.object().put("name", repo).put("format", "csv");
    spec.put("defaultTable", OmopDataset.TABLES.get(0).name()).put("partitions", partitions);
    ArrayNode tables = spec.putArray("tables");
    for (OmopDataset.TableData table : data.tables()) {
      ObjectNode t =
          tables
              .addObject()
              .put("name", table.table().name())
              .put("memberKey", OmopDataset.MEMBER_KEY);
      table.columns().forEach(t.putArray("columns")::add);
      t.putArray("rowKey").add(table.columns().get(0));
    }
    return spec;
  }

  /**
   * The spec of the demo's per-member pipeline: the gibleed-insights transform over {@code repo}.
   */
  public static ObjectNode pipelineSpec(String pipeline, String repo) {
    ObjectNode spec = TuskClient.object().put("name", pipeline).put("parallelism", 4);
    spec.putObject("input").put("repo", repo);
    spec.putObject("transform").put("java", "gibleed-insights");
    return spec;
  }

  private void createRepoAndPipeline() {
    client.createRepo(repoSpec(data, repo, partitions));
    client.createPipeline(pipelineSpec(pipeline, repo));
    // The second stage reads the first one's outputs, re-keyed by their cohort key.
    ObjectNode cohortSpec = TuskClient.object().put("name", cohortPipeline).put("parallelism", 2);
    cohortSpec.putObject("input").put("pipeline", pipeline).put("memberKey", "cohortKey");
    cohortSpec.putObject("transform").put("java", "cohort-rates");
    client.createPipeline(cohortSpec);
    out.printf(
        "[2/7] Created repo %s (%d tables keyed by %s, %d partitions), pipeline %s (per member:"
            + " gibleed-insights) and pipeline %s (per cohort: cohort-rates, reading %s's outputs)%n",
        repo,
        data.tables().size(),
        OmopDataset.MEMBER_KEY,
        partitions,
        pipeline,
        cohortPipeline,
        pipeline);
  }

  /**
   * Waits until every job of the commit's global ID has ended (the cohort stage runs after the
   * member stage's output commit) and returns the cohort job.
   */
  private JobSummary downstream(String globalId) {
    long start = System.nanoTime();
    JsonNode global =
        TuskClient.await(
            () -> client.global(globalId),
            g -> "success".equals(g.path("state").asText()) && hasJobOf(g, cohortPipeline),
            JOB_TIMEOUT,
            "the jobs of global ID " + globalId);
    for (JsonNode job : global.path("jobs")) {
      if (cohortPipeline.equals(job.path("pipeline").asText())) {
        JobSummary summary =
            new JobSummary(
                job.path("commitId").asText(),
                job.path("id").asText(),
                job.path("state").asText(),
                job.path("total").asLong(),
                job.path("processed").asLong(),
                job.path("skipped").asLong(),
                job.path("failed").asLong(),
                0,
                0,
                Duration.ofNanos(System.nanoTime() - start));
        out.printf(
            "      then job %s of %s (global ID %s): cohorts total %,d / processed %,d / skipped %,d%n",
            summary.jobId(),
            cohortPipeline,
            globalId,
            summary.total(),
            summary.processed(),
            summary.skipped());
        return summary;
      }
    }
    throw new IllegalStateException("global ID " + globalId + " has no job of " + cohortPipeline);
  }

  private static boolean hasJobOf(JsonNode global, String pipeline) {
    for (JsonNode job : global.path("jobs")) {
      if (pipeline.equals(job.path("pipeline").asText())) {
        return true;
      }
    }
    return false;
  }

  private void load(String label, List<OmopDataset.Row> rows) {
    long start = System.nanoTime();
    try (RowLoader loader = new RowLoader(settings, repo)) {
      for (OmopDataset.Row row : rows) {
        loader.send(row.table(), row.member(), row.line());
      }
      loader.flush();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    out.printf(
        "%s%,d rows to %s.updates in %.1f s (%,.0f rows/s)%n",
        label, rows.size(), repo, seconds, rows.size() / seconds);
  }

  private JobSummary commitAndWait(String label) {
    long start = System.nanoTime();
    JsonNode commit = client.commit(repo);
    String commitId = commit.path("id").asText();
    String jobId = jobOf(commit);
    out.printf(
        "%s: %s sealed (%,d offsets), job %s%n",
        label, commitId, commit.path("rowCount").asLong(), jobId);
    JsonNode job = client.awaitJobEnd(jobId, JOB_TIMEOUT);
    Duration wall = Duration.ofNanos(System.nanoTime() - start);
    JsonNode stats = client.awaitCommitComplete(repo, commitId, JOB_TIMEOUT).path("stats");
    return new JobSummary(
        commitId,
        jobId,
        job.path("state").asText(),
        job.path("total").asLong(),
        job.path("processed").asLong(),
        job.path("skipped").asLong(),
        job.path("failed").asLong(),
        stats.path("rows").asLong(),
        stats.path("rejected").asLong(),
        wall);
  }

  private String jobOf(JsonNode commit) {
    for (JsonNode job : commit.path("jobs")) {
      if (pipeline.equals(job.path("pipeline").asText())) {
        return job.path("jobId").asText();
      }
    }
    throw new IllegalStateException(
        "commit " + commit.path("id").asText() + " triggered no job of " + pipeline);
  }

  private void printJob(JobSummary job) {
    out.printf(
        "      job %s %s: datums total %,d / processed %,d / skipped %,d / failed %,d; commit rows %,d, rejected %,d; wall %.1f s%n",
        job.jobId(),
        job.state(),
        job.total(),
        job.processed(),
        job.skipped(),
        job.failed(),
        job.rows(),
        job.rejected(),
        job.wall().toMillis() / 1000.0);
  }

  private void printLineage(String step, String member, JsonNode lineage) {
    JsonNode output = lineage.path("output");
    out.printf(
        "%sLineage of %s's output for member %s (GET /pipelines/%s/outputs/%s/lineage):%n",
        step, pipeline, member, pipeline, member);
    out.printf(
        "      output hash %s, datum %s%n",
        output.path("outputHash").asText(), lineage.path("datum").path("hash").asText());
    out.printf(
        "      made by job %s (%s) from commit %s of repo %s (sequence %d)%n",
        lineage.path("job").path("id").asText(),
        lineage.path("job").path("state").asText(),
        lineage.path("commit").path("id").asText(),
        lineage.path("repo").asText(),
        lineage.path("commit").path("sequence").asLong());
    JsonNode rows = lineage.path("inputRows");
    out.printf(
        "      from %d input rows, e.g.:%n", lineage.path("inputRowCount").asInt(rows.size()));
    for (int i = 0; i < Math.min(3, rows.size()); i++) {
      JsonNode row = rows.get(i);
      out.printf(
          "        %s partition %d offset %d (table %s)%n",
          row.path("topic").asText(),
          row.path("partition").asInt(),
          row.path("offset").asLong(),
          row.path("table").asText());
    }
  }
}
