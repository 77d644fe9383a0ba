package io.tusk.commit;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Future;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes to a repo's branches: create, move (a rewind when older) and delete. A branch record is
 * written with a full job for every pipeline following the branch, in one transaction ({@link
 * CommitSealer#writeBranch}), queued with the repo's seals ({@link ControlPlane#repoQueue}), so a
 * move and the seals around it are ordered. Reads of branches are on {@link ControlPlane}.
 */
final class BranchControl {
  private static final Logger log = LoggerFactory.getLogger(BranchControl.class);

  private final ControlPlane control;

  BranchControl(ControlPlane control) {
    this.control = control;
  }

  /** A branch record as written, with the jobs its change started. */
  record BranchChange(Branch branch, List<JobRef> jobs) {}

  /**
   * Creates a branch at the commit {@code headRef} names (null: no head yet); pipelines already
   * following the name get a full job at the head, as for a move.
   */
  Future<BranchChange> create(String repoName, String name, String headRef) {
    control.repo(repoName);
    Requests.branchName("name", name);
    // A reference (a branch, master~2) is resolved once, here: the write below uses the same ID.
    String headId = headRef == null ? null : control.commitOf(repoName, "head", headRef).getId();
    if (headId != null) {
      control.requireKept(control.commitOf(repoName, "head", headId), "head");
    }
    requireNoBranch(repoName, name);
    return control.tasks.submit(
        ControlPlane.repoQueue(repoName),
        () -> {
          requireNoBranch(repoName, name);
          Commit head = headId == null ? null : control.commitOf(repoName, "head", headId);
          if (head != null) {
            control.requireKept(head, "head");
          }
          return write(repoName, name, head);
        });
  }

  /**
   * Moves a branch to another commit of its repo (older: a rewind, but not below the history floor:
   * 410) and starts a full job at the new head for every pipeline following it, in one transaction.
   *
   * @param expectedRef if not null, the move happens only if the head is still this commit (else
   *     409): a compare-and-set for concurrent writers
   */
  Future<BranchChange> move(String repoName, String name, String headRef, String expectedRef) {
    control.repo(repoName);
    control.branch(repoName, name);
    // References are resolved once, before the move queues: "the head it had when I asked".
    Commit resolved = control.commitOf(repoName, "head", headRef);
    control.requireKept(resolved, "head");
    String headId = resolved.getId();
    // A full ID is compared as given (a commit-and-set against a head this service may not know).
    String expectedHead =
        expectedRef == null || Ids.isValid(expectedRef)
            ? expectedRef
            : control.commitOf(repoName, "expectedHead", expectedRef).getId();
    return control.tasks.submit(
        ControlPlane.repoQueue(repoName),
        () -> {
          Branch current = control.branch(repoName, name);
          if (expectedHead != null && !expectedHead.equals(current.getHead())) {
            throw ApiException.conflict(
                "branch '"
                    + name
                    + "' of repo '"
                    + repoName
                    + "' is at "
                    + current.getHead()
                    + ", not at expectedHead "
                    + expectedHead);
          }
          Commit head = control.commitOf(repoName, "head", headId);
          // Seals queued before this move may have raised the floor.
          control.requireKept(head, "head");
          return write(repoName, name, head);
        });
  }

  /** Deletes a branch: never master, never one a pipeline follows. */
  Future<Void> delete(String repoName, String name) {
    control.repo(repoName);
    control.branch(repoName, name);
    return control.tasks.submit(
        ControlPlane.repoQueue(repoName),
        () -> {
          control.branch(repoName, name);
          if (name.equals(ControlPlane.MASTER)) {
            throw ApiException.conflict("branch master cannot be deleted");
          }
          List<String> followers =
              control.following(repoName, name).stream().map(PipelineSpec::getName).toList();
          if (!followers.isEmpty()) {
            throw ApiException.conflict(
                "branch '" + name + "' is the input of pipelines " + followers);
          }
          control.sealer.deleteBranch(repoName, name);
          control.branches.remove(TopicNames.branchKey(repoName, name));
          log.info("Deleted branch {} of repo {}", name, repoName);
          return null;
        });
  }

  /** Writes a branch record at {@code head} with a full job per following pipeline. */
  private BranchChange write(String repoName, String name, Commit head) {
    RepoSpec repo = control.repo(repoName);
    List<JobRef> jobs =
        head == null
            ? List.of()
            : control.following(repoName, name).stream()
                .map(p -> ControlPlane.jobRef(p, JobKind.BRANCH, JobMode.FULL))
                .toList();
    Branch branch = CommitSealer.branchAt(repoName, name, head);
    control.sealer.writeBranch(repo, branch, head, jobs);
    control.branches.put(TopicNames.branchKey(repoName, name), branch);
    log.info(
        "Branch {} of repo {} now at {} ({} jobs)", name, repoName, branch.getHead(), jobs.size());
    return new BranchChange(branch, jobs);
  }

  private void requireNoBranch(String repo, String name) {
    if (control.branches.get(TopicNames.branchKey(repo, name)).isPresent()) {
      throw ApiException.conflict("branch '" + name + "' of repo '" + repo + "' already exists");
    }
  }
}
