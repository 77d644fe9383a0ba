package io.tusk.cli.soak;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The reference model of one repo, written from the rules in the semantics brief and nothing else:
 * every record sent (with its partition and offset), the commits (a linear chain of end offsets)
 * and the branch heads. A member object as of commit N is every valid row of commits 1..N applied
 * in order: commit by commit, within a commit by (partition, offset), so of two rows of one key in
 * different partitions the higher partition wins.
 *
 * <p>Erasing member M at commit E: at E, after E's rows are applied, every row M holds is removed
 * (a keyed row M held is gone, it does not revert to an earlier holder); at every commit before E M
 * is absent, while every other member is as before (M's rows still decided key ownership there);
 * rows M gets after E make it a new member. Member objects and diffs of every commit follow from
 * that, so a branch moved back, a re-run of an old job, etc. see no M either.
 */
final class RepoModel {
  /** A sealed commit: its sequence in the chain and the end offset of every partition. */
  record CommitInfo(String id, long sequence, Map<Integer, Long> endOffsets) {}

  /** An erasure of {@code member} by the commit of {@code sequence}. */
  record Erasure(String member, long sequence, String request) {}

  private final String name;
  private final int historyRetention;
  private final List<Erasure> erasures = new ArrayList<>();
  private final List<SentRow> sent = new ArrayList<>();
  private final List<CommitInfo> commits = new ArrayList<>();
  private final SortedMap<String, String> heads = new TreeMap<>();
  private final Map<String, SortedMap<String, List<SentRow>>> membersCache = new HashMap<>();

  /** The sequence of the first commit whose layout has NOTE.TAG (none: never). */
  private long taggedFrom = Long.MAX_VALUE;

  RepoModel(String name, int historyRetention) {
    this.name = Objects.requireNonNull(name, "name");
    this.historyRetention = historyRetention;
    heads.put("master", null);
  }

  String name() {
    return name;
  }

  void sent(SentRow row) {
    sent.add(row);
  }

  /** Records a seal: the next commit of the chain, and {@code branch} now points at it. */
  void sealed(CommitInfo commit, String branch) {
    if (commit.sequence() != commits.size() + 1) {
      throw new IllegalStateException(
          "commit "
              + commit.id()
              + " has sequence "
              + commit.sequence()
              + ", model expects "
              + (commits.size() + 1));
    }
    commits.add(commit);
    heads.put(branch, commit.id());
  }

  /**
   * Records that the newest commit, just {@link #sealed}, is the erasure commit of {@code member}
   * (request {@code request}): the member's history changes, so every member object is recomputed.
   */
  void erased(CommitInfo commit, String member, String request) {
    if (newest().filter(c -> c.id().equals(commit.id())).isEmpty()) {
      throw new IllegalStateException(
          "erasure commit " + commit.id() + " is not the newest commit of the model");
    }
    erasures.add(new Erasure(member, commit.sequence(), request));
    membersCache.clear();
  }

  /**
   * Records the layout update: NOTE has TAG from the commit of {@code startSequence} on. Rows are
   * kept as sent; what a layout makes of them is {@link #fitted}.
   */
  void tagged(long startSequence) {
    taggedFrom = startSequence;
  }

  /** Whether the layout of the commit of {@code sequence} has NOTE.TAG. */
  boolean taggedAt(long sequence) {
    return sequence >= taggedFrom;
  }

  /**
   * The sorted row texts of {@code rows} read with the layout of the commit of {@code sequence}: a
   * note gets TAG's default when the layout has TAG and the note none, and loses a TAG the layout
   * does not have.
   */
  List<String> fitted(List<SentRow> rows, long sequence) {
    List<String> texts = new ArrayList<>();
    if (rows != null) {
      for (SentRow row : rows) {
        List<String> values = row.values();
        if (row.table().equals(SoakTables.NOTE)) {
          List<String> columns = SoakTables.columns(SoakTables.NOTE, taggedAt(sequence));
          List<String> fit =
              new ArrayList<>(values.subList(0, Math.min(values.size(), columns.size())));
          while (fit.size() < columns.size()) {
            fit.add(SoakTables.NOTE_TAG_DEFAULT);
          }
          values = fit;
        }
        texts.add(SoakTables.rowText(row.table(), values));
      }
    }
    texts.sort(null);
    return texts;
  }

  /**
   * A member's content as the product stores it as of {@code commit}: its rows read with the layout
   * of the commit that last changed them (a layout change alone makes no new version), or null when
   * it is absent. Content hashes, diffs and skipped datums follow this.
   */
  List<String> storedContent(String member, CommitInfo commit) {
    List<SentRow> rows = membersAt(commit).get(member);
    if (rows == null) {
      return null;
    }
    List<String> raw = content(rows);
    long version = commit.sequence();
    while (version > 1 && raw.equals(content(membersAt(commitAt(version - 1)).get(member)))) {
      version--;
    }
    return fitted(rows, version);
  }

  /** Every erasure, oldest first. */
  List<Erasure> erasures() {
    return erasures;
  }

  /** The erasure sealed as {@code commit}, if it is an erasure commit. */
  Optional<Erasure> erasureAt(CommitInfo commit) {
    return erasures.stream().filter(e -> e.sequence() == commit.sequence()).findFirst();
  }

  /**
   * True if the erasure log names the member: where it is absent, member reads answer 410 "erased"
   * instead of 404 (also for a member that never existed when it was erased).
   */
  boolean everErased(String member) {
    return erasures.stream().anyMatch(e -> e.member().equals(member));
  }

  void moveBranch(String branch, String head) {
    heads.put(branch, head);
  }

  void deleteBranch(String branch) {
    heads.remove(branch);
  }

  /** Branch name to head commit ID (null: no head yet). */
  SortedMap<String, String> heads() {
    return heads;
  }

  List<CommitInfo> commits() {
    return commits;
  }

  Optional<CommitInfo> newest() {
    return commits.isEmpty() ? Optional.empty() : Optional.of(commits.get(commits.size() - 1));
  }

  CommitInfo commit(String id) {
    return commits.stream()
        .filter(c -> c.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no commit " + id + " in the model"));
  }

  CommitInfo commitAt(long sequence) {
    return commits.get((int) sequence - 1);
  }

  /**
   * True if the commit's history is kept: at most {@code retention - 1} commits behind the newest,
   * or not older than the oldest branch head (history is never pruned past a branch head).
   */
  boolean retained(CommitInfo commit) {
    return commit.sequence() >= Math.min(newestSequence() - historyRetention + 1, oldestHead());
  }

  /**
   * True if the commit is safely older than the history floor (more than one commit past it, by
   * retention and by the oldest branch head).
   */
  boolean beyondFloor(CommitInfo commit) {
    return commit.sequence() < Math.min(newestSequence() - historyRetention - 1, oldestHead() - 2);
  }

  /** The sequence of the oldest branch head (Long.MAX_VALUE: no branch has a head). */
  private long oldestHead() {
    return heads.values().stream()
        .filter(java.util.Objects::nonNull)
        .mapToLong(id -> commit(id).sequence())
        .min()
        .orElse(Long.MAX_VALUE);
  }

  private long newestSequence() {
    return commits.size();
  }

  /** The records of a commit: offsets between its parent's end offsets and its own. */
  List<SentRow> recordsOf(CommitInfo commit) {
    Map<Integer, Long> start =
        commit.sequence() == 1 ? Map.of() : commitAt(commit.sequence() - 1).endOffsets();
    List<SentRow> rows = new ArrayList<>();
    for (SentRow row : sent) {
      long from = start.getOrDefault(row.partition(), 0L);
      long to = commit.endOffsets().getOrDefault(row.partition(), 0L);
      if (row.offset() >= from && row.offset() < to) {
        rows.add(row);
      }
    }
    rows.sort(Comparator.comparingInt(SentRow::partition).thenComparingLong(SentRow::offset));
    return rows;
  }

  /** Malformed records of a commit (each must be rejected and counted on it). */
  long rejectedIn(CommitInfo commit) {
    return recordsOf(commit).stream().filter(r -> !r.valid()).count();
  }

  /** Every member present as of the commit, with its rows (keyed rows first, by key). */
  SortedMap<String, List<SentRow>> membersAt(CommitInfo commit) {
    return membersCache.computeIfAbsent(commit.id(), id -> computeMembers(commit, erasures));
  }

  /** The members as of {@code upTo} when only {@code applied} erasures had happened. */
  private SortedMap<String, List<SentRow>> computeMembers(CommitInfo upTo, List<Erasure> applied) {
    Map<String, SentRow> keyed = new TreeMap<>();
    List<SentRow> appended = new ArrayList<>();
    for (long sequence = 1; sequence <= upTo.sequence(); sequence++) {
      for (SentRow row : recordsOf(commitAt(sequence))) {
        if (!row.valid()) {
          continue;
        }
        if (row.table().equals(SoakTables.EVENT)) {
          String key = row.values().get(SoakTables.EVENT_ID);
          if (SoakTables.isDelete(row.values().get(SoakTables.EVENT_OP))) {
            keyed.remove(key);
          } else {
            keyed.put(key, row);
          }
        } else {
          appended.add(row);
        }
      }
      for (Erasure erasure : applied) {
        if (erasure.sequence() == sequence) {
          // After the erasure commit's own rows: whatever the member holds then is gone, and a
          // key it held has no holder (it does not go back to an earlier one).
          keyed.values().removeIf(row -> row.member().equals(erasure.member()));
          appended.removeIf(row -> row.member().equals(erasure.member()));
        }
      }
    }
    SortedMap<String, List<SentRow>> members = new TreeMap<>();
    for (SentRow row : keyed.values()) {
      members.computeIfAbsent(row.member(), m -> new ArrayList<>()).add(row);
    }
    for (SentRow row : appended) {
      members.computeIfAbsent(row.member(), m -> new ArrayList<>()).add(row);
    }
    // A member erased later has no history here; the others are as they were.
    for (Erasure erasure : applied) {
      if (erasure.sequence() > upTo.sequence()) {
        members.remove(erasure.member());
      }
    }
    return members;
  }

  /** The sorted row texts of a member's rows: its content (equal texts, equal content). */
  static List<String> content(List<SentRow> rows) {
    List<String> texts = new ArrayList<>();
    if (rows != null) {
      rows.forEach(row -> texts.add(row.text()));
    }
    texts.sort(null);
    return texts;
  }

  /** Members added, changed and removed between two commits, by stored content. */
  SortedMap<String, String> diff(CommitInfo from, CommitInfo to) {
    return changes(
        membersAt(from).keySet(),
        membersAt(to).keySet(),
        member -> storedContent(member, from),
        member -> storedContent(member, to));
  }

  private static SortedMap<String, String> changes(
      SortedMap<String, List<SentRow>> before, SortedMap<String, List<SentRow>> after) {
    return changes(
        before.keySet(),
        after.keySet(),
        member -> before.containsKey(member) ? content(before.get(member)) : null,
        member -> after.containsKey(member) ? content(after.get(member)) : null);
  }

  /** Each member of either side whose content (null: absent) differs, and how. */
  private static SortedMap<String, String> changes(
      java.util.Set<String> beforeMembers,
      java.util.Set<String> afterMembers,
      java.util.function.Function<String, List<String>> before,
      java.util.function.Function<String, List<String>> after) {
    SortedMap<String, String> changes = new TreeMap<>();
    TreeSet<String> all = new TreeSet<>(beforeMembers);
    all.addAll(afterMembers);
    for (String member : all) {
      List<String> old = before.apply(member);
      List<String> now = after.apply(member);
      if (old == null) {
        changes.put(member, "added");
      } else if (now == null) {
        changes.put(member, "removed");
      } else if (!old.equals(now)) {
        changes.put(member, "changed");
      }
    }
    return changes;
  }

  /**
   * The changed members a commit counts once complete: its diff from its parent as the history
   * stood then (no later erasure applied; all members present for the first commit). So an erasure
   * commit counts the removal of its member when the member was present before it, a removal that
   * later diffs no longer show (the member then never existed before the commit).
   */
  long changedMembers(CommitInfo commit) {
    List<Erasure> before = erasures.stream().filter(e -> e.sequence() < commit.sequence()).toList();
    List<Erasure> upTo = erasures.stream().filter(e -> e.sequence() <= commit.sequence()).toList();
    SortedMap<String, List<SentRow>> after = computeMembers(commit, upTo);
    if (commit.sequence() == 1) {
      return after.size();
    }
    return changes(computeMembers(commitAt(commit.sequence() - 1), before), after).size();
  }

  /** Valid rows sent, by position: what the provenance of an output may point at. */
  Map<String, SentRow> rowsByPosition() {
    Map<String, SentRow> byPosition = new LinkedHashMap<>();
    sent.forEach(row -> byPosition.put(row.partition() + "/" + row.offset(), row));
    return byPosition;
  }
}
