package io.tusk.partition;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowChunk;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The versions of every member (docs/versioning-and-processing.md "Member versions"): each change
 * of a member at commit N is a version under {@code repo | member | N}, so the member as of commit
 * S is its newest version with a sequence {@code <= S}. A version with no rows stands for a removed
 * member.
 *
 * <p>Storage grows with what changed, not with the member: a version is stored as a delta of the
 * member's previous version (its added rows and the positions of the removed and added ones, {@link
 * VersionDelta}) while that is small, and whole otherwise. A delta's header has {@code parts} 0,
 * {@code rowCount} the version's row count and its added rows as {@code rows}; the rest is in
 * {@code member-deltas-store} under the version's key. A version is stored whole when the member
 * was absent before it, when it is empty (a removed member), after {@link #MAX_DEPTH} deltas in a
 * row, or once the deltas since the last whole version would add up to more row bytes than the
 * member holds: so a read applies at most {@link #MAX_DEPTH} deltas and reads at most about twice
 * the member's bytes.
 *
 * <p>No size cliff: a version whose rows (or a delta whose added rows) would make a store value
 * (and its changelog record) larger than {@link #CHUNK_BYTES} is stored as a header without rows
 * ({@code rowCount}, {@code parts}) and its rows in chunks under {@code repo | member | N | i},
 * each at most about {@link #CHUNK_BYTES}. Readers get the rows with {@link #rows}, whatever the
 * storage.
 *
 * <p>Reads work on the read-only stores of interactive queries as well ({@link MemberQueries});
 * writes need the task's stores ({@link Writable}).
 */
class MemberVersions {
  /**
   * The most row bytes (estimated) one version or chunk value holds: well under the producer's
   * default request size (1 MiB) that bounds a changelog record, with room for Avro's framing.
   */
  static final int CHUNK_BYTES = 256 * 1024;

  /** The most deltas in a row: reading a version applies at most this many. */
  static final int MAX_DEPTH = 16;

  /**
   * The most positions (removed and added rows) one delta records, which keeps its value in {@code
   * member-deltas-store} well under {@link #CHUNK_BYTES}; a larger change is stored whole.
   */
  static final int MAX_DELTA_POSITIONS = 32 * 1024;

  private final ReadOnlyKeyValueStore<Bytes, MemberObject> versions;
  private final ReadOnlyKeyValueStore<Bytes, RowChunk> chunks;
  private final ReadOnlyKeyValueStore<Bytes, VersionDelta> deltas;

  MemberVersions(
      ReadOnlyKeyValueStore<Bytes, MemberObject> versions,
      ReadOnlyKeyValueStore<Bytes, RowChunk> chunks,
      ReadOnlyKeyValueStore<Bytes, VersionDelta> deltas) {
    this.versions = Objects.requireNonNull(versions, "versions");
    this.chunks = Objects.requireNonNull(chunks, "chunks");
    this.deltas = Objects.requireNonNull(deltas, "deltas");
  }

  /** Whether a version stands for a member that is present (not removed). */
  static boolean present(MemberObject version) {
    return version != null && (!version.getRows().isEmpty() || version.getRowCount() > 0);
  }

  /** Whether a version keeps its rows in chunks rather than inline. */
  static boolean chunked(MemberObject version) {
    return version.getParts() > 1;
  }

  /** Whether a version is stored as a delta of the member's previous version. */
  static boolean delta(MemberObject version) {
    return version.getParts() == 0;
  }

  /** The member's newest version with a sequence {@code <= sequence} (its rows maybe chunked). */
  MemberObject asOf(String repo, String member, long sequence) {
    try (KeyValueIterator<Bytes, MemberObject> newest =
        versions.reverseRange(
            StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence))) {
      return newest.hasNext() ? newest.next().value : null;
    }
  }

  /**
   * Whether the member was present at each of its versions older than {@code sequence}, by the
   * version's sequence: as of commit S it is present when the newest entry {@code <= S} says so.
   */
  NavigableMap<Long, Boolean> presenceBefore(String repo, String member, long sequence) {
    NavigableMap<Long, Boolean> presence = new TreeMap<>();
    if (sequence <= 0) {
      return presence;
    }
    try (KeyValueIterator<Bytes, MemberObject> all =
        versions.range(
            StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence - 1))) {
      all.forEachRemaining(kv -> presence.put(kv.value.getSequence(), present(kv.value)));
    }
    return presence;
  }

  /** Every row of a version, in canonical order. */
  List<Row> rows(MemberObject version) {
    return rows(version, -1, null);
  }

  /**
   * Every row of a version; when it is a delta of the version at {@code knownSequence}, applied to
   * {@code knownRows} (that version's rows as stored) instead of reading them again.
   */
  List<Row> rows(MemberObject version, long knownSequence, List<Row> knownRows) {
    if (delta(version)) {
      Bytes key = StoreKeys.version(version.getRepo(), version.getMember(), version.getSequence());
      VersionDelta delta = deltaOf(key, version);
      List<Row> added = delta.addedParts() > 0 ? chunkRows(key, -1, version) : version.getRows();
      if (knownRows != null && delta.base() == knownSequence) {
        return delta.apply(knownRows, added, version.getRowCount());
      }
      MemberObject base =
          versions.get(StoreKeys.version(version.getRepo(), version.getMember(), delta.base()));
      if (base == null) {
        throw broken(version, "is a delta of version " + delta.base() + ", which is not stored");
      }
      return delta.apply(rows(base), added, version.getRowCount());
    }
    if (!chunked(version)) {
      return version.getRows();
    }
    Bytes prefix = StoreKeys.version(version.getRepo(), version.getMember(), version.getSequence());
    return chunkRows(prefix, version.getRowCount(), version);
  }

  private VersionDelta deltaOf(Bytes key, MemberObject version) {
    VersionDelta delta = deltas.get(key);
    if (delta == null) {
      throw broken(version, "is a delta whose positions are not stored");
    }
    return delta;
  }

  /** The error of a version whose storage is not whole: the store is broken. */
  private static IllegalStateException broken(MemberObject version, String what) {
    return new IllegalStateException(
        "member version " + version.getSequence() + " of repo " + version.getRepo() + " " + what);
  }

  /** The rows in the version's chunks; {@code expected} of them unless it is -1. */
  private List<Row> chunkRows(Bytes prefix, long expected, MemberObject version) {
    List<Row> rows = new ArrayList<>((int) Math.min(Integer.MAX_VALUE, Math.max(0, expected)));
    try (KeyValueIterator<Bytes, RowChunk> all =
        chunks.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(kv -> rows.addAll(kv.value.getRows()));
    }
    if (expected >= 0 && rows.size() != expected) {
      throw broken(version, "lists " + expected + " rows but its chunks hold " + rows.size());
    }
    return rows;
  }

  /** A version with its rows inline ({@code parts} 1), as datums and queries need it. */
  MemberObject whole(MemberObject version) {
    if (!chunked(version) && !delta(version)) {
      return version;
    }
    return MemberObject.newBuilder(version)
        .setRows(rows(version))
        .setRowCount(-1)
        .setParts(1)
        .build();
  }

  /** The estimated serialized size of a row: its text plus a little framing per value. */
  static long estimatedBytes(Row row) {
    long bytes = 16 + row.getTable().length();
    for (String value : row.getValues()) {
      bytes += 4 + (value == null ? 0 : value.length());
    }
    return bytes;
  }

  /** The estimated serialized size of rows. */
  static long estimatedRowBytes(List<Row> rows) {
    long bytes = 0;
    for (Row row : rows) {
      bytes += estimatedBytes(row);
    }
    return bytes;
  }

  /** Splits rows into consecutive slices of at most about {@code maxBytes} each (never empty). */
  static List<List<Row>> slices(List<Row> rows, long maxBytes) {
    List<List<Row>> slices = new ArrayList<>();
    int start = 0;
    long bytes = 0;
    for (int i = 0; i < rows.size(); i++) {
      long size = estimatedBytes(rows.get(i));
      if (i > start && bytes + size > maxBytes) {
        slices.add(rows.subList(start, i));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    slices.add(rows.subList(start, rows.size()));
    return slices;
  }

  /** The task's versions, which it also writes. */
  static final class Writable extends MemberVersions {
    private final KeyValueStore<Bytes, MemberObject> versions;
    private final KeyValueStore<Bytes, RowChunk> chunks;
    private final KeyValueStore<Bytes, VersionDelta> deltas;

    Writable(
        KeyValueStore<Bytes, MemberObject> versions,
        KeyValueStore<Bytes, RowChunk> chunks,
        KeyValueStore<Bytes, VersionDelta> deltas) {
      super(versions, chunks, deltas);
      this.versions = versions;
      this.chunks = chunks;
      this.deltas = deltas;
    }

    /**
     * Stores a version given with all its rows inline: as a delta of the member's previous version
     * while that is small (see {@link MemberVersions}), whole otherwise, chunking rows when they
     * are large. The member's versions after it, if any, must not be deltas of the version it
     * replaces.
     *
     * @param previous the member's newest version before {@code whole}'s sequence, or null (the
     *     caller has read it already)
     * @return the version as {@code <repo>.members} shows it: whole with its rows inline, or a
     *     header without rows when they are too large for one record
     */
    MemberObject put(MemberObject whole, MemberObject previous) {
      Bytes key = StoreKeys.version(whole.getRepo(), whole.getMember(), whole.getSequence());
      if (!whole.getRows().isEmpty()
          && present(previous)
          && previous.getSequence() < whole.getSequence()) {
        List<Row> before = rows(previous);
        VersionDelta.Diff diff = VersionDelta.diff(before, whole.getRows());
        VersionDelta last =
            delta(previous)
                ? deltas.get(
                    StoreKeys.version(
                        previous.getRepo(), previous.getMember(), previous.getSequence()))
                : null;
        int depth = last == null ? 1 : last.depth() + 1;
        long chainBytes = (last == null ? 0 : last.chainBytes()) + estimatedRowBytes(diff.added());
        int positions = diff.removed().length + diff.inserted().length;
        if (depth <= MAX_DEPTH
            && positions <= MAX_DELTA_POSITIONS
            && chainBytes <= estimatedRowBytes(whole.getRows())) {
          clear(key);
          List<List<Row>> slices = slices(diff.added(), CHUNK_BYTES);
          int addedParts = slices.size() > 1 ? slices.size() : 0;
          if (addedParts > 0) {
            putChunks(whole, slices);
          }
          deltas.put(
              key,
              new VersionDelta(
                  previous.getSequence(),
                  depth,
                  chainBytes,
                  diff.removed(),
                  diff.inserted(),
                  addedParts));
          versions.put(
              key,
              MemberObject.newBuilder(whole)
                  .setRows(addedParts > 0 ? List.of() : diff.added())
                  .setRowCount(whole.getRows().size())
                  .setParts(0)
                  .build());
          return published(whole);
        }
      }
      return putWhole(whole);
    }

    /** Stores a version whole (chunked when large), replacing whatever was stored under its key. */
    private MemberObject putWhole(MemberObject whole) {
      Bytes key = StoreKeys.version(whole.getRepo(), whole.getMember(), whole.getSequence());
      clear(key);
      List<List<Row>> slices = slices(whole.getRows(), CHUNK_BYTES);
      if (slices.size() <= 1) {
        versions.put(key, whole);
        return whole;
      }
      putChunks(whole, slices);
      MemberObject header = published(whole);
      versions.put(key, header);
      return header;
    }

    /** The version inline, or as a header without rows when they need more than one chunk. */
    private static MemberObject published(MemberObject whole) {
      List<List<Row>> slices = slices(whole.getRows(), CHUNK_BYTES);
      if (slices.size() <= 1) {
        return whole;
      }
      return MemberObject.newBuilder(whole)
          .setRows(List.of())
          .setRowCount(whole.getRows().size())
          .setParts(slices.size())
          .build();
    }

    private void putChunks(MemberObject version, List<List<Row>> slices) {
      for (int i = 0; i < slices.size(); i++) {
        chunks.put(
            StoreKeys.chunk(version.getRepo(), version.getMember(), version.getSequence(), i),
            RowChunk.newBuilder().setRows(new ArrayList<>(slices.get(i))).build());
      }
    }

    /**
     * Removes the chunks and delta positions of the version stored under {@code key}, if it has any
     * (deleting only what exists: each delete is a changelog record).
     */
    private void clear(Bytes key) {
      MemberObject replaced = versions.get(key);
      if (replaced == null) {
        return;
      }
      if (delta(replaced)) {
        VersionDelta delta = deltas.delete(key);
        if (delta != null && delta.addedParts() > 0) {
          deleteChunks(key);
        }
      } else if (chunked(replaced)) {
        deleteChunks(key);
      }
    }

    /**
     * Deletes the member's version at {@code sequence}, if any; the member's versions after it must
     * not be deltas of it.
     */
    void delete(String repo, String member, long sequence) {
      Bytes key = StoreKeys.version(repo, member, sequence);
      clear(key);
      StoreKeys.drop(versions, key);
    }

    /**
     * Removes the rows with these keys ({@code [table, row key]}) from every version of the member
     * older than {@code sequence} (an erasure's deletes), in one pass per version; each version
     * keeps its sequence, commit and hash. Every version of the member is stored whole afterwards,
     * so no delta keeps an erased row or depends on a version that lost one.
     *
     * @return how many versions held one of the rows
     */
    int purgeRows(
        String repo, String member, long sequence, Set<List<Object>> keys, RepoLayout layout) {
      List<MemberObject> all = new ArrayList<>();
      try (KeyValueIterator<Bytes, MemberObject> each =
          versions.range(
              StoreKeys.version(repo, member, 0),
              StoreKeys.version(repo, member, Long.MAX_VALUE))) {
        each.forEachRemaining(kv -> all.add(kv.value));
      }
      int purged = 0;
      long previousSequence = -1;
      List<Row> previousRows = null;
      // Oldest first, each delta applied to its base's rows as they were stored: the base may
      // already have been rewritten without the erased rows.
      for (MemberObject version : all) {
        List<Row> rows = rows(version, previousSequence, previousRows);
        previousSequence = version.getSequence();
        previousRows = rows;
        List<Row> kept = rows;
        if (version.getSequence() < sequence) {
          kept = new ArrayList<>(rows.size());
          for (Row row : rows) {
            TableLayout table = layout.table(row.getTable());
            boolean erased =
                table != null
                    && table.hasRowKey()
                    && keys.contains(List.of(row.getTable(), table.rowKeyOf(row.getValues())));
            if (!erased) {
              kept.add(row);
            }
          }
        }
        if (kept.size() != rows.size()) {
          purged++;
        }
        if (kept.size() != rows.size() || delta(version)) {
          putWhole(
              MemberObject.newBuilder(version).setRows(kept).setRowCount(-1).setParts(1).build());
        }
      }
      return purged;
    }

    /** The sequences of the member's versions older than {@code sequence}, oldest first. */
    List<Long> sequencesBefore(String repo, String member, long sequence) {
      List<Long> sequences = new ArrayList<>();
      if (sequence <= 0) {
        return sequences;
      }
      try (KeyValueIterator<Bytes, MemberObject> all =
          versions.range(
              StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence - 1))) {
        all.forEachRemaining(kv -> sequences.add(StoreKeys.decodeVersion(kv.key).sequence()));
      }
      return sequences;
    }

    /**
     * Deletes every version of the member older than {@code sequence}, with their chunks and delta
     * positions (history pruning; erasure purges every version of an erased member this way). The
     * member's first version from {@code sequence} on is stored whole first when it is a delta, so
     * the versions kept need none of those deleted.
     */
    void deleteBefore(String repo, String member, long sequence) {
      if (sequence <= 0) {
        return;
      }
      List<Bytes> old = new ArrayList<>();
      MemberObject firstKept = null;
      // One scan: the versions to delete, then the first one kept, where it stops.
      try (KeyValueIterator<Bytes, MemberObject> all =
          versions.range(
              StoreKeys.version(repo, member, 0),
              StoreKeys.version(repo, member, Long.MAX_VALUE))) {
        while (all.hasNext() && firstKept == null) {
          KeyValue<Bytes, MemberObject> entry = all.next();
          if (entry.value.getSequence() < sequence) {
            old.add(entry.key);
          } else {
            firstKept = entry.value;
          }
        }
      }
      if (firstKept != null && delta(firstKept)) {
        putWhole(whole(firstKept));
      }
      for (Bytes key : old) {
        clear(key);
        StoreKeys.drop(versions, key);
      }
    }

    private void deleteChunks(Bytes versionKey) {
      List<Bytes> old = new ArrayList<>();
      try (KeyValueIterator<Bytes, RowChunk> all =
          chunks.range(versionKey, StoreKeys.upperBound(versionKey))) {
        all.forEachRemaining(kv -> old.add(kv.key));
      }
      old.forEach(key -> StoreKeys.drop(chunks, key));
    }
  }
}
