package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The model-based soak: runs a seeded random sequence of operations against the real services and,
 * after each one has settled (every job it started has ended), compares Tusk with the reference
 * model ({@link RepoModel}, {@link PipelineModel}): each job's counts and datums, every current
 * output of both stages, the input rows outputs name, commits, and a sample of members as of
 * commits and diffs; after an erasure, the erased member's history (410 where it is absent) and the
 * request's state. The first difference throws a {@link SoakMismatch} naming the seed and the
 * operation; with {@code keepGoing} the differences are collected, the model adopts Tusk's state,
 * and the run goes on.
 */
public final class Soak {

  /**
   * One run's settings.
   *
   * @param prefix the start of the repo's and pipelines' names (unique per run: a shared broker
   *     keeps every name's topics)
   * @param simpleRows avoid the hardest row cases (several versions of a key in one commit, keys
   *     spread over partitions, deletes naming another member, padded op values), to reach the
   *     pipeline-level checks while those cases still differ
   */
  public record Settings(
      long seed,
      int ops,
      boolean keepGoing,
      String prefix,
      int partitions,
      int historyRetention,
      boolean simpleRows,
      String sinkJdbcUrl) {}

  /**
   * What a run did.
   *
   * @param erasures erasure commits sealed
   * @param erasuresRefused erasures refused as the model expected (409: a pipeline follows another
   *     branch)
   * @param sinkChecks SQL tables compared with the model (0 without {@code sinkJdbcUrl})
   */
  public record Summary(
      int ops,
      int jobs,
      long datums,
      List<String> mismatches,
      int erasures,
      int erasuresRefused,
      int sinkChecks,
      int lineageChecks) {}

  /** How long an erasure request may take to report "purged" once the jobs it caused ended. */
  private static final Duration ERASURE_STATE_WAIT = Duration.ofSeconds(30);

  private final Settings settings;
  private final PrintStream out;
  private final SoakDriver driver;
  private final KafkaSettings kafka;
  private final Topics topics;
  private final SoakState state;
  private final OpGenerator generator;
  private final HistoryChecks history;
  private final Map<String, OutputReader> readers = new HashMap<>();
  private final List<String> mismatches = new ArrayList<>();
  private final List<String> created = new ArrayList<>();
  private int opIndex;
  private Op op;
  private int erasures;
  private int erasuresRefused;
  private final JobFollower jobs;

