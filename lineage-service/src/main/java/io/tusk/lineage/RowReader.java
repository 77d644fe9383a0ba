package io.tusk.lineage;

/**
 * Reads one record by position from Kafka, for provenance answers that show input rows' content and
 * for the subvenance of a source row (whose member is in its content).
 */
public interface RowReader {
  /**
   * The record at {@code topic/partition/offset}, or null if there is none there (compacted away,
   * deleted by retention, a transaction marker, or beyond the end).
   *
   * @throws org.apache.kafka.common.KafkaException if Kafka cannot be read now
   */
  StoredRow read(String topic, int partition, long offset);

  /**
   * A record's value and its {@code tusk.table} header.
   *
   * @param table the table header, or null (the repo's default table)
   */
  record StoredRow(byte[] value, String table) {}
}
