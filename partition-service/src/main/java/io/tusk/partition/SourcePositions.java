package io.tusk.partition;

import io.tusk.schemas.RepoSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * For each source partition one rekeyer thread holds, and each repo reading it, the position up to
 * which the partition's records were forwarded to that repo, and the barriers still to announce.
 *
 * <p>One source topic can feed several repos (a pipeline's output feeds every repo derived from
 * it), and a repo can start reading a topic the group has already consumed: it then starts at the
 * beginning while the others keep their positions, and the consumer seeks back to the smallest
 * position (records below a repo's position are not forwarded to it again). So the committed offset
 * of a partition is the consumer position, and its metadata ({@value #PREFIX}{@code
 * name@createdAt=position,...}) keeps every repo's own position across restarts. A repo missing
 * from that list is new (a recreated repo has a new {@code createdAt}); committed offsets without
 * the list (written before it existed) mean every repo is at the committed offset.
 *
 * <p>A barrier is due for a repo and partition when its position differs from the last barrier
 * committed for them, or the partition was just assigned (so a new owner always announces it).
 */
final class SourcePositions {
  static final String PREFIX = "tusk-positions-v1:";

  /** Per partition, per repo name: the next offset to forward. */
  private final Map<TopicPartition, Map<String, Long>> positions = new HashMap<>();

  /** Per partition, per repo name: the position of the last committed barrier. */
  private final Map<TopicPartition, Map<String, Long>> announced = new HashMap<>();

  /** Per partition, per repo name: the repo's identity in the metadata. */
  private final Map<TopicPartition, Map<String, String>> identities = new HashMap<>();

  /** What one transaction moves: new positions and the barriers to write. */
  record Advance(
      Map<TopicPartition, Map<String, Long>> positions, List<Barrier> barriers, boolean moved) {

    /** True when the transaction would write nothing. */
    boolean isEmpty() {
      return !moved && barriers.isEmpty();
    }
  }

  /** A barrier due: repo {@code repo} has everything of {@code partition} below position. */
  record Barrier(String repo, TopicPartition partition, long position) {}

  /**
   * Sets the positions of a partition just assigned (or rewound) from its committed offset.
   *
   * @param committed the group's committed offset and metadata, or null if none
   * @param readers the repos reading the partition's topic
   * @return the offset to seek to, or -1 to start where the consumer would
   */
  long load(TopicPartition partition, OffsetAndMetadata committed, Collection<RepoSpec> readers) {
    announced.remove(partition);
    Map<String, Long> listed = committed == null ? null : parse(committed.metadata());
    Map<String, Long> loaded = new HashMap<>();
    for (RepoSpec repo : readers) {
      long position;
      if (committed == null) {
        position = 0;
      } else if (listed == null) {
        position = committed.offset();
      } else {
        position = listed.getOrDefault(identity(repo), 0L);
      }
      loaded.put(repo.getName(), position);
    }
    positions.put(partition, loaded);
    identities.put(partition, identitiesOf(readers));
    long min = min(partition);
    return committed != null && min < committed.offset() ? min : -1;
  }

  /**
   * Brings the repos reading an assigned partition up to date: a new reader starts at offset 0, a
   * reader gone is forgotten.
   *
   * @return the smallest position (where the consumer must be to serve every reader), or -1 when no
   *     repo reads the partition
   */
  long readers(TopicPartition partition, Collection<RepoSpec> readers) {
    Map<String, Long> current = positions.computeIfAbsent(partition, p -> new HashMap<>());
    Map<String, String> ids = identitiesOf(readers);
    current.keySet().retainAll(ids.keySet());
    Map<String, Long> sent = announced.get(partition);
    if (sent != null) {
      sent.keySet().retainAll(ids.keySet());
    }
    ids.keySet().forEach(name -> current.putIfAbsent(name, 0L));
    identities.put(partition, ids);
    return min(partition);
  }

  /** True if the record at {@code offset} of {@code partition} is new to {@code repo}. */
  boolean forwards(TopicPartition partition, String repo, long offset) {
    Long position = positions.getOrDefault(partition, Map.of()).get(repo);
    return position != null && offset >= position;
  }

  /**
   * What a transaction moves once the consumer reached {@code consumed}: every repo at or behind
   * the consumer's position got every record up to it.
   */
  Advance advance(Map<TopicPartition, Long> consumed) {
    Map<TopicPartition, Map<String, Long>> next = new HashMap<>();
    List<Barrier> barriers = new ArrayList<>();
    boolean moved = false;
    for (Map.Entry<TopicPartition, Long> entry : consumed.entrySet()) {
      TopicPartition partition = entry.getKey();
      Map<String, Long> reached = new HashMap<>();
      Map<String, Long> sent = announced.getOrDefault(partition, Map.of());
      for (Map.Entry<String, Long> repo : positions.getOrDefault(partition, Map.of()).entrySet()) {
        long position = Math.max(repo.getValue(), entry.getValue());
        moved |= position != repo.getValue();
        reached.put(repo.getKey(), position);
        if (!Long.valueOf(position).equals(sent.get(repo.getKey()))) {
          barriers.add(new Barrier(repo.getKey(), partition, position));
        }
      }
      next.put(partition, reached);
    }
    return new Advance(next, barriers, moved);
  }

  /** The offset metadata of {@code partition} after {@code advance}. */
  String metadata(TopicPartition partition, Advance advance) {
    Map<String, String> ids = identities.getOrDefault(partition, Map.of());
    // Sorted, so equal positions give equal metadata.
    Map<String, Long> byId = new TreeMap<>();
    advance
        .positions()
        .getOrDefault(partition, Map.of())
        .forEach((name, position) -> byId.put(ids.get(name), position));
    return PREFIX
        + byId.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(","));
  }

  /** Makes a committed transaction's positions and barriers current. */
  void apply(Advance advance) {
    advance
        .positions()
        .forEach(
            (partition, reached) -> {
              Map<String, Long> current = positions.get(partition);
              if (current != null) {
                current.putAll(reached);
              }
            });
    for (Barrier barrier : advance.barriers()) {
      announced
          .computeIfAbsent(barrier.partition(), p -> new HashMap<>())
          .put(barrier.repo(), barrier.position());
    }
  }

  /** Forgets partitions that were revoked or lost. */
  void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(
        partition -> {
          positions.remove(partition);
          announced.remove(partition);
          identities.remove(partition);
        });
  }

  private long min(TopicPartition partition) {
    return positions.get(partition).values().stream().mapToLong(Long::longValue).min().orElse(-1);
  }

  private static Map<String, String> identitiesOf(Collection<RepoSpec> readers) {
    Map<String, String> ids = new HashMap<>();
    readers.forEach(repo -> ids.put(repo.getName(), identity(repo)));
    return ids;
  }

  /** A repo's name and creation time: a repo deleted and created again is a new reader. */
  private static String identity(RepoSpec repo) {
    return repo.getName() + "@" + repo.getCreatedAt();
  }

  /** The positions listed in committed metadata, or null if it has no list. */
  private static Map<String, Long> parse(String metadata) {
    if (metadata == null || !metadata.startsWith(PREFIX)) {
      return null;
    }
    Map<String, Long> listed = new HashMap<>();
    String body = metadata.substring(PREFIX.length());
    if (body.isEmpty()) {
      return listed;
    }
    for (String entry : body.split(",")) {
      int equals = entry.lastIndexOf('=');
      try {
        listed.put(entry.substring(0, equals), Long.parseLong(entry.substring(equals + 1)));
      } catch (RuntimeException e) {
        // Written only by this class: an unreadable entry means the list cannot be trusted.
        return null;
      }
    }
    return listed;
  }
}