  public Soak(
      Settings settings,
      TuskClient client,
      KafkaSettings kafka,
      ProcessorControl processors,
      PrintStream out) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.out = Objects.requireNonNull(out, "out");
    this.kafka = Objects.requireNonNull(kafka, "kafka");
    this.driver = new SoakDriver(client, kafka, processors);
    this.topics = new Topics(kafka.registryClient());
    this.state = new SoakState(new RepoModel(settings.prefix(), settings.historyRetention()));
    this.generator = new OpGenerator(settings.seed(), state, settings.simpleRows());
    this.history = new HistoryChecks(state, driver, new Random(settings.seed() * 31 + 7));
    SinkCheck sink =
        settings.sinkJdbcUrl() == null ? null : new SinkCheck(kafka, settings.sinkJdbcUrl());
    this.jobs = new JobFollower(state, driver, readers, sink, out, this::report);
  }

  /**
   * Runs every operation.
   *
   * @throws SoakMismatch at the first difference, unless {@code keepGoing}
   */
  public Summary run() {
    long start = System.nanoTime();
    out.printf(
        "soak: seed %d, %d operations, repo %s (%d partitions, historyRetention %d)%n",
        settings.seed(),
        settings.ops(),
        settings.prefix(),
        settings.partitions(),
        settings.historyRetention());
    FailSwitch.set(true);
    try {
      driver
          .client()
          .createRepo(
              SoakTables.repoSpec(
                  settings.prefix(), settings.partitions(), settings.historyRetention()));
      for (opIndex = 1; opIndex <= settings.ops(); opIndex++) {
        op = generator.next();
        out.printf(
            "[seed %d op %d, %.1f s] %s%n",
            settings.seed(), opIndex, (System.nanoTime() - start) / 1e9, op.describe());
        try {
          apply(op);
          if (op instanceof Op.Seal || opIndex % 5 == 0) {
            report(history.sample(), () -> {});
          }
        } catch (TuskClient.ApiError | IllegalStateException e) {
          report(List.of("unexpected: " + e.getMessage()), () -> {});
        }
      }
    } finally {
      readers.values().forEach(OutputReader::close);
      stopProcessors();
      driver.close();
      FailSwitch.set(true);
    }
    out.printf(
        "soak: seed %d done: %d operations, %d jobs checked (%d datums), %d erasures (%d refused),"
            + " %d SQL sink checks, %d lineage checks, %d mismatches, %.1f s%n",
        settings.seed(),
        settings.ops(),
        jobs.jobsChecked(),
        jobs.datumsChecked(),
        erasures,
        erasuresRefused,
        jobs.sinkChecks(),
        jobs.lineageChecks(),
        mismatches.size(),
        (System.nanoTime() - start) / 1e9);
    return new Summary(
        settings.ops(),
        jobs.jobsChecked(),
        jobs.datumsChecked(),
        List.copyOf(mismatches),
        erasures,
        erasuresRefused,
        jobs.sinkChecks(),
        jobs.lineageChecks());
  }

  /**
   * Stops the processors of every pipeline this run created, so later runs on the same stack do not
   * share the machine with idle ones.
   */
  private void stopProcessors() {
    for (String pipeline : created) {
      try {
        driver.processors().stop(pipeline);
      } catch (IllegalArgumentException e) {
        // Deleted before its processors started: none run.
        out.printf("    (no processors to stop for %s)%n", pipeline);
      }
    }
  }

  private void apply(Op op) {
    if (op instanceof Op.Produce produce) {
      List<SentRow> sent = driver.produce(state.repo.name(), produce.rows());
      sent.forEach(state.repo::sent);
      printPositions(produce.rows(), sent);
    } else if (op instanceof Op.Seal seal) {
      seal(seal);
    } else if (op instanceof Op.CreateBranch create) {
      String head = state.repo.commitAt(create.atSequence()).id();
      JsonNode answer = driver.createBranch(state.repo.name(), create.name(), head);
      state.repo.moveBranch(create.name(), head);
      expectJobs(answer.path("jobs"), null);
    } else if (op instanceof Op.MoveBranch move) {
      RepoModel.CommitInfo target = state.repo.commitAt(move.toSequence());
      JsonNode answer = driver.moveBranch(state.repo.name(), move.name(), target.id());
      state.repo.moveBranch(move.name(), target.id());
      boolean followed = move.name().equals("master") && state.rows != null;
      String job = expectJobs(answer.path("jobs"), followed ? state.rows.name() : null);
      if (job != null) {
        jobs.runRows(job, target, PipelineModel.Mode.CHANGED);
      }
    } else if (op instanceof Op.DeleteBranch delete) {
      driver.deleteBranch(state.repo.name(), delete.name());
      state.repo.deleteBranch(delete.name());
    } else if (op instanceof Op.CreatePipeline create) {
      createPipeline(create);
    } else if (op instanceof Op.UpdatePipeline update) {
      updatePipeline(update);
    } else if (op instanceof Op.DeletePipeline delete) {
      deletePipeline(delete);
    } else if (op instanceof Op.Restart) {
      restart();
    } else if (op instanceof Op.Rerun rerun) {
      rerun(rerun);
    } else if (op instanceof Op.SetFlaky flaky) {
      FailSwitch.set(flaky.fails());
      state.flakyFails = flaky.fails();
    } else if (op instanceof Op.Erase erase) {
      erase(erase);
    } else if (op instanceof Op.TagNotes) {
      tagNotes();
    } else if (op instanceof Op.ProbeFloor probe) {
      report(history.probeFloor(probe, "floor" + opIndex), () -> {});
    } else {
      throw new IllegalArgumentException("unknown operation " + op);
    }
  }

  private void seal(Op.Seal seal) {
    String rows = state.rows == null ? null : state.rows.name();
    boolean stop = seal.stopProcessor() && rows != null;
    if (stop) {
      driver.processors().stop(rows);
    }
    RepoModel.CommitInfo commit;
    JsonNode complete;
    String job;
    try {
      JsonNode answer = driver.seal(state.repo.name(), seal.branch());
      commit = commitInfo(answer);
      state.repo.sealed(commit, seal.branch());
      job = expectJobs(answer.path("jobs"), seal.branch().equals("master") ? rows : null);
      complete = driver.awaitCommitComplete(state.repo.name(), commit.id());
    } finally {
      if (stop) {
        driver.processors().start(rows);
      }
    }
    report(checkCommit(commit, complete), () -> {});
    if (job != null) {
      jobs.runRows(job, commit, PipelineModel.Mode.CHANGED);
    }
  }

  /** A complete commit's counts, and every member as of it (few members: all of them). */
  private List<String> checkCommit(RepoModel.CommitInfo commit, JsonNode complete) {
    List<String> problems = new ArrayList<>(SoakChecks.commit(state.repo, commit, complete));
    for (String member : checkedMembers()) {
      problems.addAll(
          SoakChecks.member(
              state.repo, commit, member, driver.member(state.repo.name(), member, commit.id())));
    }
    return problems;
  }

  /** The members rows name, and any other erased (those a read must answer 410 for). */
  private List<String> checkedMembers() {
    TreeSet<String> members = new TreeSet<>(OpGenerator.MEMBERS);
    state.repo.erasures().forEach(e -> members.add(e.member()));
    return List.copyOf(members);
  }

  /**
   * An erasure: refused with 409 when the model says a pipeline follows another branch; else an
   * erasure commit, checked like a seal (it carries the rows sent since the last one), whose jobs
   * remove the member's outputs; then the member's history must be gone and the request "purged".
   */
  /** The layout update: NOTE gains TAG from the next commit on. */
  private void tagNotes() {
    JsonNode spec =
        driver
            .client()
            .commitSend(
                "PUT",
                "/repos/" + state.repo.name(),
                SoakTables.repoSpec(
                    state.repo.name(), settings.partitions(), settings.historyRetention(), true));
    long expectedStart = state.repo.commits().size() + 1L;
    state.repo.tagged(expectedStart);
    if (spec.path("layoutVersion").asInt() != 2
        || spec.path("layoutStartSequence").asLong() != expectedStart) {
      report(
          List.of(
              "layout update: expected version 2 from commit #"
                  + expectedStart
                  + ", actual version "
                  + spec.path("layoutVersion").asInt()
                  + " from #"
                  + spec.path("layoutStartSequence").asLong()),
          () -> {});
    }
  }

  private void erase(Op.Erase erase) {
    String repo = state.repo.name();
    String reason = "soak seed " + settings.seed() + " op " + opIndex;
    if (state.erasureRefused(erase.branch())) {
      int status =
          SoakDriver.statusOf(() -> driver.erase(repo, erase.member(), reason, erase.branch()));
      out.printf("    erasure answered %d (the model expects 409)%n", status);
      if (status != 409) {
        report(
            List.of(
                "erasure on "
                    + erase.branch()
                    + " while pipelines follow "
                    + state.followedBranches()
                    + ": expected 409, actual "
                    + status),
            () -> {});
      } else {
        erasuresRefused++;
      }
      // A 2xx sealed a commit the model does not know: later checks go on without it.
      return;
    }
    JsonNode request = driver.erase(repo, erase.member(), reason, erase.branch());
    String requestId = request.path("id").asText();
    JsonNode sealed = driver.commit(request.path("commitId").asText());
    RepoModel.CommitInfo commit = commitInfo(sealed);
    long expectedSequence = state.repo.commits().size() + 1L;
    List<String> problems = new ArrayList<>();
    if (request.path("commitSequence").asLong() != expectedSequence
        || !requestId.equals(sealed.path("erasure").asText())) {
      problems.add(
          "erasure "
              + requestId
              + ": expected commit #"
              + expectedSequence
              + " for the request, actual #"
              + request.path("commitSequence").asText()
              + " for request "
              + sealed.path("erasure").asText());
    }
    report(problems, () -> {});
    state.repo.sealed(commit, erase.branch());
    state.repo.erased(commit, erase.member(), requestId);
    erasures++;
    String rows = state.rows == null ? null : state.rows.name();
    String job = expectJobs(sealed.path("jobs"), erase.branch().equals("master") ? rows : null);
    JsonNode complete = driver.awaitCommitComplete(repo, commit.id());
    report(checkCommit(commit, complete), () -> {});
    if (job != null) {
      // The member is absent at the commit: a removal datum if it has an output, and the
      // second stage recomputes its group without it.
      jobs.runRows(job, commit, PipelineModel.Mode.CHANGED);
    }
    report(history.afterErasure(erase.member(), commit, checkedMembers()), () -> {});
    report(erasureState(requestId, job), () -> {});
  }

  /**
   * Once the jobs an erasure caused ended, its request reports "purged" (nothing scanned it, so not
   * "verified") and names the first stage's job among its jobs.
   */
  private List<String> erasureState(String requestId, String job) {
    JsonNode answer;
    try {
      answer =
          TuskClient.await(
              () -> driver.erasure(requestId),
              e -> e.path("state").asText().equals("purged"),
              ERASURE_STATE_WAIT,
              "erasure " + requestId + " to be purged");
    } catch (IllegalStateException e) {
      answer = driver.erasure(requestId);
    }
    List<String> jobIds = new ArrayList<>();
    answer.path("jobs").forEach(j -> jobIds.add(j.path("jobId").asText()));
    out.printf(
        "    erasure %s: commit #%d, state %s, %d jobs%n",
        requestId,
        answer.path("commitSequence").asLong(),
        answer.path("state").asText(),
        jobIds.size());
    List<String> problems = new ArrayList<>();
    if (!answer.path("state").asText().equals("purged")) {
      problems.add(
          "erasure " + requestId + " state: expected purged, actual " + answer.path("state"));
    }
    if (job != null && !jobIds.contains(job)) {
      problems.add("erasure " + requestId + " jobs: expected " + job + " among " + jobIds);
    }
    return problems;
  }

  private void createPipeline(Op.CreatePipeline create) {
    String name =
        settings.prefix()
            + "-"
            + create.stage().name().toLowerCase()
            + "-"
            + ++state.pipelinesCreated;
    created.add(name);
    if (create.stage() == PipelineModel.Stage.ROWS) {
      JsonNode answer =
          driver.createPipeline(
              SoakDriver.rowsSpec(
                  name, state.repo.name(), create.variant(), create.errCmd(), false));
      state.rows =
          new PipelineModel(name, PipelineModel.Stage.ROWS, create.variant(), create.errCmd());
      state.derivedRepoExists = false;
      state.derivedRepoHasHead = false;
      readers.put(name, new OutputReader(kafka, topics, name));
      String head = state.repo.heads().get("master");
      String job = expectJob(answer.path("job"), head != null, "creating " + name);
      if (job != null) {
        jobs.runRows(job, state.repo.commit(head), PipelineModel.Mode.CHANGED);
      }
    } else {
      JsonNode answer = driver.createPipeline(SoakDriver.groupsSpec(name, state.rows.name()));
      state.groups = new PipelineModel(name, PipelineModel.Stage.GROUPS, "a", false);
      state.derivedRepoExists = true;
      readers.put(name, new OutputReader(kafka, topics, name));
      JsonNode job = answer.path("job");
      if (job.isObject()) {
        jobs.runGroups(job.path("jobId").asText(), job.path("commitId").asText());
      } else if (state.derivedRepoHasHead) {
        report(
            List.of("creating " + name + " on a derived repo with a head started no job"),
            () -> {});
      }
    }
  }

  private void updatePipeline(Op.UpdatePipeline update) {
    PipelineModel rows = state.rows;
    JsonNode answer =
        driver.updatePipeline(
            rows.name(),
            SoakDriver.rowsSpec(
                rows.name(),
                state.repo.name(),
                update.variant(),
                update.errCmd(),
                update.keepOutputs()));
    rows.update(update.variant(), update.errCmd(), update.keepOutputs());
    String head = state.repo.heads().get("master");
    String job =
        expectJob(
            answer.path("job"), head != null && !update.keepOutputs(), "updating " + rows.name());
    if (job != null) {
      jobs.runRows(job, state.repo.commit(head), PipelineModel.Mode.CHANGED);
    }
  }

  private void deletePipeline(Op.DeletePipeline delete) {
    if (delete.stage() == PipelineModel.Stage.GROUPS) {
      driver.deletePipeline(state.groups.name());
      readers.remove(state.groups.name()).close();
      state.groups = null;
      return;
    }
    String rows = state.rows.name();
    if (state.groups != null) {
      int status = SoakDriver.statusOf(() -> driver.deletePipeline(rows));
      if (status != 409) {
        report(
            List.of(
                "deleting "
                    + rows
                    + " while "
                    + state.groups.name()
                    + " reads it: expected 409, actual "
                    + status),
            () -> {});
      }
      if (status / 100 != 2) {
        return;
      }
      readers.remove(state.groups.name()).close();
      state.groups = null;
    } else {
      driver.deletePipeline(rows);
    }
    readers.remove(rows).close();
    state.rows = null;
    state.derivedRepoExists = false;
    state.derivedRepoHasHead = false;
  }

  private void restart() {
    PipelineModel rows = state.rows;
    ExpectedJob job = rows.lastWritingJob();
    if (!state.repo.retained(state.repo.commit(job.commitId()))) {
      // The job's commit fell out of the history retention: its versions are gone.
      int status = SoakDriver.statusOf(() -> driver.restart(job.jobId()));
      if (status != 410) {
        report(
            List.of(
                "restart of job "
                    + job.jobId()
                    + " beyond the history floor: expected 410, actual "
                    + status),
            () -> {});
      }
      return;
    }
    if (rows.specChangedSinceLastJob()) {
      int status = SoakDriver.statusOf(() -> driver.restart(job.jobId()));
      if (status != 409) {
        report(
            List.of(
                "restart of job "
                    + job.jobId()
                    + " after a spec change: expected 409, actual "
                    + status),
            () -> {});
      }
      if (status / 100 == 2) {
        driver.awaitJobEnd(job.jobId());
      }
      return;
    }
    long finishedAt =
        driver.lineage("/jobs/" + TuskClient.segment(job.jobId())).path("finishedAt").asLong();
    // The datums that failed in the job (and are still failed) run again.
    long restarted =
        job.datums().entrySet().stream()
            .filter(e -> e.getValue().equals(PipelineModel.FAILED))
            .filter(e -> rows.failed().contains(e.getKey()))
            .count();
    driver.restart(job.jobId());
    RepoModel.CommitInfo commit = state.repo.commit(job.commitId());
    ExpectedJob expected = rows.restart(ModelInput.ofMembers(state.repo, commit, state.flakyFails));
    JsonNode actual = driver.awaitRestartEnd(job.jobId(), finishedAt);
    jobs.checkRows(expected, actual, restarted);
  }

  private void rerun(Op.Rerun rerun) {
    PipelineModel rows = state.rows;
    ExpectedJob original = rows.jobs().get(rerun.jobIndex());
    RepoModel.CommitInfo commit = state.repo.commit(original.commitId());
    // Over another commit than the one the outputs reflect, any re-run only compares.
    PipelineModel.Mode mode =
        !commit.id().equals(rows.processedCommit())
            ? PipelineModel.Mode.COMPARE_ONLY
            : rerun.reprocess() ? PipelineModel.Mode.REPROCESS : PipelineModel.Mode.CHANGED;
    JsonNode answer = driver.rerun(original.jobId(), rerun.reprocess());
    jobs.runRows(answer.path("jobId").asText(), commit, mode);
  }

  /** The one job of {@code pipeline} among a change's job references (null: none expected). */
  private String expectJobs(JsonNode refs, String pipeline) {
    List<String> found = new ArrayList<>();
    refs.forEach(
        ref -> found.add(ref.path("pipeline").asText() + "=" + ref.path("jobId").asText()));
    boolean ok =
        pipeline == null
            ? found.isEmpty()
            : found.size() == 1 && found.get(0).startsWith(pipeline + "=");
    if (!ok) {
      report(
          List.of(
              "jobs started: expected "
                  + (pipeline == null ? "none" : "one of " + pipeline)
                  + ", actual "
                  + found),
          () -> {});
    }
    for (JsonNode ref : refs) {
      if (ref.path("pipeline").asText().equals(pipeline)) {
        return ref.path("jobId").asText();
      }
    }
    return null;
  }

  /** The started job of a pipeline change, checked against whether one was expected. */
  private String expectJob(JsonNode job, boolean expected, String what) {
    boolean started = job.isObject();
    if (started != expected) {
      report(
          List.of(
              what
                  + ": expected "
                  + (expected ? "a job" : "no job")
                  + ", actual "
                  + (started ? "job " + job.path("jobId").asText() : "none")),
          () -> {});
    }
    return started ? job.path("jobId").asText() : null;
  }

  private static RepoModel.CommitInfo commitInfo(JsonNode commit) {
    Map<Integer, Long> end = new TreeMap<>();
    commit
        .path("endOffsets")
        .forEach(o -> end.put(o.path("partition").asInt(), o.path("offset").asLong()));
    return new RepoModel.CommitInfo(
        commit.path("id").asText(), commit.path("sequence").asLong(), end);
  }

  /** Where each record went: with the seed, what a reproduction needs to explain a difference. */
  private void printPositions(List<Op.RowToSend> rows, List<SentRow> sent) {
    StringBuilder line = new StringBuilder("    sent");
    for (int i = 0; i < rows.size(); i++) {
      SentRow row = sent.get(i);
      line.append(' ')
          .append(rows.get(i).id())
          .append(row.valid() ? "/" + row.member() : "")
          .append('@')
          .append(row.partition())
          .append(':')
          .append(row.offset());
    }
    out.println(line);
  }

  /** Throws (or, with keepGoing, records, resyncs the model and prints) the differences. */
  private void report(List<String> problems, Runnable adopt) {
    if (problems.isEmpty()) {
      return;
    }
    SoakMismatch mismatch = new SoakMismatch(settings.seed(), opIndex, op, problems);
    if (!settings.keepGoing()) {
      throw mismatch;
    }
    out.println("MISMATCH " + mismatch.getMessage());
    mismatches.add(mismatch.getMessage());
    adopt.run();
  }
}
