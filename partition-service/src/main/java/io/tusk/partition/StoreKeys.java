package io.tusk.partition;

import io.tusk.common.member.Hashing;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;

/**
 * Binary keys of the partition service's state stores. Every field is self-delimiting (strings are
 * a 4-byte big-endian length and UTF-8 bytes, numbers are big-endian and never negative), so a
 * byte-wise ordered store keeps one repo's keys contiguous under {@link #repo}, one member's rows
 * contiguous and in (source partition, offset) order, and no repo's prefix is a prefix of another
 * repo's keys.
 */
final class StoreKeys {
  private StoreKeys() {}

  /**
   * The order of member names in keys: the order of their encoding, so shorter UTF-8 first, then
   * byte-wise ("9" before "10" before "100"). A range over keys ending in a member name iterates in
   * this order, and a merge or a cursor over such ranges must compare with it, never with {@link
   * String#compareTo} ("10" sorts before "9" there, and a cursor would skip members).
   */
  static final Comparator<String> MEMBER_ORDER =
      Comparator.comparing(
          (String member) -> member.getBytes(StandardCharsets.UTF_8), StoreKeys::compareEncoded);

  private static int compareEncoded(byte[] a, byte[] b) {
    return a.length != b.length
        ? Integer.compare(a.length, b.length)
        : Arrays.compareUnsigned(a, b);
  }

  /**
   * Deletes {@code key} from {@code store} without reading its value. Kafka Streams' {@code delete}
   * returns the old value, so its RocksDB store reads the key first and its metered layer
   * deserializes what it read; {@code put(key, null)} deletes the key and writes the same changelog
   * tombstone without either (every store's value serde writes null as null). Completing a commit
   * deletes every pending row's entry: in a JDK Flight Recorder profile of commit completion
   * (TopologyTestDriver, 200,000 rows), those reads were 16 of its 86 samples.
   */
  static <K> void drop(org.apache.kafka.streams.state.KeyValueStore<K, ?> store, K key) {
    store.put(key, null);
  }

  /**
   * Deletes every key starting with {@code prefix} from {@code store} (through the store, so the
   * deletes reach its changelog): a deleted repo's keys, with {@link #repo}.
   *
   * @return how many keys were deleted
   */
  static int purge(org.apache.kafka.streams.state.KeyValueStore<Bytes, ?> store, Bytes prefix) {
    java.util.List<Bytes> keys = new java.util.ArrayList<>();
    try (org.apache.kafka.streams.state.KeyValueIterator<Bytes, ?> range =
        store.prefixScan(prefix, new org.apache.kafka.common.serialization.BytesSerializer())) {
      range.forEachRemaining(kv -> keys.add(kv.key));
    }
    keys.forEach(key -> drop(store, key));
    return keys.size();
  }

  /** The prefix of every key of {@code repo}. */
  static Bytes repo(String repo) {
    return new Builder().string(repo).build();
  }

  /** A pending row: {@code repo | member | source partition | source offset}. */
  static Bytes row(String repo, String member, int partition, long offset) {
    return new Builder().string(repo).string(member).integer(partition).number(offset).build();
  }

  /**
   * A pending notice of a source position (a reject, a delete by row key): {@code repo | source
   * partition | source offset}.
   */
  static Bytes position(String repo, int partition, long offset) {
    return new Builder().string(repo).integer(partition).number(offset).build();
  }

  /** A barrier: {@code repo | source partition}. */
  static Bytes barrier(String repo, int partition) {
    return new Builder().string(repo).integer(partition).build();
  }

  /** A seal: {@code repo | sequence}. */
  static Bytes seal(String repo, long sequence) {
    return new Builder().string(repo).number(sequence).build();
  }

  /** A member object: {@code repo | member}. */
  static Bytes member(String repo, String member) {
    return new Builder().string(repo).string(member).build();
  }

