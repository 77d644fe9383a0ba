package io.tusk.partition;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.schemas.Claim;
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.Erase;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowOwnerEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Erasure of members on the member side (issue 10). An {@link Erase} of member M at commit N waits
 * in {@code pending-erasures-store} until N completes here. Then, after N's rows, deletes and
 * releases: M becomes absent at N (a REMOVED entry in N's changed set, a tombstone on {@code
 * <repo>.members}), every version of M before N goes with its chunks and its entries in earlier
 * changed sets, and the row-owner stage forgets the row keys M held. An entry in {@code
 * member-erasures-store} lists the pipelines of N's jobs; each clears M when its removal datum
 * (which carries the request) succeeded, or at once when M has no output there, and then M's datum
 * state and failed-datum record of that pipeline go. Once every pipeline cleared M, its version at
 * N, N's changed-set entry for it and the erasure entry go: no store of this task keeps M's key.
 *
 * <p>Erasures are rare: each is done in the step that meets it (a member of 20,000 rows and 52
 * versions is a few hundred store operations), not in budgeted slices.
 */
final class Erasures {
  private static final Logger log = LoggerFactory.getLogger(Erasures.class);

  /**
   * The source partition of a claim that makes the row-owner stage forget a key an erased member
   * holds (no row has it; -1 is the schema's default for claims without a position).
   */
  static final int FORGET = Integer.MIN_VALUE;

  private final MemberTask task;
  private final MemberUpdates updates;

  Erasures(MemberTask task, MemberUpdates updates) {
    this.task = task;
    this.updates = updates;
  }

  /** Keeps an Erase until its commit completes; one of a completed commit is ignored. */
  void onErase(String repo, String member, Erase erase, Progress progress) {
    if (erase.getSequence() <= progress.lastCompleted()) {
      log.warn(
          "Erasure {} of repo {} names completed commit {}; ignored",
          erase.getRequest(),
          repo,
          erase.getSequence());
      return;
    }
    task.stores
        .pendingErasures()
        .put(StoreKeys.pendingErasure(repo, erase.getSequence(), member), erase.getRequest());
  }

  /** The erasure entry of a member whose removal datums are not all done, or null. */
  MemberErasure of(String repo, String member) {
    return task.stores.erasures().get(StoreKeys.member(repo, member));
  }

  /** Erases the members whose erasure waits for commit N, which is about to finish. */
  Progress apply(String repo, Commit commit, RepoLayout layout, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.changedSet(repo, commit.getSequence());
    List<KeyValue<Bytes, String>> due = new ArrayList<>();
    try (KeyValueIterator<Bytes, String> all =
        task.stores.pendingErasures().range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(due::add);
    }
    MemberUpdates.Changes changes = new MemberUpdates.Changes();
    for (KeyValue<Bytes, String> entry : due) {
      String member = StoreKeys.decodeChanged(entry.key).member();
      erase(repo, member, entry.value, commit, layout, changes, budget);
      StoreKeys.drop(task.stores.pendingErasures(), entry.key);
    }
    return progress.applied(progress.cursor(), 0, changes.changed, changes.members);
  }

  /** Removes the member at the commit and purges its history (erasure step 2). */
  void erase(
      String repo,
      String member,
      String request,
      Commit commit,
      RepoLayout layout,
      MemberUpdates.Changes changes,
      Budget budget) {
    long sequence = commit.getSequence();
    MemberObject latest = task.versions.asOf(repo, member, sequence);
    List<Row> held = MemberVersions.present(latest) ? task.versions.rows(latest) : List.<Row>of();
    updates.update(repo, member, List.of(), commit, changes, budget);
    int purged = purgeBefore(repo, member, sequence);
    if (RowMoves.hasRowKeys(layout)) {
      forgetRowKeys(repo, member, request, sequence, held, layout);
    }
    Map<String, String> pipelines = new HashMap<>();
    for (JobRef job : commit.getJobs()) {
      pipelines.put(job.getPipeline(), Hashing.datumHash(job.getSpecHash(), ""));
    }
    MemberErasure erasure = new MemberErasure(request, sequence, pipelines);
    log.info(
        "Erasure {} removed a member of repo {} at commit {} ({} rows, {} older versions purged);"
            + " {} pipelines to clear",
        request,
        repo,
        sequence,
        held.size(),
        purged,
        pipelines.size());
    if (pipelines.isEmpty()) {
      finish(repo, member, erasure);
    } else {
      task.stores.erasures().put(StoreKeys.member(repo, member), erasure);
    }
  }

  /**
   * Deletes every version of the member older than {@code sequence}, with its chunks and its
   * entries in the changed sets (each version's commit has one, unless pruned with its set).
   *
   * @return how many versions went
   */
  private int purgeBefore(String repo, String member, long sequence) {
    uncount(task, repo, task.versions.presenceBefore(repo, member, sequence), new TreeMap<>());
    List<Long> sequences = task.versions.sequencesBefore(repo, member, sequence);
    for (long s : sequences) {
      StoreKeys.drop(task.stores.changedSets(), StoreKeys.changed(repo, s, member));
    }
    task.versions.deleteBefore(repo, member, sequence);
    return sequences.size();
  }

