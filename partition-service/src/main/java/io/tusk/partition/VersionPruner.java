package io.tusk.partition;

import io.tusk.schemas.RepoSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * Prunes member versions no as-of read within a repo's {@code historyRetention} needs: raising the
 * history floor to F drops, for every member changed in commit F, its versions older than F, and
 * commit F's changed-member set (so as-of reads before F answer 410, and jobs there are refused).
 * The floor never passes a queued job's commit, whose versions and changed sets the job reads, nor
 * the repo's oldest branch head: every branch stays readable, and a pipeline following it can run
 * there (delete an old branch to let its history go).
 */
final class VersionPruner {
  private final MemberTask task;
  private final JobQueue jobs;
  private final ToLongFunction<String> oldestBranchHead;

  VersionPruner(MemberTask task, JobQueue jobs, ToLongFunction<String> oldestBranchHead) {
    this.task = task;
    this.jobs = jobs;
    this.oldestBranchHead = oldestBranchHead;
  }

  /** Raises the repo's floor toward its retention as far as the budget allows. */
  Progress prune(String repo, Progress progress, Budget budget) {
    Optional<RepoSpec> spec = task.spec(repo);
    if (spec.isEmpty() || budget.exhausted()) {
      return progress;
    }
    long retention = Math.max(1, spec.get().getHistoryRetention());
    long target = progress.lastCompleted() - retention + 1;
    if (progress.floor() >= target) {
      return progress;
    }
    target = Math.min(target, jobs.oldestQueuedCommit(repo) - 1);
    target = Math.min(target, oldestBranchHead.applyAsLong(repo));
    long floor = progress.floor();
    Bytes cursor = progress.pruneCursor();
    while (floor < target && !budget.exhausted()) {
      long level = floor + 1;
      Bytes prefix = StoreKeys.changedSet(repo, level);
      List<Bytes> done = new ArrayList<>();
      Bytes resumeAt = null;
      try (KeyValueIterator<Bytes, Long> changed =
          task.stores
              .changedSets()
              .range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (changed.hasNext()) {
          KeyValue<Bytes, Long> entry = changed.next();
          if (budget.exhausted()) {
            resumeAt = entry.key;
            break;
          }
          budget.visited();
          task.versions.deleteBefore(repo, StoreKeys.decodeChanged(entry.key).member(), level);
          done.add(entry.key);
        }
      }
      done.forEach(key -> StoreKeys.drop(task.stores.changedSets(), key));
      if (resumeAt == null) {
        floor = level;
        cursor = null;
      } else {
        cursor = resumeAt;
      }
    }
    return progress.pruned(floor, cursor);
  }
}
