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
  private final Map<String, String> bySourceJob = new ConcurrentHashMap<>();

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
          bySourceJob.remove(sourceKey(removed.getRepo(), removed.getSourceJob()), id);
        }
      }
      return;
    }
    Commit merged = byId.merge(id, commit, (old, update) -> old.getStats() != null ? old : update);
    writable(merged.getRepo()).put(merged.getSequence(), merged);
    if (merged.getSourceJob() != null) {
      bySourceJob.put(sourceKey(merged.getRepo(), merged.getSourceJob()), id);
    }
  }

  /** The output commit of {@code repo} that the upstream job {@code sourceJob} sealed. */
  Optional<Commit> bySourceJob(String repo, String sourceJob) {
    String id = bySourceJob.get(sourceKey(repo, sourceJob));
    return id == null ? Optional.empty() : get(id);
  }

  private static String sourceKey(String repo, String sourceJob) {
    return repo + "/" + sourceJob;
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
