package io.tusk.lineage;

/**
 * Reads one record's value from Kafka by position, for provenance queries that ask for the content
 * of input rows.
 */
public interface RowReader {
  /**
   * The value of the record at {@code topic/partition/offset}, or null if there is none there
   * (compacted away, deleted by retention, a transaction marker, or beyond the end).
   *
   * @throws org.apache.kafka.common.KafkaException if Kafka cannot be read now
   */
  byte[] read(String topic, int partition, long offset);
}
