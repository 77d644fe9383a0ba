package io.tusk.lineage;

/**
 * Reads one record by position from Kafka, for provenance answers that show input rows' content and
 * for the subvenance of a source row (whose member is in its content).
 */
public interface RowReader {
  /**
   * The record at {@code topic/partition/offset}; {@link StoredRow#expired()} if the offset is
   * below the partition's log start (deleted by retention); null if there is none there for another
   * reason (compacted away, a transaction marker, or beyond the end).
   *
   * @throws org.apache.kafka.common.KafkaException if Kafka cannot be read now
   */
  StoredRow read(String topic, int partition, long offset);

  /**
   * A record's value and its {@code tusk.table} header, or the mark of a record that retention
   * deleted.
   *
   * @param table the table header, or null (the repo's default table)
   * @param expired true if the offset is below the partition's log start: no value, no table
   */
  record StoredRow(byte[] value, String table, boolean expired) {
    /** A record that is there. */
    public StoredRow(byte[] value, String table) {
      this(value, table, false);
    }

    /** The mark of a record below the partition's log start. */
    public static StoredRow expiredRow() {
      return new StoredRow(null, null, true);
    }
  }
}
