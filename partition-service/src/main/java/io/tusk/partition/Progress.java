package io.tusk.partition;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;

/**
 * The member topology's progress on one repo in one member partition: the last completed commit,
 * how many members the partition holds, the state of the commit being applied (its phase, the scan
 * cursor and the counts so far), so a commit can be applied in slices across transactions, and the
 * history floor (the oldest commit whose member versions are all still kept).
 *
 * @param lastCompleted sequence of the last completed commit (0: none)
 * @param members members of the repo present in this partition (removed members excluded)
 * @param phase where the next commit's application stands
 * @param cursor store key at which the current phase's scan resumes (null: at its start)
 * @param rows rows of the commit applied so far
 * @param changed members changed by the commit so far
 * @param rejected reject notices of the commit counted so far
 * @param floor commits with a sequence below this were pruned: as-of queries need {@code >= floor}
 * @param pruneCursor where the pruning of commit {@code floor}'s changed members resumes
 */
record Progress(
    long lastCompleted,
    long members,
    Phase phase,
    Bytes cursor,
    long rows,
    long changed,
    long rejected,
    long floor,
    Bytes pruneCursor) {

  /** Where a commit's application stands. */
  enum Phase {
    /** Waiting for the next commit to be ready. */
    IDLE,
    /** Applying the commit's pending rows (and claiming the row keys they carry). */
    ROWS,
    /** Counting the commit's reject notices. */
    REJECTS,
    /** Claiming the row keys of the commit's deletes by row key (repos with row keys). */
    DELETES,
    /** Waiting for every row-owner partition's releases-done marker of the commit. */
    WAIT_RELEASES,
    /** Applying the releases of rows that moved to another member. */
    RELEASES
  }

  /** The progress of a repo the partition has not completed any commit of. */
  static final Progress INITIAL = new Progress(0, 0, Phase.IDLE, null, 0, 0, 0, 1, null);

  static final Serde<Progress> SERDE =
      Binary.serde(
          "progress",
          (byte) 3,
          (p, w) ->
              w.putLong(p.lastCompleted())
                  .putLong(p.members())
                  .putInt(p.phase().ordinal())
                  .putBytes(p.cursor() == null ? null : p.cursor().get())
                  .putLong(p.rows())
                  .putLong(p.changed())
                  .putLong(p.rejected())
                  .putLong(p.floor())
                  .putBytes(p.pruneCursor() == null ? null : p.pruneCursor().get()),
          r -> {
            long lastCompleted = r.getLong();
            long members = r.getLong();
            Phase phase = Phase.values()[r.getInt()];
            byte[] cursor = r.getBytes();
            long rows = r.getLong();
            long changed = r.getLong();
            long rejected = r.getLong();
            long floor = r.getLong();
            byte[] pruneCursor = r.getBytes();
            return new Progress(
                lastCompleted,
                members,
                phase,
                cursor == null ? null : Bytes.wrap(cursor),
                rows,
                changed,
                rejected,
                floor,
                pruneCursor == null ? null : Bytes.wrap(pruneCursor));
          });

  /** Starts applying the next commit. */
  Progress start() {
    return new Progress(lastCompleted, members, Phase.ROWS, null, 0, 0, 0, floor, pruneCursor);
  }

  /** Records a slice of rows (or releases) applied. */
  Progress applied(Bytes next, long moreRows, long moreChanged, long memberDelta) {
    return new Progress(
        lastCompleted,
        members + memberDelta,
        phase,
        next,
        rows + moreRows,
        changed + moreChanged,
        rejected,
        floor,
        pruneCursor);
  }

  /** Moves on to {@code next} with its scan at the start. */
  Progress phase(Phase next) {
    return new Progress(
        lastCompleted, members, next, null, rows, changed, rejected, floor, pruneCursor);
  }

  /** Records a slice of reject notices counted. */
  Progress rejectsCounted(Bytes next, long moreRejected) {
    return new Progress(
        lastCompleted,
        members,
        phase,
        next,
        rows,
        changed,
        rejected + moreRejected,
        floor,
        pruneCursor);
  }

  /** Marks the commit being applied completed. */
  Progress completed() {
    return new Progress(lastCompleted + 1, members, Phase.IDLE, null, 0, 0, 0, floor, pruneCursor);
  }

  /** Records pruning progress: the floor reached and where the next slice resumes. */
  Progress pruned(long newFloor, Bytes next) {
    return new Progress(
        lastCompleted, members, phase, cursor, rows, changed, rejected, newFloor, next);
  }
}
