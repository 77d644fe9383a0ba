package io.tusk.partition;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;

/**
 * One member partition's queue of one pipeline's jobs over one repo: entries {@code [head, tail)}
 * of the job queue store, the head's state, and the head's emission progress (scan, cursor and
 * counts) while it emits in slices.
 *
 * @param head queue number of the head job
 * @param tail queue number the next job gets
 * @param state what the head job is doing
 * @param scan which scan of the head job's emission is running (INCREMENTAL: 0 changed members, 1
 *     failed datums)
 * @param cursor store key at which the scan resumes (null: at its start)
 * @param removals removal datums emitted so far
 * @param toProcess datums emitted so far
 */
record PipelineJobs(
    long head, long tail, State state, int scan, Bytes cursor, long removals, long toProcess) {

  /** What the head job is doing. */
  enum State {
    /** Waiting for its commit to complete here (or the queue is empty). */
    WAITING,
    /** Emitting its datums in slices. */
    EMITTING,
    /** Emitted; waiting for the job tracker's JobDone. */
    RUNNING
  }

  static final PipelineJobs EMPTY = new PipelineJobs(0, 0, State.WAITING, 0, null, 0, 0);

  static final Serde<PipelineJobs> SERDE =
      Binary.serde(
          "pipeline jobs",
          (byte) 1,
          (p, w) ->
              w.putLong(p.head())
                  .putLong(p.tail())
                  .putInt(p.state().ordinal())
                  .putInt(p.scan())
                  .putBytes(p.cursor() == null ? null : p.cursor().get())
                  .putLong(p.removals())
                  .putLong(p.toProcess()),
          r -> {
            long head = r.getLong();
            long tail = r.getLong();
            State state = State.values()[r.getInt()];
            int scan = r.getInt();
            byte[] cursor = r.getBytes();
            return new PipelineJobs(
                head,
                tail,
                state,
                scan,
                cursor == null ? null : Bytes.wrap(cursor),
                r.getLong(),
                r.getLong());
          });

  boolean isEmpty() {
    return head == tail;
  }

  PipelineJobs enqueued() {
    return new PipelineJobs(head, tail + 1, state, scan, cursor, removals, toProcess);
  }

  PipelineJobs started() {
    return new PipelineJobs(head, tail, State.EMITTING, 0, null, 0, 0);
  }

  PipelineJobs emitting(int newScan, Bytes newCursor, long newRemovals, long newToProcess) {
    return new PipelineJobs(
        head, tail, State.EMITTING, newScan, newCursor, newRemovals, newToProcess);
  }

  PipelineJobs running() {
    return new PipelineJobs(head, tail, State.RUNNING, 0, null, removals, toProcess);
  }

  PipelineJobs next() {
    return new PipelineJobs(head + 1, tail, State.WAITING, 0, null, 0, 0);
  }
}
