package io.tusk.commit;

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
 * The commits of every repo, by ID and by repo and sequence: fed by the {@code tusk.commits} view
 * and by the commits this process seals (so a seal's parent is never stale).
 *
 * <p>A commit's content never changes except that the partition service writes it back with stats
 * once complete, so updates are merged monotonically: a version without stats never replaces one
 * with stats. That makes the order in which the view and local seals arrive irrelevant.
 */
final class CommitIndex {
  private final Map<String, Commit> byId = new ConcurrentHashMap<>();
  private final Map<String, ConcurrentNavigableMap<Long, Commit>> byRepo =
      new ConcurrentHashMap<>();
  private final Map<String, String> bySource = new ConcurrentHashMap<>();

  /**
   * Records a commit read from the topic or just sealed; null {@code commit} is a tombstone.
   * Synchronized so the two maps never disagree about which version of a commit they hold.
   */
  synchronized void record(String id, Commit commit) {
    Objects.requireNonNull(id, "id");
    if (commit == null) {
      Commit removed = byId.remove(id);
      if (removed != null) {
        writable(removed.getRepo()).remove(removed.getSequence(), removed);
        if (removed.getSourceJob() != null) {
          bySource.remove(sourceKey(removed), id);
        }
      }
      return;
    }
    Commit merged = byId.merge(id, commit, (old, update) -> old.getStats() != null ? old : update);
    writable(merged.getRepo()).put(merged.getSequence(), merged);
    if (merged.getSourceJob() != null) {
      bySource.put(sourceKey(merged), id);
    }
  }

  /**
   * The output commit of {@code repo} that round {@code round} of upstream job {@code sourceJob}
   * sealed (0: the job's end, n: its n-th restart round).
   */
  Optional<Commit> bySource(String repo, String sourceJob, int round) {
    String id = bySource.get(sourceKey(repo, sourceJob, round));
    return id == null ? Optional.empty() : get(id);
  }

  private static String sourceKey(Commit commit) {
    return sourceKey(commit.getRepo(), commit.getSourceJob(), commit.getSourceRound());
  }

  private static String sourceKey(String repo, String sourceJob, int round) {
    return repo + "/" + sourceJob + "/" + round;
  }

  /** The commit with {@code id}. */
  Optional<Commit> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** The repo's commit with the highest sequence, or empty before its first commit. */
  Optional<Commit> latest(String repo) {
    Map.Entry<Long, Commit> last = repo(repo).lastEntry();
    return last == null ? Optional.empty() : Optional.of(last.getValue());
  }

  /**
   * Up to {@code limit} commits of {@code repo} with sequence below {@code before}, newest first.
   */
  List<Commit> page(String repo, long before, int limit) {
    return repo(repo).headMap(before, false).descendingMap().values().stream()
        .limit(limit)
        .toList();
  }

  private ConcurrentNavigableMap<Long, Commit> writable(String repo) {
    return byRepo.computeIfAbsent(repo, r -> new ConcurrentSkipListMap<>());
  }

  private NavigableMap<Long, Commit> repo(String repo) {
    NavigableMap<Long, Commit> commits = byRepo.get(repo);
    return commits == null ? Collections.emptyNavigableMap() : commits;
  }
}
