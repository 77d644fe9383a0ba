package io.tusk.processor;

import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What a worker processes as one datum: the records of a datum sent in one or more parts, or a
 * record that is not a datum, or parts that do not fit together. A unit is ready once it is
 * complete (every part arrived, the datum assembled) or has failed ({@link #error()} set).
 */
final class DatumUnit {
  private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(1);
  private final List<Datum> parts;
  private Datum datum;
  private String error;
  private boolean complete;

  private DatumUnit(ConsumerRecord<byte[], byte[]> first, Datum datum, String error) {
    this.records.add(Objects.requireNonNull(first, "first"));
    this.datum = datum;
    this.error = error;
    this.parts = datum == null || error != null ? List.of() : new ArrayList<>(datum.getParts());
    if (datum != null && error == null) {
      parts.add(datum);
      if (datum.getParts() == 1) {
        complete = true;
      }
    }
  }

  /** A unit started by part 0 of a datum (complete at once when the datum has one part). */
  static DatumUnit started(ConsumerRecord<byte[], byte[]> record, Datum partZero) {
    return new DatumUnit(record, Objects.requireNonNull(partZero, "partZero"), null);
  }

  /**
   * A unit that fails as a whole.
   *
   * @param datum the decoded record, if it could be decoded (names the job, member and hash)
   * @param error why it cannot be processed
   */
  static DatumUnit failed(ConsumerRecord<byte[], byte[]> record, Datum datum, String error) {
    return new DatumUnit(record, datum, Objects.requireNonNull(error, "error"));
  }

  /**
   * Attaches the next part, assembling the datum when it is the last; a part that is not the one
   * expected next fails the unit (holding the record).
   */
  void attach(ConsumerRecord<byte[], byte[]> record, Datum part) {
    Datum first = parts.get(0);
    if (part.getParts() != first.getParts() || part.getPart() != parts.size()) {
      fail(
          record,
          "part "
              + part.getPart()
              + " of "
              + part.getParts()
              + " came where part "
              + parts.size()
              + " of "
              + first.getParts()
              + " was expected");
      return;
    }
    records.add(record);
    parts.add(part);
    if (parts.size() == first.getParts()) {
      assemble();
    }
  }

  /** Fails the unit; {@code record} (if not null) is one of its records that came since. */
  void fail(ConsumerRecord<byte[], byte[]> record, String why) {
    if (record != null) {
      records.add(record);
    }
    error =
        "datum in "
            + datum.getParts()
            + " parts is incomplete after part "
            + (parts.size() - 1)
            + ": "
            + why;
    parts.clear();
  }

  /**
   * Part 0's fields with every part's rows in part order: a datum of one record, as the transform
   * expects. Part 0 is changed in place (it is ours), so rows are not copied twice.
   */
  private void assemble() {
    int count = 0;
    for (Datum part : parts) {
      count += part.getMemberObject().getRows().size();
    }
    List<Row> rows = new ArrayList<>(count);
    for (Datum part : parts) {
      rows.addAll(part.getMemberObject().getRows());
    }
    MemberObject member = datum.getMemberObject();
    member.setRows(rows);
    member.setRowCount(-1L);
    member.setParts(1);
    datum.setPart(0);
    datum.setParts(1);
    parts.clear();
    complete = true;
  }

  /** True once it can be processed: complete, or failed. */
  boolean isReady() {
    return complete || error != null;
  }

  /** Offset of the unit's first record: where a re-read must start to rebuild it. */
  long firstOffset() {
    return records.get(0).offset();
  }

  /** The unit's records, in the order they were read. */
  List<ConsumerRecord<byte[], byte[]>> records() {
    return List.copyOf(records);
  }

  /**
   * The assembled datum when complete; for a failed unit its first decoded record (to name the job,
   * member and hash), or null if it could not be decoded.
   */
  Datum datum() {
    return datum;
  }

  /** Why the unit cannot be processed; null for a complete datum. */
  String error() {
    return error;
  }
}
