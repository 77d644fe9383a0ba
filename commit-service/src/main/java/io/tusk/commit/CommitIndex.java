package io.tusk.commit;

import io.tusk.common.kafka.TopicFeed;
import io.tusk.schemas.Commit;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The commits of every repo, by ID and by repo and sequence: fed by {@code tusk.commits} (see
 * {@link TopicFeed}) and by the commits this process seals (so a seal's parent is never stale).
 *
 * <p>Each commit is kept once, as Avro binary ({@link AvroBytes}), and decoded when a request reads
 * it: about 460 bytes of heap per commit with 6 update partitions and a job, index included,
 * against about 1,270 as objects ({@code IndexFootprintTest}), so 50,000 commits take about 23 MB.
 *
 * <p>A commit's content never changes except that the partition service writes it back with stats
 * once complete, so updates are merged monotonically: a version without stats never replaces one
 * with stats. That makes the order in which the topic and local seals arrive irrelevant.
 */
final class CommitIndex {
  private static final AvroBytes<Commit> CODEC = AvroBytes.of(Commit.class);

  /** Sorted, so that a commit ID prefix is a range (commit references, {@link CommitRefs}). */
  private final ConcurrentNavigableMap<String, byte[]> byId = new ConcurrentSkipListMap<>();

  private final Map<String, ConcurrentNavigableMap<Long, byte[]>> byRepo =
      new ConcurrentHashMap<>();
  private final Map<String, String> bySource = new ConcurrentHashMap<>();
  private final Map<String, String> byRequest = new ConcurrentHashMap<>();

  /**
   * Records a commit read from the topic or just sealed; null {@code commit} is a tombstone.
   * Synchronized so the maps never disagree about which version of a commit they hold.
   */
  synchronized void record(String id, Commit commit) {
    Objects.requireNonNull(id, "id");
    byte[] stored = byId.get(id);
    Commit old = stored == null ? null : CODEC.decode(stored);
    if (commit == null) {
      if (old != null) {
        byId.remove(id);
        writable(old.getRepo()).remove(old.getSequence(), stored);
        if (old.getSourceJob() != null) {
          bySource.remove(sourceKey(old), id);
        }
        if (old.getRequestId() != null) {
          byRequest.remove(requestKey(old.getRepo(), old.getRequestId()), id);
        }
      }
      return;
    }
    if (old != null && old.getStats() != null && commit.getStats() == null) {
      return;
    }
    byte[] encoded = CODEC.encode(commit);
    byId.put(id, encoded);
    writable(commit.getRepo()).put(commit.getSequence(), encoded);
    if (commit.getSourceJob() != null) {
      bySource.put(sourceKey(commit), id);
    }
    if (commit.getRequestId() != null) {
      byRequest.put(requestKey(commit.getRepo(), commit.getRequestId()), id);
    }
  }

  /**
   * Forgets every commit of a deleted repo, so a repo created again under the name starts with no
   * commits and no old ID resolves.
   *
   * @return the forgotten commits, in sequence order
   */
  synchronized List<Commit> dropRepo(String repo) {
    ConcurrentNavigableMap<Long, byte[]> removed = byRepo.remove(repo);
    if (removed == null) {
      return List.of();
    }
    List<Commit> dropped = removed.values().stream().map(CODEC::decode).toList();
    for (Commit commit : dropped) {
      byId.remove(commit.getId());
      if (commit.getSourceJob() != null) {
        bySource.remove(sourceKey(commit), commit.getId());
      }
      if (commit.getRequestId() != null) {
        byRequest.remove(requestKey(repo, commit.getRequestId()), commit.getId());
      }
    }
    return dropped;
  }

  /**
   * The output commit of {@code repo} that round {@code round} of upstream job {@code sourceJob}
   * sealed (0: the job's end, n: its n-th restart round).
   */
  Optional<Commit> bySource(String repo, String sourceJob, int round) {
    String id = bySource.get(sourceKey(repo, sourceJob, round));
    return id == null ? Optional.empty() : get(id);
  }

  /**
   * The commit of {@code repo} sealed for the seal request with idempotency key {@code requestId}.
   */
  Optional<Commit> byRequest(String repo, String requestId) {
    String id = byRequest.get(requestKey(repo, requestId));
    return id == null ? Optional.empty() : get(id);
  }

  private static String requestKey(String repo, String requestId) {
    return repo + "\u0000" + requestId;
  }

  private static String sourceKey(Commit commit) {
    return sourceKey(commit.getRepo(), commit.getSourceJob(), commit.getSourceRound());
  }

  private static String sourceKey(String repo, String sourceJob, int round) {
    return repo + "/" + sourceJob + "/" + round;
  }

  /** The commit with {@code id}. */
  Optional<Commit> get(String id) {
    return Optional.ofNullable(byId.get(id)).map(CODEC::decode);
  }

  /**
   * Up to {@code limit} commits whose ID starts with {@code prefix}, in ID order: of {@code repo},
   * or of every repo when it is null.
   */
  List<Commit> withPrefix(String repo, String prefix, int limit) {
    // Commit IDs are lower-case hex: every ID with the prefix sorts below prefix + "g".
    return byId.subMap(prefix, true, prefix + "g", false).values().stream()
        .map(CODEC::decode)
        .filter(c -> repo == null || c.getRepo().equals(repo))
        .limit(limit)
        .toList();
  }

  /** The repo's commit with the highest sequence, or empty before its first commit. */
  Optional<Commit> latest(String repo) {
    Map.Entry<Long, byte[]> last = repo(repo).lastEntry();
    return last == null ? Optional.empty() : Optional.of(CODEC.decode(last.getValue()));
  }

  /**
   * Up to {@code limit} commits of {@code repo} with sequence below {@code before}, newest first.
   */
  List<Commit> page(String repo, long before, int limit) {
    return repo(repo).headMap(before, false).descendingMap().values().stream()
        .limit(limit)
        .map(CODEC::decode)
        .toList();
  }

  private ConcurrentNavigableMap<Long, byte[]> writable(String repo) {
    return byRepo.computeIfAbsent(repo, r -> new ConcurrentSkipListMap<>());
  }

  private NavigableMap<Long, byte[]> repo(String repo) {
    NavigableMap<Long, byte[]> commits = byRepo.get(repo);
    return commits == null ? Collections.emptyNavigableMap() : commits;
  }
}
