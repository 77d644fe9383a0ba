package io.tusk.processor;

import io.tusk.common.topics.Headers;
import io.tusk.schemas.Datum;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the records of one partition of {@code <pipeline>.datums} into {@link DatumUnit}s, in the
 * order of their first record. The member side sends a large datum as parts 0..n-1, in order, in
 * one transaction, to the same partition; records of other datums may come between them.
 *
 * <ul>
 *   <li>Part 0 (or a datum of one part) starts a unit; later parts attach to the unit of the same
 *       member, job and datum hash.
 *   <li>A part after 0 with no unit is an orphan: its datum started before the offset the worker
 *       resumed from, so it was processed already. It is dropped.
 *   <li>Parts that do not fit (a gap, a repeated part 0, an undecodable part whose headers name the
 *       unit) fail their unit as a whole; a record that is not a datum is a failed unit of its own.
 * </ul>
 *
 * Only the units before the first incomplete one are ready ({@link #peekReady}); the offset to
 * commit for the partition is the first offset of the first unit not processed ({@link
 * #firstOffset}). An incomplete unit stays buffered across polls: its remaining parts are in the
 * same transaction, so they come with the next polls. The worker clears the assembler when it loses
 * the partition or rewinds it.
 *
 * <p>Not thread-safe: one per assigned partition of a worker.
 */
final class DatumAssembler {
  private static final Logger log = LoggerFactory.getLogger(DatumAssembler.class);

  /** Decodes one record. */
  interface Decoder {
    /**
     * @return the datum, or why the record is not one; throws only for transient failures (the
     *     registry cannot be reached), which the worker retries
     */
    Decoded decode(ConsumerRecord<byte[], byte[]> record);
  }

  /**
   * A decoded record.
   *
   * @param datum the datum (one part of it); null when {@code error} is set
   * @param error why the record is not a datum; null when decoded
   */
  record Decoded(Datum datum, String error) {}

  /** Which datum a part belongs to. */
  private record DatumKey(String member, String jobId, String datumHash) {
    static DatumKey of(Datum datum) {
      return new DatumKey(
          datum.getMemberObject().getMember(), datum.getJobId(), datum.getDatumHash());
    }
  }

  private final Decoder decoder;
  private final Deque<DatumUnit> units = new ArrayDeque<>();
  private final Map<DatumKey, DatumUnit> incomplete = new HashMap<>();
  private long orphans;

  DatumAssembler(Decoder decoder) {
    this.decoder = Objects.requireNonNull(decoder, "decoder");
  }

  /** Adds the next record of the partition. */
  void add(ConsumerRecord<byte[], byte[]> record) {
    Decoded decoded = decoder.decode(record);
    Datum datum = decoded.datum();
    if (datum == null) {
      addUndecodable(record, decoded.error());
      return;
    }
    DatumKey key = DatumKey.of(datum);
    DatumUnit open = incomplete.get(key);
    int part = datum.getPart();
    int parts = datum.getParts();
    if (parts < 1 || part < 0 || part >= parts) {
      String error = "datum record claims to be part " + part + " of " + parts;
      if (open != null) {
        incomplete.remove(key);
        open.fail(record, error);
      } else {
        units.add(DatumUnit.failed(record, datum, error));
      }
      return;
    }
    if (part == 0) {
      if (open != null) {
        incomplete.remove(key);
        open.fail(null, "its part 0 came again at offset " + record.offset());
      }
      DatumUnit unit = DatumUnit.started(record, datum);
      units.add(unit);
      if (!unit.isReady()) {
        incomplete.put(key, unit);
      }
      return;
    }
    if (open == null) {
      orphans++;
      log.debug(
          "Dropping part {} of {} at {}-{}@{}: its datum started before the resumed offset",
          part,
          parts,
          record.topic(),
          record.partition(),
          record.offset());
      return;
    }
    open.attach(record, datum);
    if (open.isReady()) {
      incomplete.remove(key); // complete, or failed by a part that did not fit
    }
  }

  /**
   * A record that is not a datum. If its headers name an incomplete unit (the member side puts the
   * job ID and datum hash on every part), that unit fails; else it is a failed unit of its own.
   */
  private void addUndecodable(ConsumerRecord<byte[], byte[]> record, String error) {
    String jobId = Headers.text(record.headers(), Headers.JOB_ID);
    String datumHash = Headers.text(record.headers(), Headers.DATUM_HASH);
    if (jobId != null && datumHash != null && record.key() != null) {
      DatumKey key =
          new DatumKey(new String(record.key(), StandardCharsets.UTF_8), jobId, datumHash);
      DatumUnit open = incomplete.remove(key);
      if (open != null) {
        open.fail(record, "a part at offset " + record.offset() + " is not a datum: " + error);
        return;
      }
    }
    units.add(DatumUnit.failed(record, null, error));
  }

  /** The first unit if it is ready to process, else null (none, or it waits for parts). */
  DatumUnit peekReady() {
    DatumUnit head = units.peekFirst();
    return head != null && head.isReady() ? head : null;
  }

  /** Removes the first unit, once processed. */
  void removeFirst() {
    DatumUnit head = units.removeFirst();
    if (!head.isReady()) {
      throw new IllegalStateException("the first unit is not ready");
    }
  }

  /** First offset of the first unit not processed; empty when none is buffered. */
  OptionalLong firstOffset() {
    DatumUnit head = units.peekFirst();
    return head == null ? OptionalLong.empty() : OptionalLong.of(head.firstOffset());
  }

  /** Units buffered: ready or waiting for parts. */
  int buffered() {
    return units.size();
  }

  /** Parts dropped as orphans so far. */
  long orphans() {
    return orphans;
  }

  /** Forgets every unit: the worker re-reads the partition from its committed offset. */
  void clear() {
    units.clear();
    incomplete.clear();
  }
}
