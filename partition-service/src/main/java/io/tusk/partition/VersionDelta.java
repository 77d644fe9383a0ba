package io.tusk.partition;

import io.tusk.schemas.Row;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;

/**
 * How a member version stored as a delta ({@link MemberVersions}) differs from the version before
 * it, its {@code base}: which of the base's rows it no longer holds and where its added rows go.
 * The added rows themselves are the version header's rows (or its chunks), so a version that
 * changed two rows of a member stores those two rows and a few positions, not the member.
 *
 * <p>Positions, not a comparator, place the added rows: the version's rows are the base's rows
 * without {@code removed} (indexes into the base, ascending), with the added rows at {@code
 * inserted} (indexes into the version, ascending). Applying a delta therefore needs no layout and
 * gives back exactly the rows that were stored, in their order.
 *
 * <p>A stored value only: its arrays make {@code equals} compare them by identity.
 *
 * @param base the sequence of the version this one is a delta of (the member's previous version)
 * @param depth how many deltas lead from the last full version to this one, this one included
 * @param chainBytes the estimated bytes of the added rows of those deltas, together
 * @param removed indexes of the base's rows this version does not hold, ascending
 * @param inserted indexes in this version of its added rows, ascending
 * @param addedParts chunks its added rows are stored in (0: inline in the header's rows)
 */
record VersionDelta(
    long base, int depth, long chainBytes, int[] removed, int[] inserted, int addedParts) {

  /** The encoding in {@code member-deltas-store} (internal to the service). */
  static final Serde<VersionDelta> SERDE =
      Binary.serde(
          "member version delta",
          (byte) 1,
          (d, w) -> {
            w.putLong(d.base()).putInt(d.depth()).putLong(d.chainBytes());
            putInts(w, d.removed());
            putInts(w, d.inserted());
            w.putInt(d.addedParts());
          },
          r ->
              new VersionDelta(
                  r.getLong(), r.getInt(), r.getLong(), getInts(r), getInts(r), r.getInt()));

  private static void putInts(Binary.Writer writer, int[] values) {
    writer.putInt(values.length);
    for (int value : values) {
      writer.putInt(value);
    }
  }

  private static int[] getInts(Binary.Reader reader) {
    int[] values = new int[reader.getInt()];
    for (int i = 0; i < values.length; i++) {
      values[i] = reader.getInt();
    }
    return values;
  }

  /**
   * What turns {@code before} into {@code after}: the rows of {@code after} kept from {@code
   * before} in the same relative order, the rest removed and added. A row is matched to its first
   * equal row of {@code before} past the last match, so rows that moved count as removed and added
   * (correct, only larger).
   *
   * @param removed indexes into {@code before}, ascending
   * @param inserted indexes into {@code after}, ascending
   * @param added the rows of {@code after} at {@code inserted}
   */
  record Diff(int[] removed, int[] inserted, List<Row> added) {}

  /** The difference between two versions' rows. */
  static Diff diff(List<Row> before, List<Row> after) {
    Map<Row, ArrayDeque<Integer>> positions = new HashMap<>();
    for (int i = 0; i < before.size(); i++) {
      positions.computeIfAbsent(before.get(i), row -> new ArrayDeque<>()).add(i);
    }
    boolean[] kept = new boolean[before.size()];
    List<Integer> inserted = new ArrayList<>();
    List<Row> added = new ArrayList<>();
    int lastMatch = -1;
    for (int i = 0; i < after.size(); i++) {
      Row row = after.get(i);
      ArrayDeque<Integer> candidates = positions.get(row);
      while (candidates != null && !candidates.isEmpty() && candidates.peekFirst() < lastMatch) {
        candidates.pollFirst();
      }
      if (candidates == null || candidates.isEmpty()) {
        inserted.add(i);
        added.add(row);
      } else {
        lastMatch = candidates.pollFirst();
        kept[lastMatch] = true;
      }
    }
    List<Integer> removed = new ArrayList<>();
    for (int i = 0; i < kept.length; i++) {
      if (!kept[i]) {
        removed.add(i);
      }
    }
    return new Diff(toArray(removed), toArray(inserted), added);
  }

  private static int[] toArray(List<Integer> values) {
    int[] array = new int[values.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = values.get(i);
    }
    return array;
  }

  /**
   * The rows of the version: {@code base} without {@link #removed}, {@code added} at {@link
   * #inserted}.
   *
   * @throws IllegalStateException when the delta does not fit its base (a broken store)
   */
  List<Row> apply(List<Row> baseRows, List<Row> added, long rowCount) {
    if (added.size() != inserted.length
        || baseRows.size() - removed.length + added.size() != rowCount) {
      throw new IllegalStateException(
          "a member version delta does not fit its base version "
              + base
              + ": "
              + baseRows.size()
              + " rows, "
              + removed.length
              + " removed, "
              + added.size()
              + " added, "
              + rowCount
              + " expected");
    }
    List<Row> rows = new ArrayList<>((int) rowCount);
    int nextRemoved = 0;
    int nextInserted = 0;
    int fromBase = 0;
    for (int i = 0; i < rowCount; i++) {
      if (nextInserted < inserted.length && inserted[nextInserted] == i) {
        rows.add(added.get(nextInserted++));
        continue;
      }
      while (nextRemoved < removed.length && removed[nextRemoved] == fromBase) {
        nextRemoved++;
        fromBase++;
      }
      rows.add(baseRows.get(fromBase++));
    }
    return rows;
  }
}