  /**
   * After a purge of a member's history: every completed commit as of which the member was present
   * before the purge and is absent after it counts one member fewer, so that a job over that commit
   * (a re-run) totals the members its datums can see. Erasures are rare; this reads the repo's
   * commit marks once.
   *
   * @param before the member's presence by version sequence before the purge ({@link
   *     MemberVersions#presenceBefore})
   * @param after the same after the purge (empty when every version went)
   */
  static void uncount(
      MemberTask task,
      String repo,
      NavigableMap<Long, Boolean> before,
      NavigableMap<Long, Boolean> after) {
    if (before.isEmpty()) {
      return;
    }
    long first = before.firstKey();
    Bytes prefix = StoreKeys.repo(repo);
    List<KeyValue<Bytes, CommitMark>> fewer = new ArrayList<>();
    try (KeyValueIterator<Bytes, CommitMark> marks =
        task.stores.commitMarks().range(prefix, StoreKeys.upperBound(prefix))) {
      marks.forEachRemaining(
          kv -> {
            long s = kv.value.sequence();
            if (s >= first && presentAt(before, s) && !presentAt(after, s)) {
              fewer.add(kv);
            }
          });
    }
    for (KeyValue<Bytes, CommitMark> kv : fewer) {
      CommitMark mark = kv.value;
      task.stores
          .commitMarks()
          .put(kv.key, new CommitMark(mark.sequence(), Math.max(0, mark.members() - 1)));
    }
  }

  private static boolean presentAt(NavigableMap<Long, Boolean> presence, long sequence) {
    Map.Entry<Long, Boolean> newest = presence.floorEntry(sequence);
    return newest != null && newest.getValue();
  }

  /**
   * Tells the row-owner stage to forget the row keys the member held: a claim marked {@link
   * #FORGET} drops a key's owner if it is still this member, so no owner entry names it.
   */
  private void forgetRowKeys(
      String repo,
      String member,
      String request,
      long sequence,
      List<Row> held,
      RepoLayout layout) {
    Set<List<Object>> keys = new LinkedHashSet<>();
    for (Row row : held) {
      TableLayout table = layout.table(row.getTable());
      if (table == null || !table.hasRowKey()) {
        continue;
      }
      List<String> rowKey = table.rowKeyOf(row.getValues());
      if (keys.add(List.of(row.getTable(), rowKey))) {
        Claim forget =
            Claim.newBuilder()
                .setTable(row.getTable())
                .setRowKey(rowKey)
                .setMember(member)
                .setSequence(sequence)
                .setMemberPartition(task.partition())
                .setSourcePartition(FORGET)
                .setSourceOffset(FORGET)
                .setDelete(true)
                .setErasure(request)
                .build();
        task.forwardWithRepo(
            repo,
            RowMoves.ownerKey(forget.getTable(), forget.getRowKey()),
            new RowOwnerEvent(forget),
            PartitionSinks.CLAIMS);
      }
    }
  }

  /**
   * A datum outcome of an erased member (erasure step 4): the success of a pipeline's removal datum
   * clears it (M's datum state and failed-datum record of the pipeline go instead of being
   * recorded); an outcome of a pipeline already cleared is dropped, so it cannot bring M's state
   * back.
   *
   * @return whether the outcome was handled here (else it is recorded as usual)
   */
  boolean onDatumDone(String repo, String member, DatumDone done) {
    MemberErasure erasure = of(repo, member);
    if (erasure == null) {
      return false;
    }
    if (!erasure.pendingIn(done.getPipeline())) {
      return true;
    }
    String removal = erasure.pending().get(done.getPipeline());
    if (!done.getSucceeded() || !removal.equals(done.getDatumHash())) {
      return false; // an earlier datum's outcome, or a failed removal that the next job retries
    }
    clear(repo, member, done.getPipeline());
    return true;
  }

  /**
   * The pipeline no longer holds anything of the member: its datum state and failed-datum record
   * go; once no pipeline is left, the erasure finishes.
   */
  void clear(String repo, String member, String pipeline) {
    Bytes key = StoreKeys.member(repo, member);
    MemberErasure erasure = task.stores.erasures().get(key);
    if (erasure == null || !erasure.pendingIn(pipeline)) {
      return;
    }
    Bytes state = StoreKeys.pipelineMember(repo, pipeline, member);
    StoreKeys.drop(task.stores.datumStates(), state);
    StoreKeys.drop(task.stores.failedDatums(), state);
    MemberErasure rest = erasure.cleared(pipeline);
    if (rest.pending().isEmpty()) {
      finish(repo, member, rest);
    } else {
      task.stores.erasures().put(key, rest);
    }
  }

  /** Deletes the member's removed version at the erasure commit, its entry there, the erasure. */
  private void finish(String repo, String member, MemberErasure erasure) {
    task.versions.deleteBefore(repo, member, erasure.sequence() + 1);
    StoreKeys.drop(task.stores.changedSets(), StoreKeys.changed(repo, erasure.sequence(), member));
    StoreKeys.drop(task.stores.erasures(), StoreKeys.member(repo, member));
    log.info(
        "Erasure {} of a member of repo {} is done in member partition {}",
        erasure.request(),
        repo,
        task.partition());
  }
}
