package io.tusk.partition;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;

/**
 * One member partition's queue of one pipeline's jobs over one repo: entries {@code [head, tail)}
 * of the job queue store, the head's state and emission progress (scan, cursor and counts) while it
 * emits in slices, and which commit the pipeline's current outputs reflect.
 *
 * @param head queue number of the head job
 * @param tail queue number the next job gets
 * @param state what the head job is doing
 * @param scan which scan of the head job's emission is running ({@link Scan})
 * @param cursor store key at which the scan resumes (null: at its start)
 * @param removals removal datums emitted so far
 * @param toProcess datums emitted so far
 * @param served sequence of the commit the pipeline's current outputs reflect: the commit of the
 *     last job that started and writes outputs (0: none)
 * @param since for the head job: {@code served} before it started, the other end of the range of
 *     commits whose changed members an incremental job looks at
 * @param compareOnly whether the head job only compares outputs (a re-run over a commit other than
 *     {@code served}): it writes no outputs and leaves the datum states alone
 */
record PipelineJobs(
    long head,
    long tail,
    State state,
    Scan scan,
    Bytes cursor,
    long removals,
    long toProcess,
    long served,
    long since,
    boolean compareOnly) {

  /** What the head job is doing. */
  enum State {
    /** Waiting for its commit to complete here (or the queue is empty). */
    WAITING,
    /** Emitting its datums in slices. */
    EMITTING,
    /** Emitted; waiting for the job tracker's JobDone. */
    RUNNING
  }

  /** The scans a job's emission runs, in order. */
  enum Scan {
    /** Members changed between {@code since} and the job's commit (incremental jobs). */
    CHANGED,
    /** Members whose last datum failed (incremental jobs; restarts: those of the same job). */
    FAILED,
    /** Every member the partition ever held (full jobs, and incremental ones that cannot tell). */
    VERSIONS
  }

  static final PipelineJobs EMPTY =
      new PipelineJobs(0, 0, State.WAITING, Scan.CHANGED, null, 0, 0, 0, 0, false);

  static final Serde<PipelineJobs> SERDE =
      Binary.serde(
          "pipeline jobs",
          (byte) 2,
          (p, w) ->
              w.putLong(p.head())
                  .putLong(p.tail())
                  .putInt(p.state().ordinal())
                  .putInt(p.scan().ordinal())
                  .putBytes(p.cursor() == null ? null : p.cursor().get())
                  .putLong(p.removals())
                  .putLong(p.toProcess())
                  .putLong(p.served())
                  .putLong(p.since())
                  .putInt(p.compareOnly() ? 1 : 0),
          r -> {
            long head = r.getLong();
            long tail = r.getLong();
            State state = State.values()[r.getInt()];
            Scan scan = Scan.values()[r.getInt()];
            byte[] cursor = r.getBytes();
            return new PipelineJobs(
                head,
                tail,
                state,
                scan,
                cursor == null ? null : Bytes.wrap(cursor),
                r.getLong(),
                r.getLong(),
                r.getLong(),
                r.getLong(),
                r.getInt() == 1);
          });

  boolean isEmpty() {
    return head == tail;
  }

  PipelineJobs enqueued() {
    return new PipelineJobs(
        head, tail + 1, state, scan, cursor, removals, toProcess, served, since, compareOnly);
  }

  /**
   * The head job starts emitting with its first scan, the pipeline's outputs reflecting commit
   * {@code newServed} once it has run.
   */
  PipelineJobs started(Scan first, long newServed, boolean onlyCompares) {
    return new PipelineJobs(
        head, tail, State.EMITTING, first, null, 0, 0, newServed, served, onlyCompares);
  }

  PipelineJobs emitting(Scan newScan, Bytes newCursor, long newRemovals, long newToProcess) {
    return new PipelineJobs(
        head,
        tail,
        State.EMITTING,
        newScan,
        newCursor,
        newRemovals,
        newToProcess,
        served,
        since,
        compareOnly);
  }

  PipelineJobs running() {
    return new PipelineJobs(
        head, tail, State.RUNNING, scan, null, removals, toProcess, served, since, compareOnly);
  }

  PipelineJobs next() {
    return new PipelineJobs(
        head + 1, tail, State.WAITING, Scan.CHANGED, null, 0, 0, served, served, false);
  }
}
