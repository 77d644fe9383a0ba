package io.tusk.common.member;

/** Why an input row was sent to {@code <repo>.rejected} instead of into its member. */
public enum RejectReason {
  /** A CSV line that does not parse (e.g. unbalanced quotes). */
  MALFORMED_CSV,
  /** A CSV line whose field count differs from the table's column count. */
  WRONG_FIELD_COUNT,
  /** Text that is not valid JSON. */
  MALFORMED_JSON,
  /** JSON that is not an object. */
  NOT_A_JSON_OBJECT,
  /** The member key column is absent or empty. */
  MISSING_MEMBER_KEY,
  /** The row names a table the repo does not have. */
  UNKNOWN_TABLE,
  /** The bytes are not valid UTF-8. */
  INVALID_UTF8,
  /** The record has no value, or an empty one. */
  EMPTY_VALUE,
  /** The row is larger than the size limit. */
  ROW_TOO_LARGE,
  /** The parser itself failed on the record (the record is kept in the rejected topic). */
  UNPARSEABLE,
  /** The record's repo has no spec (e.g. deleted while its topic was being read). */
  UNKNOWN_REPO
}
