package io.tusk.partition;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.Commit;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;

/**
 * Writes a member's new content at a commit: a new version (or, when a later phase of the same
 * commit brings it back to what it was, no version), the member's entry in the commit's
 * changed-member set, and its record on {@code <repo>.members}. Used when rows are applied and when
 * released rows leave their old member.
 */
final class MemberUpdates {
  /** Change kinds in the changed-member sets. */
  static final long ADDED = 0;

  static final long CHANGED = 1;
  static final long REMOVED = 2;

  private final MemberTask task;

  MemberUpdates(MemberTask task) {
    this.task = task;
  }

  /** Counts of member changes made in a slice of a commit's application. */
  static final class Changes {
    long changed;
    long members;
  }

  /**
   * Writes the member's new content as its version at the commit (or drops that version when the
   * content is back to what it was before the commit), records the change in the commit's set and
   * emits the member to {@code <repo>.members} (a tombstone once it has no rows).
   */
  /**
   * Whether {@code before}, stored under an earlier layout, holds the rows of {@code hash} once
   * fitted to the layout of commit {@code sequence}: a member whose rows did not change is not
   * changed by a layout change (added columns' defaults), even when a commit touched it.
   */
  private boolean sameOnceFitted(String repo, MemberObject before, long sequence, String hash) {
    RepoLayout layout = task.layout(repo);
    if (layout == null || !MemberVersions.present(before) || hash.isEmpty()) {
      return false;
    }
    RepoLayout now = layout.at(sequence);
    if (now.version() == layout.at(before.getSequence()).version()) {
      return false;
    }
    List<Row> fitted = now.fit(task.versions.rows(before));
    return !fitted.isEmpty() && Hashing.memberHash(fitted).equals(hash);
  }

  void update(
      String repo, String member, List<Row> rows, Commit commit, Changes changes, Budget budget) {
    long sequence = commit.getSequence();
    MemberVersions.Writable versions = task.versions;
    MemberObject latest = versions.asOf(repo, member, sequence);
    boolean atCommit = latest != null && latest.getSequence() == sequence;
    MemberObject before = atCommit ? versions.asOf(repo, member, sequence - 1) : latest;
    boolean wasPresent = MemberVersions.present(before);
    boolean nowPresent = !rows.isEmpty();
    String hash = nowPresent ? Hashing.memberHash(rows) : "";
    boolean unchanged =
        before == null
            ? !nowPresent
            : before.getHash().equals(hash) || sameOnceFitted(repo, before, sequence, hash);
    long presentBefore = MemberVersions.present(atCommit ? latest : before) ? 1 : 0;
    Bytes changedKey = StoreKeys.changed(repo, sequence, member);
    if (unchanged) {
      if (atCommit) {
        // An earlier phase of this commit changed the member; a release undid it.
        versions.delete(repo, member, sequence);
        StoreKeys.drop(task.stores.changedSets(), changedKey);
        changes.changed--;
        changes.members += (wasPresent ? 1 : 0) - presentBefore;
        emit(repo, member, before);
      }
      return;
    }
    MemberObject stored =
        versions.put(
            MemberObject.newBuilder()
                .setRepo(repo)
                .setMember(member)
                .setHash(hash)
                .setCommitId(commit.getId())
                .setSequence(sequence)
                .setRows(rows)
                .build(),
            before);
    task.stores.changedSets().put(changedKey, !wasPresent ? ADDED : nowPresent ? CHANGED : REMOVED);
    if (!atCommit) {
      changes.changed++;
    }
    changes.members += (nowPresent ? 1 : 0) - presentBefore;
    budget.changed();
    emit(repo, member, stored);
  }

  /**
   * The member's latest version on {@code <repo>.members}; a version whose rows are chunked goes as
   * its header (row count, no rows): the member API reads its rows.
   */
  private void emit(String repo, String member, MemberObject version) {
    task.forwardWithRepo(
        repo, member, MemberVersions.present(version) ? version : null, PartitionSinks.MEMBERS);
  }
}
