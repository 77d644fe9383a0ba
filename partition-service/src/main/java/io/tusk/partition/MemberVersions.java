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
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The versions of every member (docs/versioning-and-processing.md "Member versions"): each change
 * of a member at commit N is a version under {@code repo | member | N}, so the member as of commit
 * S is its newest version with a sequence {@code <= S}. A version with no rows stands for a removed
 * member.
 *
 * <p>No size cliff: a version whose rows would make a store value (and its changelog record) larger
 * than {@link #CHUNK_BYTES} is stored as a header without rows ({@code rowCount}, {@code parts})
 * and its rows in {@code parts} chunks under {@code repo | member | N | i}, each at most about
 * {@link #CHUNK_BYTES}. Readers get the rows with {@link #rows}, whatever the storage.
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

  private final ReadOnlyKeyValueStore<Bytes, MemberObject> versions;
  private final ReadOnlyKeyValueStore<Bytes, RowChunk> chunks;

  MemberVersions(
      ReadOnlyKeyValueStore<Bytes, MemberObject> versions,
      ReadOnlyKeyValueStore<Bytes, RowChunk> chunks) {
    this.versions = Objects.requireNonNull(versions, "versions");
    this.chunks = Objects.requireNonNull(chunks, "chunks");
  }

  /** Whether a version stands for a member that is present (not removed). */
  static boolean present(MemberObject version) {
    return version != null && (!version.getRows().isEmpty() || version.getRowCount() > 0);
  }

  /** Whether a version keeps its rows in chunks rather than inline. */
  static boolean chunked(MemberObject version) {
    return version.getParts() > 1;
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
    if (!chunked(version)) {
      return version.getRows();
    }
    List<Row> rows = new ArrayList<>((int) Math.min(Integer.MAX_VALUE, version.getRowCount()));
    Bytes prefix = StoreKeys.version(version.getRepo(), version.getMember(), version.getSequence());
    try (KeyValueIterator<Bytes, RowChunk> all =
        chunks.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(kv -> rows.addAll(kv.value.getRows()));
    }
    if (rows.size() != version.getRowCount()) {
      throw new IllegalStateException(
          "member version "
              + version.getSequence()
              + " of repo "
              + version.getRepo()
              + " lists "
              + version.getRowCount()
              + " rows but its chunks hold "
              + rows.size());
    }
    return rows;
  }

  /** A version with its rows inline ({@code parts} 1), as datums and queries need it. */
  MemberObject whole(MemberObject version) {
    if (!chunked(version)) {
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

    Writable(KeyValueStore<Bytes, MemberObject> versions, KeyValueStore<Bytes, RowChunk> chunks) {
      super(versions, chunks);
      this.versions = versions;
      this.chunks = chunks;
    }

    /**
     * Stores a version given with all its rows inline, chunking them when they are large.
     *
     * @return the version as stored (a header without rows when chunked)
     */
    MemberObject put(MemberObject whole) {
      Bytes key = StoreKeys.version(whole.getRepo(), whole.getMember(), whole.getSequence());
      MemberObject replaced = versions.get(key);
      if (replaced != null && chunked(replaced)) {
        deleteChunks(key);
      }
      List<List<Row>> slices = slices(whole.getRows(), CHUNK_BYTES);
      if (slices.size() <= 1) {
        versions.put(key, whole);
        return whole;
      }
      MemberObject header =
          MemberObject.newBuilder(whole)
              .setRows(List.of())
              .setRowCount(whole.getRows().size())
              .setParts(slices.size())
              .build();
      for (int i = 0; i < slices.size(); i++) {
        chunks.put(
            StoreKeys.chunk(whole.getRepo(), whole.getMember(), whole.getSequence(), i),
            RowChunk.newBuilder().setRows(new ArrayList<>(slices.get(i))).build());
      }
      versions.put(key, header);
      return header;
    }

    /** Deletes the member's version at {@code sequence}, if any. */
    void delete(String repo, String member, long sequence) {
      Bytes key = StoreKeys.version(repo, member, sequence);
      versions.delete(key);
      deleteChunks(key);
    }

    /**
     * Removes the rows with these keys ({@code [table, row key]}) from every version of the member
     * older than {@code sequence} (an erasure's deletes), in one pass per version; each version
     * keeps its sequence, commit and hash.
     *
     * @return how many versions held one of the rows
     */
    int purgeRows(
        String repo, String member, long sequence, Set<List<Object>> keys, RepoLayout layout) {
      List<MemberObject> older = new ArrayList<>();
      try (KeyValueIterator<Bytes, MemberObject> all =
          versions.range(
              StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence - 1))) {
        all.forEachRemaining(kv -> older.add(kv.value));
      }
      int purged = 0;
      for (MemberObject version : older) {
        List<Row> rows = rows(version);
        List<Row> kept = new ArrayList<>(rows.size());
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
        if (kept.size() != rows.size()) {
          put(MemberObject.newBuilder(version).setRows(kept).setRowCount(-1).setParts(1).build());
          purged++;
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
     * Deletes every version of the member older than {@code sequence}, with their chunks (history
     * pruning; erasure purges every version of an erased member this way).
     */
    void deleteBefore(String repo, String member, long sequence) {
      if (sequence <= 0) {
        return;
      }
      List<Bytes> old = new ArrayList<>();
      try (KeyValueIterator<Bytes, MemberObject> all =
          versions.range(
              StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence - 1))) {
        all.forEachRemaining(kv -> old.add(kv.key));
      }
      for (Bytes key : old) {
        versions.delete(key);
        deleteChunks(key);
      }
    }

    private void deleteChunks(Bytes versionKey) {
      List<Bytes> old = new ArrayList<>();
      try (KeyValueIterator<Bytes, RowChunk> all =
          chunks.range(versionKey, StoreKeys.upperBound(versionKey))) {
        all.forEachRemaining(kv -> old.add(kv.key));
      }
      old.forEach(chunks::delete);
    }
  }
}
