package io.tusk.common.member;

import io.tusk.schemas.Row;

/** The outcome of parsing one input record: a row of a member, a rejection, or a skipped header. */
public sealed interface ParseResult {

  /** A valid row of member {@code member}. */
  record Accepted(String member, Row row) implements ParseResult {}

  /** An invalid record; {@code detail} explains without quoting the row (it may be health data). */
  record Rejected(RejectReason reason, String table, String detail) implements ParseResult {}

  /** A CSV header line: not data, not an error. */
  record Skipped(String table) implements ParseResult {}
}
