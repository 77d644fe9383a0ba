package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.common.topics.TopicNames;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Follows the jobs an operation started: runs the model's job, waits for Tusk's to end, compares
 * counts, datums, current outputs and input rows, and after a first-stage job its output commit and
 * the second stage's job on it.
 */
final class JobFollower {
  private static final Duration COMPARE_ONLY_SEAL_WAIT = Duration.ofSeconds(10);
  private static final Duration OUTPUT_COMMIT_WAIT = Duration.ofSeconds(30);
  private static final Duration DATUMS_WAIT = Duration.ofSeconds(20);

  /** Where differences go (see {@link Soak}): thrown, or recorded and the model resynced. */
  interface Reporter {
    void report(List<String> problems, Runnable adopt);
  }

  private final SoakState state;
  private final SoakDriver driver;
  private final Map<String, OutputReader> readers;
  private final SinkCheck sink;
  private final LineageCheck lineage;
  private final PrintStream out;
  private final Reporter reporter;
  private final Map<String, Integer> outputCommitsSeen = new HashMap<>();
  private int jobsChecked;
  private long datumsChecked;

  JobFollower(
      SoakState state,
      SoakDriver driver,
      Map<String, OutputReader> readers,
      SinkCheck sink,
      PrintStream out,
      Reporter reporter) {
    this.state = state;
    this.driver = driver;
    this.readers = readers;
    this.sink = sink;
    this.lineage = new LineageCheck(driver.client());
    this.out = out;
    this.reporter = reporter;
  }

  int jobsChecked() {
    return jobsChecked;
  }

  int sinkChecks() {
    return sink == null ? 0 : sink.checks();
  }

  long datumsChecked() {
    return datumsChecked;
  }

  /** Outputs compared with the lineage service's answer. */
  int lineageChecks() {
    return lineage.checks();
  }

  /** Runs the model's job, waits for Tusk's, compares them, then follows it downstream. */
  void runRows(String jobId, RepoModel.CommitInfo commit, PipelineModel.Mode mode) {
    ExpectedJob expected =
        state.rows.run(
            jobId, commit.id(), ModelInput.ofMembers(state.repo, commit, state.flakyFails), mode);
    checkRows(expected, driver.awaitJobEnd(jobId), 0);
  }

  void checkRows(ExpectedJob expected, JsonNode actual, long restarted) {
    PipelineModel rows = state.rows;
    OutputReader reader = readers.get(rows.name());
    List<JsonNode> datumList = awaitDatums(expected.jobId(), actual, restarted);
    reader.catchUp();
    // An erasure at or after the job's commit purged the erased member's datum records.
    long sequence = state.repo.commit(expected.commitId()).sequence();
    java.util.Set<String> purged = new java.util.HashSet<>();
    state.repo.erasures().stream()
        .filter(e -> e.sequence() >= sequence)
        .forEach(e -> purged.add(e.member()));
    List<String> problems = new ArrayList<>(SoakChecks.job(expected, actual, datumList, purged));
    problems.addAll(SoakChecks.outputs(rows, reader));
    if (sink != null) {
      problems.addAll(sink.check(rows));
    }
    problems.addAll(
        SoakChecks.rowsProvenance(
            expected, reader, state.repo, TopicNames.updates(state.repo.name())));
    problems.addAll(lineage.check(rows.name(), expected.datums().keySet(), reader, erased()));
    print(rows, expected, actual);
    report(problems, () -> rows.adopt(reader.currentData(), SoakChecks.datumStates(datumList)));
    followDownstream(expected);
  }

  /** Every member erased so far: the lineage service purged their outputs' lineage. */
  private Set<String> erased() {
    Set<String> erased = new HashSet<>();
    state.repo.erasures().forEach(e -> erased.add(e.member()));
    return erased;
  }

