package io.tusk.partition;

import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.schemas.Claim;
import io.tusk.schemas.Claims;
import io.tusk.schemas.ClaimsDone;
import io.tusk.schemas.Commit;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Release;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.Seal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.Utils;
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
 *
 * <p>Claims go out in batches ({@link Claims}), one record per row-owners partition for up to
 * {@link #BATCH_CLAIMS} claims, instead of one record per row key: a claim record per keyed row was
 * a fifth of the partition stage's records. A batch never outlives the completion step that filled
 * it ({@link #flush}), so it is written in the same Streams transaction as the step's stores, and
 * before the commit's claims-done marker.
 */
final class RowMoves {
  private static final Logger log = LoggerFactory.getLogger(RowMoves.class);

  /** Claims per batch record at most. */
  static final int BATCH_CLAIMS = 500;

  /**
   * Characters of a batch's strings at most (a row key's values have no length limit): keeps a
   * batch far below Kafka's default 1 MiB record size.
   */
  static final int BATCH_CHARS = 256 * 1024;

  private final MemberTask task;
  private final MemberUpdates updates;
  private final Map<Integer, Batch> unsent = new HashMap<>();
  private String unsentRepo;

  /** The claims waiting for one row-owners partition, and their strings' length. */
  private static final class Batch {
    final List<Claim> claims = new ArrayList<>();
    int chars;
  }

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
   * The row-owners partition of a row key's records: the one Kafka's default partitioner picks for
   * the key ({@code <repo>.row-owners} has {@code partitions} partitions, the repo's member
   * partitions), so a batch keyed by its first claim's key lands where each of its claims would.
   */
  static int rowOwnerPartition(String ownerKey, int partitions) {
    return Utils.toPositive(Utils.murmur2(ownerKey.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /**
   * Claims the row keys of a member's rows in a commit: per key, the member's last row of it (rows
   * come in source order) gives the position, and whether it deletes the key. The claims wait in
   * this step's batches ({@link #flush}).
   */
  void claim(
      String repo,
      String member,
      long sequence,
      int partitions,
      List<Row> incoming,
      RepoLayout layout) {
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
          partitions,
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
   * budget is spent; those of earlier commits (seen again) are dropped. Sends every batched claim
   * before it returns.
   */
  CommitCompletion.Step claimDeletes(
      String repo,
      Commit commit,
      int partitions,
      CommitCompletion.Range range,
      Progress progress,
      Budget budget) {
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
              partitions,
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
    done.forEach(key -> StoreKeys.drop(task.stores.pendingDeletes(), key));
    flush();
    return new CommitCompletion.Step(progress.applied(resumeAt, 0, 0, 0), resumeAt == null);
  }

  private void send(String repo, int partitions, Claim claim) {
    if (!repo.equals(unsentRepo)) {
      flush();
      unsentRepo = repo;
    }
    int partition = rowOwnerPartition(ownerKey(claim.getTable(), claim.getRowKey()), partitions);
    Batch batch = unsent.computeIfAbsent(partition, p -> new Batch());
    batch.claims.add(claim);
    batch.chars += chars(claim);
    if (batch.claims.size() >= BATCH_CLAIMS || batch.chars >= BATCH_CHARS) {
      send(batch);
      unsent.remove(partition);
    }
  }

  private static int chars(Claim claim) {
    int chars = claim.getTable().length() + claim.getMember().length() + 32;
    for (String value : claim.getRowKey()) {
      chars += value == null ? 1 : value.length() + 1;
    }
    return chars + (claim.getErasure() == null ? 0 : claim.getErasure().length());
  }

  private void send(Batch batch) {
    Claim first = batch.claims.get(0);
    task.forwardWithRepo(
        unsentRepo,
        ownerKey(first.getTable(), first.getRowKey()),
        new RowOwnerEvent(new Claims(List.copyOf(batch.claims))),
        PartitionSinks.CLAIMS);
  }

  /**
   * Sends the claims batched so far. Called at the end of every completion step that claims, so no
   * claim waits past the Streams transaction of the rows that made it.
   */
  void flush() {
    unsent.values().forEach(this::send);
    unsent.clear();
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
      markers.forEach(key -> StoreKeys.drop(task.stores.releaseMarkers(), key));
    }
    applied.forEach(key -> StoreKeys.drop(task.stores.pendingReleases(), key));
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
