package io.tusk.partition;

import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.MemberSkip;
import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.Row;
import io.tusk.schemas.Seal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Completes a repo's commits in one member partition (docs/internals.md step 3): commit N = last
 * completed + 1 is ready once its seal is known and every source partition's barrier has reached
 * the commit's end offset. A ready commit goes through the phases of {@link Progress.Phase}, each
 * in bounded slices (a cursor in the progress) so no Streams transaction grows past its timeout:
 * its pending rows are applied member by member (each changed member gets a new version, an entry
 * in the commit's changed-member set and a record on {@code <repo>.members}); its reject notices
 * are counted; for repos with row keys the row-owner round runs ({@link RowMoves}); then a {@link
 * CommitPart} is emitted and the commit is marked completed.
 *
 * <p>A row, reject or delete below the commit's start offset belongs to a commit completed before
 * (a source re-read after an offset reset sent it again): it is dropped, never applied twice.
 */
final class CommitCompletion {
  private static final Logger log = LoggerFactory.getLogger(CommitCompletion.class);

  private final MemberTask task;
  private final MemberUpdates updates;
  private final RowMoves moves;
  private final Erasures erasures;

  CommitCompletion(MemberTask task, MemberUpdates updates, RowMoves moves, Erasures erasures) {
    this.task = task;
    this.updates = updates;
    this.moves = moves;
    this.erasures = erasures;
  }

  /** The progress after a slice of a phase, and whether the phase's scan reached its end. */
  record Step(Progress progress, boolean done) {}

  /** Completes as much of the repo's ready commits as the budget allows. */
  Progress apply(String repo, Progress progress, Budget budget) {
    while (!budget.exhausted()) {
      Seal seal = task.stores.seals().get(StoreKeys.seal(repo, progress.lastCompleted() + 1));
      if (seal == null) {
        return progress;
      }
      Commit commit = seal.getCommit();
      if (progress.phase() == Progress.Phase.IDLE && !isReady(repo, commit)) {
        return progress;
      }
      RepoLayout layout = task.layout(repo, commit);
      if (layout == null) {
        return progress;
      }
      if (progress.phase() == Progress.Phase.IDLE) {
        log.debug("Commit {} of repo {} is ready", commit.getId(), repo);
        progress = progress.start();
      }
      Range range = new Range(commit);
      if (progress.phase() == Progress.Phase.ROWS) {
        Step step = applyRows(repo, seal, range, layout, progress, budget);
        progress = step.done() ? step.progress().phase(Progress.Phase.REJECTS) : step.progress();
      }
      if (progress.phase() == Progress.Phase.REJECTS) {
        Step step = countRejects(repo, range, progress, budget);
        progress = step.progress();
        if (step.done()) {
          progress =
              RowMoves.hasRowKeys(layout)
                  ? progress.phase(Progress.Phase.DELETES)
                  : finish(repo, seal, layout, progress, budget);
        }
      }
      if (progress.phase() == Progress.Phase.DELETES) {
        Step step =
            moves.claimDeletes(repo, commit, seal.getMemberPartitions(), range, progress, budget);
        progress = step.progress();
        if (step.done()) {
          moves.claimsDone(repo, seal);
          progress = progress.phase(Progress.Phase.WAIT_RELEASES);
        }
      }
      if (progress.phase() == Progress.Phase.WAIT_RELEASES
          && moves.releasesDone(repo, commit.getSequence(), seal.getMemberPartitions())) {
        progress = progress.phase(Progress.Phase.RELEASES);
      }
      if (progress.phase() == Progress.Phase.RELEASES) {
        Step step = moves.applyReleases(repo, commit, layout, progress, budget);
        progress =
            step.done() ? finish(repo, seal, layout, step.progress(), budget) : step.progress();
      }
      if (progress.phase() != Progress.Phase.IDLE) {
        return progress; // the budget ran out mid-commit, or releases are awaited
      }
    }
    return progress;
  }

  /**
   * The offsets of a commit per source partition: a position belongs to it when {@code start <=
   * offset < end}; below start it belongs to an earlier commit, at or past end to a later one.
   */
  static final class Range {
    private final Map<Integer, Long> start = new HashMap<>();
    private final Map<Integer, Long> end = new HashMap<>();

    Range(Commit commit) {
      for (PartitionOffset o : commit.getStartOffsets()) {
        start.put(o.getPartition(), o.getOffset());
      }
      for (PartitionOffset o : commit.getEndOffsets()) {
        end.put(o.getPartition(), o.getOffset());
      }
    }

    /** Whether the position is below the commit's start (an earlier commit's, seen again). */
    boolean before(int partition, long offset) {
      return offset < start.getOrDefault(partition, 0L);
    }

    /** Whether the position is in the commit. */
    boolean contains(int partition, long offset) {
      Long endOffset = end.get(partition);
      return endOffset != null && offset < endOffset && !before(partition, offset);
    }
  }

  /**
   * Erases the members whose erasure names the commit (after its rows, deletes and releases),
   * records the completed commit, emits its part and moves on to the next.
   */
  private Progress finish(
      String repo, Seal seal, RepoLayout layout, Progress progress, Budget budget) {
    Commit commit = seal.getCommit();
    progress = erasures.apply(repo, commit, layout, progress, budget);
    task.stores
        .commitMarks()
        .put(
            StoreKeys.named(repo, commit.getId()),
            new CommitMark(commit.getSequence(), progress.members()));
    emitPart(repo, seal, progress);
    StoreKeys.drop(task.stores.seals(), StoreKeys.seal(repo, commit.getSequence()));
    return progress.completed();
  }

  /** Commit N is ready when every source partition has forwarded every row below its end. */
  private boolean isReady(String repo, Commit commit) {
    for (PartitionOffset end : commit.getEndOffsets()) {
      Long barrier = task.stores.barriers().get(StoreKeys.barrier(repo, end.getPartition()));
      if ((barrier == null ? 0L : barrier) < end.getOffset()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Applies the commit's pending rows member by member, in key order (one member's rows are
   * contiguous and in source order), until the scan ends or the budget is spent. Rows of later
   * commits stay pending; rows of earlier ones are dropped. The slice's row-key claims are sent
   * before it returns.
   */
  private Step applyRows(
      String repo, Seal seal, Range range, RepoLayout layout, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.repo(repo);
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> applied = new ArrayList<>();
    long dropped = 0;
    Commit commit = seal.getCommit();
    MemberSlice slice = new MemberSlice(repo, seal, layout, budget);
    Bytes resumeAt = null;
    try (KeyValueIterator<Bytes, Row> rows =
        task.stores.pendingRows().range(from, StoreKeys.upperBound(prefix))) {
      while (rows.hasNext()) {
        KeyValue<Bytes, Row> entry = rows.next();
        StoreKeys.RowKey key = StoreKeys.decodeRow(entry.key);
        if (!key.member().equals(slice.member)) {
          slice.finishMember();
          if (budget.exhausted()) {
            resumeAt = entry.key;
            break;
          }
          slice.member = key.member();
        }
        budget.visited();
        if (range.before(key.partition(), key.offset())) {
          applied.add(entry.key);
          dropped++;
        } else if (range.contains(key.partition(), key.offset())) {
          slice.rows.add(entry.value);
          applied.add(entry.key);
        }
      }
    }
    if (resumeAt == null) {
      slice.finishMember();
    }
    moves.flush();
    if (dropped > 0) {
      log.warn(
          "Dropped {} rows of repo {} read again below commit {}'s start (a source offset reset)",
          dropped,
          repo,
          commit.getSequence());
    }
    // Deleted after the scan: the iterator must not see its own store change underneath it.
    applied.forEach(key -> StoreKeys.drop(task.stores.pendingRows(), key));
    return new Step(
        progress.applied(
            resumeAt, applied.size() - dropped, slice.changes.changed, slice.changes.members),
        resumeAt == null);
  }

  /** The rows of one member being collected, and the counts of the slice. */
  private final class MemberSlice {
    private final String repo;
    private final Commit commit;
    private final int partitions;
    private final RepoLayout layout;
    private final Budget budget;
    private final List<Row> rows = new ArrayList<>();
    private final MemberUpdates.Changes changes = new MemberUpdates.Changes();
    private String member;

    MemberSlice(String repo, Seal seal, RepoLayout layout, Budget budget) {
      this.repo = repo;
      this.commit = seal.getCommit();
      this.partitions = seal.getMemberPartitions();
      this.layout = layout;
      this.budget = budget;
    }

    /** Applies the collected rows to the member; stores and emits it if its content changed. */
    void finishMember() {
      if (member == null || rows.isEmpty()) {
        rows.clear();
        return;
      }
      long sequence = commit.getSequence();
      // Rows are kept as parsed, and the commit's layout may differ from the one they were parsed
      // with or stored under: both sides are fitted to it (added columns get their defaults).
      List<Row> incoming = layout.fit(rows);
      rows.clear();
      if (RowMoves.hasRowKeys(layout)) {
        // Every keyed row claims its key, also when it changes nothing here: the latest row of a
        // key decides which member holds it.
        moves.claim(repo, member, sequence, partitions, incoming, layout);
      }
      MemberObject old = task.versions.asOf(repo, member, sequence);
      List<Row> current = old == null ? List.of() : layout.fitted(task.versions.rows(old));
      if (old != null
          && old.getSequence() < sequence
          && MemberSkip.unchanged(current, incoming, layout)) {
        // Re-sent rows the member already holds: no change, decided without applying or hashing.
        return;
      }
      List<Row> merged = MemberObjects.apply(current, incoming, layout);
      updates.update(repo, member, merged, commit, changes, budget);
    }
  }

  /** Counts (and drops) the commit's reject notices until the scan ends or the budget is spent. */
  private Step countRejects(String repo, Range range, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.repo(repo);
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> done = new ArrayList<>();
    long counted = 0;
    Bytes resumeAt = null;
    try (KeyValueIterator<Bytes, String> rejects =
        task.stores.pendingRejects().range(from, StoreKeys.upperBound(prefix))) {
      while (rejects.hasNext()) {
        KeyValue<Bytes, String> entry = rejects.next();
        if (budget.exhausted()) {
          resumeAt = entry.key;
          break;
        }
        budget.visited();
        StoreKeys.PositionKey key = StoreKeys.decodePosition(entry.key);
        if (range.before(key.partition(), key.offset())) {
          done.add(entry.key); // counted on an earlier commit already
        } else if (range.contains(key.partition(), key.offset())) {
          done.add(entry.key);
          counted++;
        }
      }
    }
    done.forEach(key -> StoreKeys.drop(task.stores.pendingRejects(), key));
    return new Step(progress.rejectsCounted(resumeAt, counted), resumeAt == null);
  }

  private void emitPart(String repo, Seal seal, Progress progress) {
    Commit commit = seal.getCommit();
    int partition = task.partition();
    CommitPart part =
        CommitPart.newBuilder()
            .setCommit(commit)
            .setMemberPartition(partition)
            .setMemberPartitions(seal.getMemberPartitions())
            .setRows(progress.rows())
            .setRejected(progress.rejected())
            .setMembers(progress.members())
            .setChangedMembers(progress.changed())
            .build();
    task.context.forward(
        new Record<>(commit.getId(), part, task.now()), PartitionSinks.COMMIT_PARTS);
    log.info(
        "Completed commit {} (sequence {}) of repo {} in member partition {}: {} rows, {} rejected,"
            + " {} of {} members changed",
        commit.getId(),
        commit.getSequence(),
        repo,
        partition,
        progress.rows(),
        progress.rejected(),
        progress.changed(),
        progress.members());
  }
}