  /** After a first-stage job ended: its output commit, and the second stage's job on it. */
  private void followDownstream(ExpectedJob upstream) {
    if (!state.derivedRepoExists) {
      return;
    }
    int seen = outputCommitsSeen.getOrDefault(upstream.jobId(), 0);
    List<String> commits;
    try {
      commits =
          driver.awaitOutputCommits(
              upstream.jobId(),
              seen + 1,
              upstream.compareOnly() ? COMPARE_ONLY_SEAL_WAIT : OUTPUT_COMMIT_WAIT);
    } catch (IllegalStateException e) {
      if (!upstream.compareOnly()) {
        report(
            List.of("job " + upstream.jobId() + " sealed no output commit: " + e.getMessage()),
            () -> {});
      }
      return;
    }
    outputCommitsSeen.put(upstream.jobId(), commits.size());
    state.derivedRepoHasHead = true;
    if (state.groups == null) {
      return;
    }
    String outputCommit = commits.get(commits.size() - 1);
    String job = null;
    for (JsonNode ref : driver.commitJobs(outputCommit)) {
      if (ref.path("pipeline").asText().equals(state.groups.name())) {
        job = ref.path("jobId").asText();
      }
    }
    if (job == null) {
      report(
          List.of(
              "output commit "
                  + outputCommit
                  + " of job "
                  + upstream.jobId()
                  + " started no job of "
                  + state.groups.name()),
          () -> {});
      return;
    }
    runGroups(job, outputCommit);
  }

  void runGroups(String jobId, String commitId) {
    PipelineModel groups = state.groups;
    OutputReader reader = readers.get(groups.name());
    TreeMap<String, String> upstream = new TreeMap<>(state.rows.currentData());
    ExpectedJob expected =
        groups.run(jobId, commitId, ModelInput.ofGroups(upstream), PipelineModel.Mode.CHANGED);
    JsonNode actual = driver.awaitJobEnd(jobId);
    List<JsonNode> datumList = awaitDatums(jobId, actual, 0);
    reader.catchUp();
    readers.get(state.rows.name()).catchUp();
    List<String> problems = new ArrayList<>(SoakChecks.job(expected, actual, datumList));
    problems.addAll(SoakChecks.outputs(groups, reader));
    if (sink != null) {
      problems.addAll(sink.check(groups));
    }
    problems.addAll(
        SoakChecks.groupsProvenance(expected, reader, readers.get(state.rows.name()), upstream));
    problems.addAll(lineage.check(groups.name(), expected.datums().keySet(), reader, Set.of()));
    print(groups, expected, actual);
    report(problems, () -> groups.adopt(reader.currentData(), SoakChecks.datumStates(datumList)));
  }

  /**
   * The job's datums once the lineage service has indexed a result for every datum the job counted
   * (the index trails the job's end), {@code restarted} of them from a restart; after a short wait,
   * whatever is there (the comparison then says what is missing).
   */
  private List<JsonNode> awaitDatums(String jobId, JsonNode job, long restarted) {
    long results =
        job.path("processed").asLong()
            + job.path("failed").asLong()
            + job.path("recovered").asLong();
    long deadline = System.nanoTime() + DATUMS_WAIT.toNanos();
    List<JsonNode> list = List.of();
    while (true) {
      try {
        list = driver.datums(jobId);
      } catch (TuskClient.ApiError e) {
        if (e.status() != 404 && e.status() != 503) {
          throw e;
        }
      }
      long fromRestart = list.stream().filter(d -> d.path("restart").asBoolean()).count();
      if (list.size() >= results && fromRestart >= restarted) {
        datumsChecked += list.size();
        return list;
      }
      if (System.nanoTime() > deadline) {
        out.printf(
            "    (job %s: %d datums indexed, %d from a restart, after %s; the job counts %d)%n",
            jobId, list.size(), fromRestart, DATUMS_WAIT, results);
        datumsChecked += list.size();
        return list;
      }
      pause();
    }
  }

  private void print(PipelineModel pipeline, ExpectedJob expected, JsonNode actual) {
    jobsChecked++;
    out.printf(
        "    job %s of %s over commit %s: %s, total %d, processed %d, failed %d, recovered %d, skipped %d%s%n",
        expected.jobId(),
        pipeline.name(),
        expected.commitId(),
        actual.path("state").asText(),
        actual.path("total").asLong(),
        actual.path("processed").asLong(),
        actual.path("failed").asLong(),
        actual.path("recovered").asLong(),
        actual.path("skipped").asLong(),
        expected.compareOnly() ? " (compare-only)" : "");
  }

  private void report(List<String> problems, Runnable adopt) {
    reporter.report(problems, adopt);
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
