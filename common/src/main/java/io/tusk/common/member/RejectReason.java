package io.tusk.common.member;

/**
 * Why an input record was sent to {@code <repo>.rejected} instead of into its member. The name is
 * the {@code tusk.reject.reason} header and the reason of the commit's reject notice.
 */
public enum RejectReason {
  /** A CSV line that does not parse (e.g. unbalanced quotes). */
  MALFORMED_CSV,
  /** A CSV line whose field count differs from the table's column count. */
  WRONG_FIELD_COUNT,
  /** Text that is not valid JSON. */
  MALFORMED_JSON,
  /** JSON that is not an object. */
  NOT_A_JSON_OBJECT,
  /** The member key value is null or empty (the field itself is there). */
  MISSING_MEMBER_KEY,
  /**
   * A JSON object, an Avro writer schema or a pipeline output's data lacks the member key field.
   */
  MISSING_MEMBER_FIELD,
  /** A value of a typed column does not parse as its type (the detail names the column). */
  WRONG_TYPE,
  /** An Avro record whose schema ID the schema registry does not know. */
  UNKNOWN_SCHEMA,
  /** Bytes that are not an Avro record in the Confluent wire format of their writer schema. */
  MALFORMED_AVRO,
  /** A {@code tusk.format} header other than csv, json or avro. */
  UNKNOWN_FORMAT,
  /** A tombstone (null value) on the pipeline output a derived repo reads: not supported yet. */
  UNSUPPORTED_TOMBSTONE,
  /**
   * A Debezium record Tusk cannot apply: not a change event, an op other than {@code c}, {@code r},
   * {@code u} or {@code d} (e.g. {@code t}, truncate), a change without the row image it needs, or
   * a change of a table without row key.
   */
  UNSUPPORTED_CHANGE,
  /** The row names a table the repo does not have. */
  UNKNOWN_TABLE,
  /** The bytes are not valid UTF-8. */
  INVALID_UTF8,
  /** The record has no value, or an empty one. */
  EMPTY_VALUE,
  /** The row is larger than the size limit. */
  ROW_TOO_LARGE,
  /**
   * The parser itself failed on the record, or the table's spec is unusable (e.g. an unknown column
   * type); the record is kept in the rejected topic.
   */
  UNPARSEABLE,
  /** The record's repo has no spec (e.g. deleted while its topic was being read). */
  UNKNOWN_REPO
}
