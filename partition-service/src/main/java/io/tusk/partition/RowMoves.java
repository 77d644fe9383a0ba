package io.tusk.partition;

import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.schemas.Claim;
import io.tusk.schemas.ClaimsDone;
import io.tusk.schemas.Commit;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Release;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.Seal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member side of row moves and deletes by row key (docs/versioning-and-processing.md): a row
 * key identifies a row in its table whatever member holds it. Phase 1 of a commit claims, for every
 * row key its rows touch, the key for the member with the position of the member's latest row of
 * that key (a delete claims it as deleted), and claims the keys of the commit's deletes by row key
 * ({@link RowDelete}, from output tombstones of an upstream pipeline) for no member; then a
 * claims-done marker goes to every row-owner partition. The row-owner stage ({@link
 * RowOwnerProcessor}) settles each key on its latest claim and sends a release to every other
 * member that holds it. Phase 2 applies the releases once every row-owner partition's releases-done
 * marker is in.
 */
final class RowMoves {
  private static final Logger log = LoggerFactory.getLogger(RowMoves.class);

  private final MemberTask task;
  private final MemberUpdates updates;

  RowMoves(MemberTask task, MemberUpdates updates) {
    this.task = task;
    this.updates = updates;
  }

  static boolean hasRowKeys(RepoLayout layout) {
    return layout.spec().getTables().stream().anyMatch(t -> !t.getRowKey().isEmpty());
  }

  /** The key of a row key's records on {@code <repo>.row-owners}: one task sees all of a key. */
  static String ownerKey(String table, List<String> rowKey) {
    return table + "/" + String.join("/", rowKey.stream().map(String::valueOf).toList());
  }

  /**
   * Claims the row keys of a member's rows in a commit: per key, the member's last row of it (rows
   * come in source order) gives the position, and whether it deletes the key.
   */
  void claim(String repo, String member, long sequence, List<Row> incoming, RepoLayout layout) {
    Map<List<Object>, Row> latest = new LinkedHashMap<>();
    for (Row row : incoming) {
      TableLayout table = layout.table(row.getTable());
      if (table != null && table.hasRowKey()) {
        latest.put(List.of(row.getTable(), table.rowKeyOf(row.getValues())), row);
      }
    }
    for (Row row : latest.values()) {
      TableLayout table = layout.table(row.getTable());
      List<String> rowKey = table.rowKeyOf(row.getValues());
      send(
          repo,
          Claim.newBuilder()
              .setTable(row.getTable())
              .setRowKey(rowKey)
              .setMember(member)
              .setSequence(sequence)
              .setMemberPartition(task.partition())
              .setSourcePartition(row.getSourcePartition())
              .setSourceOffset(row.getSourceOffset())
              .setDelete(table.isDelete(row.getValues()))
              .build());
    }
  }

  /**
   * Claims, as deleted, the row keys of the commit's deletes by row key, until the scan ends or the
   * budget is spent; those of earlier commits (seen again) are dropped.
   */
  CommitCompletion.Step claimDeletes(
      String repo, Commit commit, CommitCompletion.Range range, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.repo(repo);
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> done = new ArrayList<>();
    Bytes resumeAt = null;
    try (KeyValueIterator<Bytes, RowDelete> deletes =
        task.stores.pendingDeletes().range(from, StoreKeys.upperBound(prefix))) {
      while (deletes.hasNext()) {
        KeyValue<Bytes, RowDelete> entry = deletes.next();
        if (budget.exhausted()) {
          resumeAt = entry.key;
          break;
        }
        budget.visited();
        RowDelete delete = entry.value;
        if (range.before(delete.getSourcePartition(), delete.getSourceOffset())) {
          done.add(entry.key);
        } else if (range.contains(delete.getSourcePartition(), delete.getSourceOffset())) {
          done.add(entry.key);
          send(
              repo,
              Claim.newBuilder()
                  .setTable(delete.getTable())
                  .setRowKey(delete.getRowKey())
                  .setMember("")
                  .setSequence(commit.getSequence())
                  .setMemberPartition(task.partition())
                  .setSourcePartition(delete.getSourcePartition())
                  .setSourceOffset(delete.getSourceOffset())
                  .setDelete(true)
                  .setErasure(delete.getErasure())
                  .build());
        }
      }
    }
    done.forEach(task.stores.pendingDeletes()::delete);
    return new CommitCompletion.Step(progress.applied(resumeAt, 0, 0, 0), resumeAt == null);
  }

  private void send(String repo, Claim claim) {
    task.forwardWithRepo(
        repo,
        ownerKey(claim.getTable(), claim.getRowKey()),
        new RowOwnerEvent(claim),
        PartitionSinks.CLAIMS);
  }

