package io.tusk.partition;

import io.tusk.common.member.Hashing;
import io.tusk.common.topics.Headers;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits a job's datums in one member partition (docs/versioning-and-processing.md "Jobs on the
 * member side"), in slices within the step's budget. The rule is the same for every kind of job: a
 * member is processed when the output it should have at the job's commit differs from its current
 * output (the datum hash of its version at the commit, or "removed" when it is absent there but has
 * an output); every other member is skipped (Pachyderm's skip). A member whose last datum did not
 * succeed (it failed, or it was lost: a job killed with datums in flight) keeps its older output,
 * so it differs, and is always among the candidates, until a datum of it succeeds. What differs is
 * where candidates come from:
 *
 * <ul>
 *   <li>an incremental job looks at the members changed between the commit the pipeline's outputs
 *       reflect ({@link PipelineJobs#served}) and the job's commit, in either direction (so commits
 *       sealed on other branches in between, and seals after a rewind, are covered), plus the
 *       members whose last datum failed; when those changed sets are pruned (or the range is long)
 *       it looks at every member instead;
 *   <li>a full job (branch moves, pipeline creation and updates) and a reprocess look at every
 *       member, also those absent at the commit (their outputs are removed); a reprocess emits
 *       every present member whatever its state;
 *   <li>a restart looks at the members that failed in the same job.
 * </ul>
 *
 * A re-run over a commit other than the one the outputs reflect only compares: its datums say so,
 * the processor writes no output, and the datum states stay as they are. After its datums the job
 * sends this partition's {@link JobPart}.
 *
 * <p>A member larger than one record is sent as consecutive parts ({@code Datum.part}) in the
 * transaction of the step; every datum record carries the job, datum hash and repo in headers, so a
 * processor that cannot decode one can still report it.
 */
final class DatumEmission {
  private static final Logger log = LoggerFactory.getLogger(DatumEmission.class);

  /** Longest range of changed sets an incremental job reads before it scans every member. */
  static final long MAX_CHANGED_RANGE = 64;

  /** The most row bytes (estimated) one datum record carries; larger members go in parts. */
  static final int DATUM_PART_BYTES = MemberVersions.CHUNK_BYTES;

  private final MemberTask task;
  private final Erasures erasures;

  DatumEmission(MemberTask task, Erasures erasures) {
    this.task = task;
    this.erasures = erasures;
  }

  /**
   * Starts the head job: decides whether it only compares, which scan it begins with, and (unless
   * it only compares) that the pipeline's outputs now follow its commit. A job over a commit older
   * than the history floor is refused: its part names the error and it emits nothing.
   */
  PipelineJobs start(String repo, JobRequest request, PipelineJobs jobs, Progress progress) {
    JobRef job = request.getJobs().get(0);
    Commit commit = request.getCommit();
    long sequence = commit.getSequence();
    if (progress.floor() > 1 && sequence < progress.floor()) {
      String error =
          "commit "
              + commit.getId()
              + " (sequence "
              + sequence
              + ") is older than the repo's history floor (sequence "
              + progress.floor()
              + "): its member versions were pruned";
      log.warn("Job {} of pipeline {} refused: {}", job.getJobId(), job.getPipeline(), error);
      PipelineJobs refused = jobs.started(PipelineJobs.Scan.VERSIONS, jobs.served(), true);
      sendPart(repo, request, refused, error);
      return refused.running();
    }
    boolean compareOnly = job.getKind() == JobKind.RERUN && sequence != jobs.served();
    PipelineJobs.Scan first =
        switch (job.getMode()) {
          case FULL, REPROCESS -> PipelineJobs.Scan.VERSIONS;
          case FAILED_ONLY -> PipelineJobs.Scan.FAILED;
          case INCREMENTAL ->
              changedSetsCover(jobs.served(), sequence, progress.floor())
                  ? PipelineJobs.Scan.CHANGED
                  : PipelineJobs.Scan.VERSIONS;
        };
    // A restart re-runs failed datums of its job's commit; only other jobs move the outputs.
    boolean moves = !compareOnly && job.getMode() != JobMode.FAILED_ONLY;
    return jobs.started(first, moves ? sequence : jobs.served(), compareOnly);
  }

  /** Whether the changed sets of every commit between the two (exclusive of the lower) are kept. */
  private static boolean changedSetsCover(long served, long sequence, long floor) {
    long low = Math.min(served, sequence);
    long high = Math.max(served, sequence);
    return high - low <= MAX_CHANGED_RANGE && (floor <= 1 || low >= floor);
  }

  /** Emits the head job's datums until its scans end or the budget is spent. */
  PipelineJobs run(
      String repo, JobRequest request, PipelineJobs jobs, Progress progress, Budget budget) {
    Emission emission = new Emission(repo, request, jobs, budget);
    PipelineJobs.Scan scan = jobs.scan();
    boolean done = false;
    while (!done && !budget.exhausted()) {
      boolean scanned =
          switch (scan) {
            case CHANGED -> emission.scanChanged();
            case FAILED -> emission.scanFailed();
            case VERSIONS -> emission.scanVersions();
          };
      if (!scanned) {
        break;
      }
      if (scan == PipelineJobs.Scan.CHANGED) {
        scan = PipelineJobs.Scan.FAILED;
        emission.cursor = null;
      } else {
        done = true;
      }
    }
    if (done) {
      emission.considerErased();
    }
    // Written after the scans: the failed-datum iterator must not see its own store change.
    emission.emitted.forEach(
        key -> task.stores.failedDatums().put(key, request.getJobs().get(0).getJobId()));
    String pipeline = request.getJobs().get(0).getPipeline();
    emission.cleared.forEach(member -> erasures.clear(repo, member, pipeline));
    PipelineJobs after =
        jobs.emitting(scan, emission.cursor, emission.removals, emission.toProcess);
    if (!done) {
      return after;
    }
    sendPart(repo, request, after, null);
    return after.running();
  }

  /** One slice of the emission of the head job's datums. */
  private final class Emission {
    private final String repo;
    private final String pipeline;
    private final JobRef job;
    private final Commit commit;
    private final Budget budget;
    private final boolean compareOnly;
    private final long low;
    private final long high;

    /** State keys of the datums emitted, which stay "not succeeded" until their outcome. */
    private final List<Bytes> emitted = new ArrayList<>();

    /** Erased members this pipeline holds nothing of (no output to remove): cleared at once. */
    private final Set<String> cleared = new LinkedHashSet<>();

    private Bytes cursor;
    private long removals;
    private long toProcess;

    Emission(String repo, JobRequest request, PipelineJobs jobs, Budget budget) {
      this.repo = repo;
      this.job = request.getJobs().get(0);
      this.pipeline = job.getPipeline();
      this.commit = request.getCommit();
      this.budget = budget;
      this.compareOnly = jobs.compareOnly();
      this.low = Math.min(jobs.since(), commit.getSequence());
      this.high = Math.max(jobs.since(), commit.getSequence());
      this.cursor = jobs.cursor();
      this.removals = jobs.removals();
      this.toProcess = jobs.toProcess();
    }

    /** INCREMENTAL: the members changed in the commits of {@code (low, high]}. */
    boolean scanChanged() {
      if (low == high) {
        return true;
      }
      Bytes from = cursor == null ? StoreKeys.changedSet(repo, low + 1) : cursor;
      Bytes to = StoreKeys.upperBound(StoreKeys.changedSet(repo, high));
      try (KeyValueIterator<Bytes, Long> changed = task.stores.changedSets().range(from, to)) {
        while (changed.hasNext()) {
          KeyValue<Bytes, Long> entry = changed.next();
          if (budget.exhausted()) {
            cursor = entry.key;
            return false;
          }
          budget.visited();
          StoreKeys.ChangedKey key = StoreKeys.decodeChanged(entry.key);
          // A member changed in several commits of the range is looked at in the last of them.
          if (!changedIn(key.member(), key.sequence() + 1, high)) {
            consider(key.member(), task.versions.asOf(repo, key.member(), commit.getSequence()));
          }
        }
      }
      return true;
    }

    /** Whether the member is in a changed set of a commit in {@code [from, to]}. */
    private boolean changedIn(String member, long from, long to) {
      for (long s = from; s <= to; s++) {
        if (task.stores.changedSets().get(StoreKeys.changed(repo, s, member)) != null) {
          return true;
        }
      }
      return false;
    }

    /**
     * Members whose last datum did not succeed: for INCREMENTAL every one not looked at by the
     * changed scan, for FAILED_ONLY those that failed in this same job.
     */
    boolean scanFailed() {
      Bytes prefix = StoreKeys.named(repo, pipeline);
      boolean restart = job.getMode() == JobMode.FAILED_ONLY;
      try (KeyValueIterator<Bytes, String> failed =
          task.stores
              .failedDatums()
              .range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (failed.hasNext()) {
          KeyValue<Bytes, String> entry = failed.next();
          if (budget.exhausted()) {
            cursor = entry.key;
            return false;
          }
          budget.visited();
          String member = StoreKeys.decodePipelineMember(entry.key).member();
          if (restart ? !job.getJobId().equals(entry.value) : changedIn(member, low + 1, high)) {
            continue;
          }
          consider(member, task.versions.asOf(repo, member, commit.getSequence()));
        }
      }
      return true;
    }

    /** Every member the partition holds versions of, as of the job's commit. */
    boolean scanVersions() {
      Bytes prefix = StoreKeys.repo(repo);
      String member = null;
      MemberObject asOf = null;
      try (KeyValueIterator<Bytes, MemberObject> all =
          task.stores
              .versions()
              .range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (all.hasNext()) {
          KeyValue<Bytes, MemberObject> entry = all.next();
          MemberObject version = entry.value;
          if (!version.getMember().equals(member)) {
            if (member != null) {
              consider(member, asOf);
            }
            if (budget.exhausted()) {
              cursor = entry.key;
              return false;
            }
            member = version.getMember();
            asOf = null;
          }
          budget.visited();
          if (version.getSequence() <= commit.getSequence()) {
            asOf = version;
          }
        }
      }
      if (member != null) {
        consider(member, asOf);
      }
      return true;
    }

    /**
     * Emits the member's datum unless the rules skip it.
     *
     * @param version the member's version as of the job's commit, null if it did not exist then
     */
    private void consider(String member, MemberObject version) {
      Bytes stateKey = StoreKeys.pipelineMember(repo, pipeline, member);
      DatumStatus status = task.stores.datumStates().get(stateKey);
      JobMode mode = job.getMode();
      if (mode == JobMode.FAILED_ONLY && (status == null || !status.failedIn(job.getJobId()))) {
        return;
      }
      boolean removed = !MemberVersions.present(version);
      MemberErasure erasure = removed && !compareOnly ? erasureOf(member) : null;
      if (removed && (compareOnly || status == null || !status.hasCurrentOutput())) {
        if (erasure != null) {
          cleared.add(member);
        }
        return; // nothing to remove (or to compare)
      }
      String datumHash = Hashing.datumHash(job.getSpecHash(), removed ? "" : version.getHash());
      if (status != null && status.pendingIn(job.getJobId(), datumHash)) {
        return; // emitted by this job already
      }
      // A compare-only re-run checks every member, as a reprocess does.
      if ((mode == JobMode.INCREMENTAL || mode == JobMode.FULL)
          && !compareOnly
          && status != null
          && (status.isCurrent(datumHash) || (!removed && keptCurrent(status, version)))) {
        return;
      }
      MemberObject object = removed ? removal(member) : task.versions.whole(version);
      Datum.Builder datum =
          Datum.newBuilder()
              .setPipeline(pipeline)
              .setJobId(job.getJobId())
              .setCommitId(commit.getId())
              .setGlobalId(commit.getGlobalId())
              .setDatumHash(datumHash)
              .setSpecHash(job.getSpecHash())
              .setMode(mode)
              .setCommitSequence(commit.getSequence())
              .setLayoutVersion(commit.getLayoutVersion())
              .setCompareOnly(compareOnly)
              .setErasure(erasure == null ? null : erasure.request())
              .setExpectedOutputHash(
                  (mode == JobMode.REPROCESS || compareOnly) && status != null
                      ? status.outputHashOf(datumHash)
                      : null);
      emit(member, object, datum);
      if (!compareOnly) {
        task.stores
            .datumStates()
            .put(
                stateKey,
                (status == null ? DatumStatus.none() : status).emitted(datumHash, job.getJobId()));
        emitted.add(stateKey);
      }
      toProcess++;
      if (removed) {
        removals++;
      }
      budget.changed();
    }

    /**
     * The member's erasure if the pipeline has not cleared it yet, else null: any removal of its
     * output then carries the request (also one of a job over an older commit, which clears it).
     */
    private MemberErasure erasureOf(String member) {
      MemberErasure erasure = erasures.of(repo, member);
      return erasure != null && erasure.pendingIn(pipeline) ? erasure : null;
    }

    /**
     * Looks at every erased member this job is to clear that its scans did not emit (an incremental
     * job sees a member removed at the erasure commit only if it was present before), so each
     * pipeline clears every erased member.
     */
    void considerErased() {
      if (compareOnly) {
        return;
      }
      Bytes prefix = StoreKeys.repo(repo);
      List<String> erased = new ArrayList<>();
      try (KeyValueIterator<Bytes, MemberErasure> all =
          task.stores.erasures().range(prefix, StoreKeys.upperBound(prefix))) {
        all.forEachRemaining(
            kv -> {
              if (kv.value.pendingIn(pipeline) && commit.getSequence() >= kv.value.sequence()) {
                erased.add(StoreKeys.decodeName(kv.key));
              }
            });
      }
      for (String member : erased) {
        // A removal this job emitted already is skipped by consider itself.
        if (!cleared.contains(member)) {
          consider(member, task.versions.asOf(repo, member, commit.getSequence()));
        }
      }
    }

    /**
     * Whether the member's current output came from an earlier spec the pipeline keeps the outputs
     * of (updates with keepOutputsOnUpdate), over the same member content.
     */
    private boolean keptCurrent(DatumStatus status, MemberObject version) {
      for (String kept : job.getKeptSpecHashes()) {
        if (status.isCurrent(Hashing.datumHash(kept, version.getHash()))) {
          return true;
        }
      }
      return false;
    }

    /** The member object of a removal datum: no rows, no hash. */
    private MemberObject removal(String member) {
      return MemberObject.newBuilder()
          .setRepo(repo)
          .setMember(member)
          .setHash("")
          .setCommitId(commit.getId())
          .setSequence(commit.getSequence())
          .setRows(List.of())
          .build();
    }

    /** Sends the datum, in parts when its rows are too large for one record. */
    private void emit(String member, MemberObject object, Datum.Builder datum) {
      List<List<Row>> slices = MemberVersions.slices(object.getRows(), DATUM_PART_BYTES);
      RecordHeaders headers = new RecordHeaders();
      headers.add(Headers.JOB_ID, Headers.bytes(job.getJobId()));
      headers.add(Headers.DATUM_HASH, Headers.bytes(datum.getDatumHash()));
      headers.add(Headers.REPO, Headers.bytes(repo));
      long now = task.now();
      for (int i = 0; i < slices.size(); i++) {
        MemberObject part =
            slices.size() == 1
                ? object
                : MemberObject.newBuilder(object)
                    .setRows(new ArrayList<>(slices.get(i)))
                    .setRowCount(object.getRows().size())
                    .build();
        Datum record = datum.setMemberObject(part).setPart(i).setParts(slices.size()).build();
        task.context.forward(new Record<>(member, record, now, headers), PartitionSinks.DATUMS);
      }
    }
  }

  /** This partition's share of the job: members present as of its commit, datums emitted. */
  private void sendPart(String repo, JobRequest request, PipelineJobs jobs, String error) {
    JobRef job = request.getJobs().get(0);
    Commit commit = request.getCommit();
    CommitMark mark = task.stores.commitMarks().get(StoreKeys.named(repo, commit.getId()));
    if (mark == null && error == null) {
      log.warn(
          "Job {} runs over commit {} of repo {}, unknown in this partition: total 0",
          job.getJobId(),
          commit.getId(),
          repo);
    }
    long now = task.now();
    JobPart part =
        JobPart.newBuilder()
            .setJob(job)
            .setRepo(repo)
            .setCommitId(commit.getId())
            .setGlobalId(commit.getGlobalId())
            .setSequence(commit.getSequence())
            .setMemberPartition(task.partition())
            .setMemberPartitions(request.getMemberPartitions())
            // A removal datum is a datum of the job, so total covers it and skipped stays >= 0.
            .setTotal(
                error != null || mark == null ? jobs.removals() : mark.members() + jobs.removals())
            .setToProcess(jobs.toProcess())
            .setCreatedAt(now)
            .setError(error)
            .build();
    task.context.forward(new Record<>(job.getJobId(), part, now), PartitionSinks.JOB_PARTS);
    log.info(
        "Job {} ({} {}{}) of pipeline {} over commit {}: {} datums emitted in member partition {}",
        job.getJobId(),
        job.getKind(),
        job.getMode(),
        jobs.compareOnly() ? ", compare only" : "",
        job.getPipeline(),
        commit.getId(),
        jobs.toProcess(),
        task.partition());
  }
}
