package io.tusk.processor;

import io.tusk.schemas.DatumResult;
import io.tusk.schemas.Output;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What one datum produced: the records to write in the poll's transaction, and for inspection the
 * decoded {@link Output} and {@link DatumResult} they carry.
 *
 * @param kind how the datum ended
 * @param output the output written to {@code <pipeline>.output}; null unless {@link Kind#SUCCESS}
 * @param result the result written to {@code tusk.datum-results}; null for an {@link Kind#INVALID}
 *     record that names no job (it cannot be decoded and has no job headers)
 * @param error why the datum failed, in Tusk's words (no stderr); null on success
 * @param records the records to send, in order
 */
public record DatumOutcome(
    Kind kind,
    Output output,
    DatumResult result,
    String error,
    List<ProducerRecord<byte[], byte[]>> records) {

  /** How a datum ended. */
  public enum Kind {
    /** The transform produced an output. */
    SUCCESS,
    /** Every attempt failed, and there was no error command or it failed too. */
    FAILED,
    /**
     * Every attempt failed but the error command succeeded: the member's output is removed (a
     * tombstone), the datum counts as done.
     */
    RECOVERED,
    /** A removal datum (the member's rows are all deleted): a tombstone replaces its output. */
    REMOVED,
    /**
     * A compare-only datum (a re-run over another commit than the outputs reflect): the output was
     * computed and compared with the expected hash, and nothing but the result was written.
     */
    COMPARED,
    /**
     * The record is not a datum (cannot be decoded), or the parts of a datum do not fit together:
     * it goes to the failed topic, with a FAILED result when it names its job.
     */
    INVALID;

    /** The value of the {@code outcome} metric tag. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public DatumOutcome {
    Objects.requireNonNull(kind, "kind");
    records = List.copyOf(records);
  }
}
