package io.tusk.common.member;

/**
 * One record of a repo's source topic as {@link RowParser} sees it.
 *
 * @param key the record key (a derived repo's rows take the upstream member from it), or null
 * @param value the record value, or null for a tombstone
 * @param table the {@code tusk.table} header, or null for the repo's default table
 * @param format the {@code tusk.format} header, or null for the repo's format
 * @param partition the source partition (kept in the row for provenance)
 * @param offset the source offset
 */
public record SourceRecord(
    byte[] key, byte[] value, String table, String format, int partition, long offset) {}
