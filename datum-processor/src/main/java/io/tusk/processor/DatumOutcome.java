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
 * @param result the result written to {@code tusk.datum-results}; null for {@link Kind#INVALID} (a
 *     record that cannot be decoded names no job)
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
     * Every attempt failed but the error command succeeded: no output, the datum counts as done.
     */
    RECOVERED,
    /** A removal datum (the member's rows are all deleted): a tombstone replaces its output. */
    REMOVED,
    /** The record is not a datum (cannot be decoded); it goes to the failed topic only. */
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
