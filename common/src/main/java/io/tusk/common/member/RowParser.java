package io.tusk.common.member;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a record of {@code <repo>.updates} into a row of a member, or a rejection with a reason.
 * Rows are CSV lines in the table's column order (a header line equal to the column names is
 * skipped) or JSON objects with the column names as fields, per the repo's format.
 *
 * <p>Not thread-safe (it reuses a UTF-8 decoder); use one per thread.
 */
public final class RowParser {
  /** Largest accepted row, in bytes. */
  public static final int MAX_ROW_BYTES = 1 << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final RepoLayout layout;
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);

  public RowParser(RepoSpec spec) {
    this.layout = new RepoLayout(spec);
  }

  /** The layout of the repo this parser reads. */
  public RepoLayout layout() {
    return layout;
  }

  /**
   * Parses one record.
   *
   * @param value the record value
   * @param tableHeader the {@code tusk.table} header, or null for the repo's default table
   * @param partition the record's source partition (kept for provenance)
   * @param offset the record's source offset
   */
  public ParseResult parse(byte[] value, String tableHeader, int partition, long offset) {
    String table = tableHeader == null ? layout.spec().getDefaultTable() : tableHeader;
    TableLayout tableLayout = layout.table(table);
    if (tableLayout == null) {
      return new ParseResult.Rejected(
          RejectReason.UNKNOWN_TABLE, table, "repo has no table " + table);
    }
    if (value == null || value.length == 0) {
      return new ParseResult.Rejected(RejectReason.EMPTY_VALUE, table, "record has no value");
    }
    if (value.length > MAX_ROW_BYTES) {
      return new ParseResult.Rejected(
          RejectReason.ROW_TOO_LARGE, table, value.length + " bytes, limit " + MAX_ROW_BYTES);
    }
    String text;
    try {
      text = utf8.decode(ByteBuffer.wrap(value)).toString();
    } catch (CharacterCodingException e) {
      return new ParseResult.Rejected(RejectReason.INVALID_UTF8, table, "value is not valid UTF-8");
    }
    if (text.isBlank()) {
      return new ParseResult.Rejected(RejectReason.EMPTY_VALUE, table, "value is blank");
    }
    return layout.spec().getFormat() == RowFormat.JSON
        ? parseJson(text, tableLayout, partition, offset)
        : parseCsv(text, tableLayout, partition, offset);
  }

  private ParseResult parseCsv(String text, TableLayout table, int partition, long offset) {
    String name = table.spec().getName();
    List<String> values;
    try {
      values = CsvLine.parse(text);
    } catch (CsvLine.MalformedCsvException e) {
      return new ParseResult.Rejected(RejectReason.MALFORMED_CSV, name, e.getMessage());
    }
    if (values.size() != table.width()) {
      return new ParseResult.Rejected(
          RejectReason.WRONG_FIELD_COUNT,
          name,
          "expected " + table.width() + " fields, got " + values.size());
    }
    if (values.equals(table.spec().getColumns())) {
      return new ParseResult.Skipped(name);
    }
    return accept(values, table, partition, offset);
  }

  private ParseResult parseJson(String text, TableLayout table, int partition, long offset) {
    String name = table.spec().getName();
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return new ParseResult.Rejected(
          RejectReason.MALFORMED_JSON,
          name,
          "not valid JSON at column " + e.getLocation().getColumnNr());
    }
    if (node == null || !node.isObject()) {
      return new ParseResult.Rejected(
          RejectReason.NOT_A_JSON_OBJECT,
          name,
          "JSON value is " + (node == null ? "empty" : node.getNodeType()));
    }
    List<String> values = new ArrayList<>(table.width());
    for (String column : table.spec().getColumns()) {
      JsonNode field = node.get(column);
      values.add(
          field == null || field.isNull()
              ? null
              : field.isValueNode() ? field.asText() : field.toString());
    }
    return accept(values, table, partition, offset);
  }

  private static ParseResult accept(
      List<String> values, TableLayout table, int partition, long offset) {
    String member = values.get(table.memberKeyIndex());
    if (member == null || member.isBlank()) {
      return new ParseResult.Rejected(
          RejectReason.MISSING_MEMBER_KEY,
          table.spec().getName(),
          "member key column " + table.spec().getMemberKey() + " is empty");
    }
    Row row = new Row(table.spec().getName(), values, partition, offset);
    return new ParseResult.Accepted(member, row);
  }
}