  /** Tells every row-owner partition that this partition sent every claim of the commit. */
  void claimsDone(String repo, Seal seal) {
    ClaimsDone done =
        ClaimsDone.newBuilder()
            .setSequence(seal.getCommit().getSequence())
            .setMemberPartition(task.partition())
            .setMemberPartitions(seal.getMemberPartitions())
            .build();
    task.forwardWithRepo(repo, null, new RowOwnerEvent(done), PartitionSinks.CLAIM_MARKERS);
  }

  /** Whether every row-owner partition's releases of commit {@code sequence} are in. */
  boolean releasesDone(String repo, long sequence, int rowOwnerPartitions) {
    Bytes prefix = StoreKeys.changedSet(repo, sequence);
    int markers = 0;
    try (KeyValueIterator<Bytes, Long> all =
        task.stores.releaseMarkers().range(prefix, StoreKeys.upperBound(prefix))) {
      while (all.hasNext()) {
        all.next();
        markers++;
      }
    }
    return markers >= rowOwnerPartitions;
  }

  /** Removes released rows from their members, member by member, within the budget. */
  CommitCompletion.Step applyReleases(
      String repo, Commit commit, RepoLayout layout, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.changedSet(repo, commit.getSequence());
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> applied = new ArrayList<>();
    List<Release> memberReleases = new ArrayList<>();
    MemberUpdates.Changes changes = new MemberUpdates.Changes();
    Bytes resumeAt = null;
    String member = null;
    try (KeyValueIterator<Bytes, Release> releases =
        task.stores.pendingReleases().range(from, StoreKeys.upperBound(prefix))) {
      while (releases.hasNext()) {
        KeyValue<Bytes, Release> entry = releases.next();
        if (!entry.value.getMember().equals(member)) {
          release(repo, member, memberReleases, commit, layout, changes, budget);
          if (budget.exhausted()) {
            resumeAt = entry.key;
            break;
          }
          member = entry.value.getMember();
        }
        budget.visited();
        memberReleases.add(entry.value);
        applied.add(entry.key);
      }
    }
    if (resumeAt == null) {
      release(repo, member, memberReleases, commit, layout, changes, budget);
      List<Bytes> markers = new ArrayList<>();
      try (KeyValueIterator<Bytes, Long> all =
          task.stores.releaseMarkers().range(prefix, StoreKeys.upperBound(prefix))) {
        all.forEachRemaining(kv -> markers.add(kv.key));
      }
      markers.forEach(task.stores.releaseMarkers()::delete);
    }
    applied.forEach(task.stores.pendingReleases()::delete);
    return new CommitCompletion.Step(
        progress.applied(resumeAt, 0, changes.changed, changes.members), resumeAt == null);
  }

  private void release(
      String repo,
      String member,
      List<Release> releases,
      Commit commit,
      RepoLayout layout,
      MemberUpdates.Changes changes,
      Budget budget) {
    if (member == null || releases.isEmpty()) {
      releases.clear();
      return;
    }
    long sequence = commit.getSequence();
    MemberObject latest = task.versions.asOf(repo, member, sequence);
    boolean present = MemberVersions.present(latest);
    if (present) {
      List<Row> before = task.versions.rows(latest);
      List<Row> rows = before;
      for (Release release : releases) {
        rows = MemberObjects.remove(rows, release.getTable(), release.getRowKey(), layout);
      }
      if (rows.size() != before.size()) {
        updates.update(repo, member, rows, commit, changes, budget);
        present = !rows.isEmpty();
      }
    }
    // Rows an erasure's delete took go from every version of the member, and a member left with
    // no rows is erased with the same request when the commit finishes.
    String erasure = null;
    Set<List<Object>> erased = new HashSet<>();
    for (Release release : releases) {
      if (release.getErasure() != null) {
        erasure = release.getErasure();
        erased.add(List.of(release.getTable(), release.getRowKey()));
      }
    }
    if (erasure != null) {
      NavigableMap<Long, Boolean> before = task.versions.presenceBefore(repo, member, sequence);
      int purged = task.versions.purgeRows(repo, member, sequence, erased, layout);
      Erasures.uncount(task, repo, before, task.versions.presenceBefore(repo, member, sequence));
      log.info(
          "Erasure {} purged {} rows from {} versions of a member of repo {}",
          erasure,
          erased.size(),
          purged,
          repo);
    }
    if (erasure != null && !present) {
      task.stores.pendingErasures().put(StoreKeys.pendingErasure(repo, sequence, member), erasure);
    }
    releases.clear();
  }
}
