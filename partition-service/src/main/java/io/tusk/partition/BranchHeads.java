package io.tusk.partition;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.schemas.Branch;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sequence of the oldest branch head of each repo, kept from {@code tusk.branches}: history is
 * never pruned past a branch's head (as git keeps what a branch points at), so every branch stays
 * readable and movable-from, however many commits other branches seal meanwhile.
 */
final class BranchHeads {
  /** Per repo: branch name to its head's sequence (branches without a head are left out). */
  private final Map<String, Map<String, Long>> heads = new ConcurrentHashMap<>();

  /** The heads of a view, followed as it changes. */
  static BranchHeads of(CompactedTopicView<Branch> branches) {
    BranchHeads heads = new BranchHeads();
    // The listener first: an update between the two is applied twice, to the same effect.
    branches.addListener(heads::record);
    branches.snapshot().forEach(heads::record);
    return heads;
  }

  /** Records a branch record ({@code null}: the branch was deleted). */
  void record(String key, Branch branch) {
    int slash = key.indexOf('/');
    if (slash < 0) {
      return;
    }
    String repo = key.substring(0, slash);
    String name = key.substring(slash + 1);
    Map<String, Long> ofRepo = heads.computeIfAbsent(repo, r -> new ConcurrentHashMap<>());
    if (branch == null || branch.getHead() == null) {
      ofRepo.remove(name);
    } else {
      ofRepo.put(name, branch.getHeadSequence());
    }
  }

  /** The sequence of the repo's oldest branch head (Long.MAX_VALUE: no branch has a head). */
  long oldest(String repo) {
    Map<String, Long> ofRepo = heads.get(repo);
    if (ofRepo == null) {
      return Long.MAX_VALUE;
    }
    return ofRepo.values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
  }
}