  /** A member version: {@code repo | member | sequence of the commit that made it}. */
  static Bytes version(String repo, String member, long sequence) {
    return new Builder().string(repo).string(member).number(sequence).build();
  }

  /** A chunk of a large member version's rows: {@code repo | member | sequence | index}. */
  static Bytes chunk(String repo, String member, long sequence, int index) {
    return new Builder().string(repo).string(member).number(sequence).integer(index).build();
  }

  /** A member of a commit's changed-member set: {@code repo | sequence | member}. */
  static Bytes changed(String repo, long sequence, String member) {
    return new Builder().string(repo).number(sequence).string(member).build();
  }

  /**
   * An erasure waiting for its commit: {@code repo | sequence | member}, like a changed-set entry,
   * so the erasures of commit N are the range {@link #changedSet}.
   */
  static Bytes pendingErasure(String repo, long sequence, String member) {
    return changed(repo, sequence, member);
  }

  /** The prefix of a commit's changed-member set: {@code repo | sequence}. */
  static Bytes changedSet(String repo, long sequence) {
    return new Builder().string(repo).number(sequence).build();
  }

  /** A key made of a repo and a name (commit ID, pipeline). */
  static Bytes named(String repo, String name) {
    return new Builder().string(repo).string(name).build();
  }

  /** A key of a repo, a pipeline and a member (datum states, failed datums). */
  static Bytes pipelineMember(String repo, String pipeline, String member) {
    return new Builder().string(repo).string(pipeline).string(member).build();
  }

  /** A job queue entry: {@code repo | pipeline | queue number}. */
  static Bytes queued(String repo, String pipeline, long number) {
    return new Builder().string(repo).string(pipeline).number(number).build();
  }

  /** A pending release: {@code repo | sequence | member | table | row key}. */
  static Bytes release(String repo, long sequence, String member, String table, List<String> key) {
    return new Builder()
        .string(repo)
        .number(sequence)
        .string(member)
        .string(table)
        .string(rowKeyText(key))
        .build();
  }

  /** A marker of a commit from one partition: {@code repo | sequence | partition}. */
  static Bytes marker(String repo, long sequence, int partition) {
    return new Builder().string(repo).number(sequence).integer(partition).build();
  }

  /** A row key contested in a commit: {@code repo | sequence | table | row key}. */
  static Bytes contest(String repo, long sequence, String table, List<String> key) {
    return new Builder()
        .string(repo)
        .number(sequence)
        .string(table)
        .string(rowKeyText(key))
        .build();
  }

  /** The owner of a row key: {@code repo | table | row key}. */
  static Bytes owner(String repo, String table, List<String> key) {
    return new Builder().string(repo).string(table).string(rowKeyText(key)).build();
  }

