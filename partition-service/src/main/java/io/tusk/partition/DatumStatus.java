package io.tusk.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serde;

/**
 * What the member side knows of one member's datums for one pipeline: which datum's output is the
 * member's current output (Pachyderm's skip: a datum whose output is current is not processed
 * again), the datum last emitted with its state (failed datums are retried; a restart re-runs those
 * that failed in its job), and the last few succeeded datum hashes with their output hashes (the
 * expected output of a re-run).
 *
 * @param currentHash datum hash of the member's current output, the last success written to {@code
 *     <pipeline>.output} (null: none yet)
 * @param currentRemoved whether that success removed the output (a removal datum, or a recovered
 *     one): the member then has no output
 * @param lastHash datum hash last emitted (null: none emitted here)
 * @param state state of that datum
 * @param jobId the job that emitted it, or that reported its failure
 * @param successes succeeded datums, oldest first, at most {@link #KEPT_SUCCESSES}
 */
record DatumStatus(
    String currentHash,
    boolean currentRemoved,
    String lastHash,
    State state,
    String jobId,
    List<Success> successes) {

  /** Succeeded datum hashes kept per member and pipeline. */
  static final int KEPT_SUCCESSES = 8;

  /** The state of the last emitted datum. */
  enum State {
    PENDING,
    SUCCEEDED,
    FAILED
  }

  /** A succeeded datum and the hash of its output (null when it wrote none). */
  record Success(String datumHash, String outputHash) {}

  /**
   * Format 3 stores the hashes as bytes ({@link Binary.Writer#putHash}): each status is written to
   * the changelog twice per datum (emitted, done) and carries up to {@link #KEPT_SUCCESSES} pairs
   * of hashes, which as hex were most of its bytes. Format 2 (hashes as text) stays readable.
   */
  static final Serde<DatumStatus> SERDE =
      Binary.serde(
          "datum status",
          (byte) 3,
          (s, w) -> {
            w.putHash(s.currentHash()).putInt(s.currentRemoved() ? 1 : 0);
            w.putHash(s.lastHash()).putInt(s.state().ordinal()).putString(s.jobId());
            w.putInt(s.successes().size());
            for (Success success : s.successes()) {
              w.putHash(success.datumHash()).putHash(success.outputHash());
            }
          },
          r -> read(r, Binary.Reader::getHash),
          (byte) 2,
          r -> read(r, Binary.Reader::getString));

  private static DatumStatus read(Binary.Reader r, Function<Binary.Reader, String> hash) {
    String currentHash = hash.apply(r);
    boolean currentRemoved = r.getInt() == 1;
    String lastHash = hash.apply(r);
    State state = State.values()[r.getInt()];
    String jobId = r.getString();
    int n = r.getInt();
    List<Success> successes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      successes.add(new Success(hash.apply(r), hash.apply(r)));
    }
    return new DatumStatus(currentHash, currentRemoved, lastHash, state, jobId, successes);
  }

  DatumStatus {
    successes = List.copyOf(successes);
  }

  /** A status with nothing emitted and nothing succeeded. */
  static DatumStatus none() {
    return new DatumStatus(null, false, null, State.SUCCEEDED, null, List.of());
  }

  /** The output hash of the last success of {@code datumHash}, or null. */
  String outputHashOf(String datumHash) {
    for (int i = successes.size() - 1; i >= 0; i--) {
      if (successes.get(i).datumHash().equals(datumHash)) {
        return successes.get(i).outputHash();
      }
    }
    return null;
  }

  /**
   * Whether Pachyderm's skip applies: the member's current output comes from this datum hash. An
   * older success of the same hash does not skip: {@code <pipeline>.output} keeps one output per
   * member, so after x, y, x (or a rewind to x) the output of y must be replaced. A datum emitted
   * and never answered (lost) does not skip either: jobs of a pipeline run in order, so when a job
   * emits, every datum of the previous ones has its outcome or is lost.
   */
  boolean isCurrent(String datumHash) {
    return datumHash.equals(currentHash);
  }

  /** Whether the member has an output to remove (its current output is not a removal). */
  boolean hasCurrentOutput() {
    return currentHash != null && !currentRemoved;
  }

  /** Whether this datum was emitted by {@code job} and awaits its outcome (considered twice). */
  boolean pendingIn(String job, String datumHash) {
    return state == State.PENDING && datumHash.equals(lastHash) && Objects.equals(jobId, job);
  }

  /** The status after emitting {@code datumHash} in {@code job}. */
  DatumStatus emitted(String datumHash, String job) {
    return new DatumStatus(currentHash, currentRemoved, datumHash, State.PENDING, job, successes);
  }

  /**
   * The status after a datum's outcome. A success wrote the member's output record (or its
   * tombstone, {@code outputHash} null) in the same transaction, so it is the current output
   * whatever was emitted since.
   */
  DatumStatus done(String datumHash, String job, boolean succeeded, String outputHash) {
    boolean last = datumHash.equals(lastHash);
    if (succeeded) {
      List<Success> kept = new ArrayList<>(successes);
      kept.removeIf(s -> s.datumHash().equals(datumHash));
      kept.add(new Success(datumHash, outputHash));
      while (kept.size() > KEPT_SUCCESSES) {
        kept.remove(0);
      }
      return new DatumStatus(
          datumHash,
          outputHash == null,
          lastHash,
          last ? State.SUCCEEDED : state,
          last ? job : jobId,
          kept);
    }
    // A late failure of an older datum says nothing about the one in flight.
    return last
        ? new DatumStatus(currentHash, currentRemoved, lastHash, State.FAILED, job, successes)
        : this;
  }

  /** Whether the last emitted datum failed in {@code job}. */
  boolean failedIn(String job) {
    return state == State.FAILED && Objects.equals(jobId, job);
  }
}
