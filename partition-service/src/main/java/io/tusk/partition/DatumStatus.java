package io.tusk.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * What the member side knows of one member's datums for one pipeline: the datum hash last emitted
 * and its state, the job that emitted it (Pachyderm's skip: a datum whose output is current is not
 * processed again), and the last few succeeded datum hashes with their output hashes (the expected
 * output of a REPROCESS datum).
 *
 * @param lastHash datum hash last emitted (null: none emitted here)
 * @param state state of that datum
 * @param jobId the job that emitted it, or that reported its failure
 * @param successes succeeded datums, oldest first, at most {@link #KEPT_SUCCESSES}
 */
record DatumStatus(String lastHash, State state, String jobId, List<Success> successes) {

  /** Succeeded datum hashes kept per member and pipeline. */
  static final int KEPT_SUCCESSES = 8;

  /** The state of the last emitted datum. */
  enum State {
    PENDING,
    SUCCEEDED,
    FAILED
  }

  /** A succeeded datum and the hash of its output (null when unknown, e.g. recovered). */
  record Success(String datumHash, String outputHash) {}

  static final Serde<DatumStatus> SERDE =
      Binary.serde(
          "datum status",
          (byte) 1,
          (s, w) -> {
            w.putString(s.lastHash()).putInt(s.state().ordinal()).putString(s.jobId());
            w.putInt(s.successes().size());
            for (Success success : s.successes()) {
              w.putString(success.datumHash()).putString(success.outputHash());
            }
          },
          r -> {
            String lastHash = r.getString();
            State state = State.values()[r.getInt()];
            String jobId = r.getString();
            int n = r.getInt();
            List<Success> successes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              successes.add(new Success(r.getString(), r.getString()));
            }
            return new DatumStatus(lastHash, state, jobId, successes);
          });

  DatumStatus {
    successes = List.copyOf(successes);
  }

  /** A status with nothing emitted and nothing succeeded. */
  static DatumStatus none() {
    return new DatumStatus(null, State.SUCCEEDED, null, List.of());
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
   * Whether Pachyderm's skip applies: the member's current output already comes from this datum
   * hash (it is the last one emitted and it succeeded), or it is in flight. An older success of the
   * same hash does not skip: {@code <pipeline>.output} keeps one output per member, so after x, y,
   * x (or a rewind to x) the output of y must be replaced.
   */
  boolean skips(String datumHash) {
    return datumHash.equals(lastHash) && state != State.FAILED;
  }

  /** Whether some datum of the member succeeded (so its removal must be processed). */
  boolean hasSuccess() {
    return !successes.isEmpty();
  }

  /** The status after emitting {@code datumHash} in {@code job}. */
  DatumStatus emitted(String datumHash, String job) {
    return new DatumStatus(datumHash, State.PENDING, job, successes);
  }

  /** The status after a datum's outcome. */
  DatumStatus done(String datumHash, String job, boolean succeeded, String outputHash) {
    boolean current = datumHash.equals(lastHash);
    if (succeeded) {
      List<Success> kept = new ArrayList<>(successes);
      kept.removeIf(s -> s.datumHash().equals(datumHash));
      kept.add(new Success(datumHash, outputHash));
      while (kept.size() > KEPT_SUCCESSES) {
        kept.remove(0);
      }
      return new DatumStatus(
          lastHash, current ? State.SUCCEEDED : state, current ? job : jobId, kept);
    }
    // A late failure of an older datum says nothing about the one in flight.
    return current ? new DatumStatus(lastHash, State.FAILED, job, successes) : this;
  }

  /** Whether the last emitted datum failed in {@code job}. */
  boolean failedIn(String job) {
    return state == State.FAILED && Objects.equals(jobId, job);
  }
}
