package io.tusk.commit;

import io.tusk.schemas.Job;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs of {@code tusk.jobs} (latest state of each, as the job tracker writes them), by ID and
 * by input commit: a commit's history lists every job that ran on it, including re-runs, branch
 * moves and pipeline updates, which the commit record itself does not name.
 */
final class JobIndex {
  private final Map<String, Job> byId = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> byCommit = new ConcurrentHashMap<>();

  /** Records a job read from the topic; null {@code job} is a tombstone. */
  synchronized void record(String id, Job job) {
    Objects.requireNonNull(id, "id");
    Job old = job == null ? byId.remove(id) : byId.put(id, job);
    if (old != null && (job == null || !old.getCommitId().equals(job.getCommitId()))) {
      Set<String> ids = byCommit.get(old.getCommitId());
      if (ids != null) {
        ids.remove(id);
      }
    }
    if (job != null) {
      byCommit.computeIfAbsent(job.getCommitId(), c -> ConcurrentHashMap.newKeySet()).add(id);
    }
  }

  /** The job with {@code id}. */
  Optional<Job> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** The jobs whose input commit is {@code commitId}, oldest first. */
  List<Job> ofCommit(String commitId) {
    Set<String> ids = byCommit.getOrDefault(commitId, Set.of());
    return ids.stream()
        .map(byId::get)
        .filter(Objects::nonNull)
        .sorted(Comparator.comparingLong(Job::getCreatedAt).thenComparing(Job::getId))
        .toList();
  }
}