  /**
   * A row key's values as one string: values separated by U+0000, a null value as U+0001 (neither
   * occurs in CSV or JSON text values Tusk accepts as keys), so distinct keys stay distinct.
   */
  static String rowKeyText(List<String> key) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < key.size(); i++) {
      if (i > 0) {
        text.append('\u0000');
      }
      text.append(key.get(i) == null ? "\u0001" : key.get(i));
    }
    return text.toString();
  }

  /** A commit part: {@code commit ID | member partition}. */
  static Bytes part(String commitId, int memberPartition) {
    return new Builder().string(commitId).integer(memberPartition).build();
  }

  /** A job part: {@code job ID | restart round (0/1) | member partition}. */
  static Bytes jobPart(String jobId, boolean restart, int memberPartition) {
    return new Builder().string(jobId).integer(restart ? 1 : 0).integer(memberPartition).build();
  }

  /** The prefix of every part of {@code jobId} (of its restart round if {@code restart}). */
  static Bytes jobParts(String jobId, boolean restart) {
    return new Builder().string(jobId).integer(restart ? 1 : 0).build();
  }

  /**
   * A member of a job: {@code job ID | SHA-256(job ID, member)}. The tracker only needs to know a
   * member again within the job, so the key holds a hash salted with the (random) job ID rather
   * than the member key: an erased member leaves no key behind in the tracker's stores.
   */
  static Bytes jobMember(String jobId, String member) {
    return new Builder().string(jobId).string(Hashing.sha256Hex(jobId, member)).build();
  }

  /** The prefix of every part of {@code commitId}. */
  static Bytes commit(String commitId) {
    return new Builder().string(commitId).build();
  }

  /**
   * The smallest key greater than every key that starts with {@code prefix}, as the inclusive end
   * of a range scan: no real key equals it because real keys are longer than their prefix.
   */
  static Bytes upperBound(Bytes prefix) {
    byte[] bytes = Arrays.copyOf(prefix.get(), prefix.get().length);
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] != (byte) 0xFF) {
        bytes[i]++;
        return Bytes.wrap(Arrays.copyOf(bytes, i + 1));
      }
    }
    throw new IllegalArgumentException("a prefix of 0xFF bytes has no upper bound");
  }

  /** The fields of a pending-row key. */
  record RowKey(String member, int partition, long offset) {}

  /** Decodes a key made by {@link #row}. */
  static RowKey decodeRow(Bytes key) {
    ByteBuffer buffer = ByteBuffer.wrap(key.get());
    skipString(buffer);
    return new RowKey(readString(buffer), buffer.getInt(), buffer.getLong());
  }

  /** The fields of a source-position key. */
  record PositionKey(int partition, long offset) {}

  /** Decodes a key made by {@link #position}. */
  static PositionKey decodePosition(Bytes key) {
    ByteBuffer buffer = ByteBuffer.wrap(key.get());
    skipString(buffer);
    return new PositionKey(buffer.getInt(), buffer.getLong());
  }

  /** The fields of a changed-set key: the commit's sequence and the member. */
  record ChangedKey(long sequence, String member) {}

  /** Decodes a key made by {@link #changed}. */
  static ChangedKey decodeChanged(Bytes key) {
    ByteBuffer buffer = ByteBuffer.wrap(key.get());
    skipString(buffer);
    return new ChangedKey(buffer.getLong(), readString(buffer));
  }

  /** The fields of a key made by {@link #pipelineMember}. */
  record PipelineMemberKey(String pipeline, String member) {}

  /** Decodes a key made by {@link #pipelineMember}. */
  static PipelineMemberKey decodePipelineMember(Bytes key) {
    ByteBuffer buffer = ByteBuffer.wrap(key.get());
    skipString(buffer);
    return new PipelineMemberKey(readString(buffer), readString(buffer));
  }

  /** The name of a key made by {@link #named} (a pipeline, a commit ID). */
  static String decodeName(Bytes key) {
    ByteBuffer buffer = ByteBuffer.wrap(key.get());
    skipString(buffer);
    return readString(buffer);
  }

  /** The fields of a key made by {@link #version}. */
  record VersionKey(String member, long sequence) {}

  /** Decodes a key made by {@link #version}. */
  static VersionKey decodeVersion(Bytes key) {
    ByteBuffer buffer = ByteBuffer.wrap(key.get());
    skipString(buffer);
    return new VersionKey(readString(buffer), buffer.getLong());
  }

  private static void skipString(ByteBuffer buffer) {
    int length = buffer.getInt();
    buffer.position(buffer.position() + length);
  }

  private static String readString(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.getInt()];
    buffer.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Appends fields to a key: {@link Binary.Writer}'s encoding of strings and numbers. */
  private static final class Builder {
    private final Binary.Writer writer = new Binary.Writer();

    Builder string(String value) {
      writer.putString(value);
      return this;
    }

    Builder integer(int value) {
      writer.putInt(value);
      return this;
    }

    Builder number(long value) {
      writer.putLong(value);
      return this;
    }

    Bytes build() {
      return Bytes.wrap(writer.bytes());
    }
  }
}
