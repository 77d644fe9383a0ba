package io.tusk.cli.soak;

import java.util.List;

/**
 * A record the soak sent to the repo's updates topic and where Kafka put it.
 *
 * @param values the row's column values; null for a malformed record (it must be rejected)
 * @param format {@code csv} or {@code json}, the record's {@code tusk.format} header
 */
record SentRow(int partition, long offset, String table, List<String> values, String format) {

  boolean valid() {
    return values != null;
  }

  /** The member the row names (null for a malformed record). */
  String member() {
    return valid() ? values.get(SoakTables.memberIndex(table)) : null;
  }

  String text() {
    return SoakTables.rowText(table, values);
  }
}
