package io.tusk.common.member;

import io.tusk.schemas.Row;
import java.util.List;

/**
 * The outcome of parsing one input record: a row of a member, a delete by row key, a rejection, or
 * a skipped header.
 */
public sealed interface ParseResult {

  /** A valid row of member {@code member}. */
  record Accepted(String member, Row row) implements ParseResult {}

  /** An invalid record; {@code detail} explains without quoting the row (it may be health data). */
  record Rejected(RejectReason reason, String table, String detail) implements ParseResult {}

  /**
   * A delete of the row with {@code rowKey} in {@code table}, whatever member holds it: an output
   * tombstone (the upstream member's output was removed) read by a repo derived from a pipeline.
   */
  record Deleted(String table, List<String> rowKey) implements ParseResult {}

  /** A CSV header line: not data, not an error. */
  record Skipped(String table) implements ParseResult {}
}
