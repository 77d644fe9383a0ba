package io.tusk.common.member;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.registry.SchemaRegistryClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a record of a repo's source topic into a row of a member, or a rejection with a reason. The
 * format is the repo's, or the record's {@code tusk.format} header ({@code csv}, {@code json},
 * {@code avro}, {@code debezium}), so producers of different formats can share a repo:
 *
 * <ul>
 *   <li>CSV: a line in the table's column order; a header line equal to the column names is
 *       skipped. After a layout change added columns, a line of an earlier width is accepted and
 *       gets the added columns' defaults.
 *   <li>JSON: an object with the column names as fields; nested values become JSON text, a missing
 *       field its column's default (null without one).
 *   <li>Avro: the Confluent wire format with any writer schema in the registry; the columns are
 *       field names (a missing field is its column's default or null; nested values become JSON
 *       text).
 *   <li>DEBEZIUM: a Debezium change event in JSON (with or without schemas) or Avro ({@link
 *       DebeziumEvents}); the table is {@code source.table} (case-insensitive; the header does not
 *       apply). {@code c}, {@code r} and {@code u} are the row of {@code after}, which replaces the
 *       row with its row key (the table's primary key) wherever it was; {@code d} deletes the row
 *       with the row key of {@code before} from whichever member holds it (a delete by row key, so
 *       the member key need not be in {@code before}); a tombstone (null value, sent after a
 *       delete) carries nothing and is skipped.
 *   <li>OUTPUT (derived repos; the header does not apply): a pipeline's {@code Output}; column
 *       {@code member} is the record key (the upstream member), {@code data} the output's JSON
 *       text, and every other column (the member key among them) that field of the data.
 * </ul>
 *
 * <p>Values of typed columns ({@link ColumnType}) must parse as their type. Details of rejections
 * name columns and schema IDs, never values (rows may be health data).
 *
 * <p>Not thread-safe (it reuses decoders and caches schemas): use one per thread.
 */
public final class RowParser {
  /** Largest accepted record value, in bytes. */
  public static final int MAX_ROW_BYTES = 1 << 20;

  /** The column of a derived repo's rows that holds the output's data. */
  public static final String OUTPUT_DATA_COLUMN = "data";

  /** The column of a derived repo's rows that holds the upstream member (the record key). */
  public static final String OUTPUT_MEMBER_COLUMN = "member";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final RepoLayout layout;
  private final StrictUtf8 utf8 = new StrictUtf8();
  private final AvroRows avro;
  private final DebeziumEvents debezium;

  /** A parser without a schema registry: Avro records are rejected as unknown schemas. */
  public RowParser(RepoSpec spec) {
    this(spec, null);
  }

  /**
   * @param registry where the writer schemas of Avro records and outputs come from
   */
  public RowParser(RepoSpec spec, SchemaRegistryClient registry) {
    this.layout = new RepoLayout(spec);
    this.avro = new AvroRows(registry, utf8);
    this.debezium = new DebeziumEvents(avro);
  }

  /** The layout of the repo this parser reads. */
  public RepoLayout layout() {
    return layout;
  }

  /**
   * Parses a record without key or format header.
   *
   * @param value the record value
   * @param tableHeader the {@code tusk.table} header, or null for the repo's default table
   * @param partition the record's source partition (kept for provenance)
   * @param offset the record's source offset
   */
  public ParseResult parse(byte[] value, String tableHeader, int partition, long offset) {
    return parse(new SourceRecord(null, value, tableHeader, null, partition, offset));
  }

  /**
   * Parses one record.
   *
   * @throws SchemaUnavailableException if the registry cannot be reached (retry the record)
   */
  public ParseResult parse(SourceRecord record) {
    String table = record.table() == null ? layout.spec().getDefaultTable() : record.table();
    if (record.value() == null && layout.spec().getFormat() == RowFormat.OUTPUT) {
      return outputTombstone(record, table);
    }
    try {
      RowFormat format = format(record.format());
      if (format == RowFormat.DEBEZIUM) {
        return debezium(record);
      }
      List<String> values = values(record, table, format);
      return values == null
          ? new ParseResult.Skipped(table)
          : accept(values, layout.table(table), record.partition(), record.offset());
    } catch (RowRejection rejection) {
      return new ParseResult.Rejected(rejection.reason(), table, rejection.getMessage());
    }
  }

  /**
   * An output tombstone of the upstream pipeline: its member's output was removed, so the derived
   * repo's row keyed by that member goes, whatever member (group) holds it.
   */
  private ParseResult outputTombstone(SourceRecord record, String tableName) {
    TableLayout table = layout.table(tableName);
    if (table == null || !table.hasRowKey()) {
      return new ParseResult.Rejected(
          RejectReason.UNSUPPORTED_TOMBSTONE, tableName, "table has no row key to delete by");
    }
    if (record.key() == null) {
      return new ParseResult.Rejected(
          RejectReason.MISSING_MEMBER_KEY, tableName, "output tombstone has no key");
    }
    try {
      return new ParseResult.Deleted(
          tableName, List.of(utf8.decode(record.key(), "output record key")));
    } catch (RowRejection rejection) {
      return new ParseResult.Rejected(rejection.reason(), tableName, rejection.getMessage());
    }
  }

  /**
   * A Debezium change event: an upsert of the row in {@code after}, or a delete by the row key in
   * {@code before}.
   */
  private ParseResult debezium(SourceRecord record) {
    if (record.value() == null) {
      // The tombstone Debezium sends after a delete so compaction can drop the key: the delete
      // itself came just before it.
      return new ParseResult.Skipped(layout.spec().getDefaultTable());
    }
    String tableName = layout.spec().getDefaultTable();
    try {
      checkSize(record.value());
      DebeziumEvents.Change change = debezium.change(record.value(), utf8);
      tableName = change.table();
      TableLayout table = table(layout.tableIgnoringCase(change.table()), change.table());
      tableName = table.spec().getName();
      if (!table.hasRowKey()) {
        throw new RowRejection(
            RejectReason.UNSUPPORTED_CHANGE,
            "table " + tableName + " has no row key (its primary key) to apply changes by");
      }
      return switch (change.op()) {
        case "c", "r", "u" -> {
          if (change.after() == null) {
            throw DebeziumEvents.notAnEvent("op " + change.op() + " without after");
          }
          yield accept(
              DebeziumEvents.values(change.after(), table),
              table,
              record.partition(),
              record.offset());
        }
        case "d" -> {
          if (change.before() == null) {
            throw DebeziumEvents.notAnEvent("op d without before");
          }
          List<String> rowKey = table.rowKeyOf(DebeziumEvents.values(change.before(), table));
          if (rowKey.contains(null)) {
            throw new RowRejection(
                RejectReason.UNSUPPORTED_CHANGE,
                "delete whose before lacks row key columns " + table.spec().getRowKey());
          }
          yield new ParseResult.Deleted(tableName, rowKey);
        }
        default ->
            throw new RowRejection(
                RejectReason.UNSUPPORTED_CHANGE,
                "op " + change.op() + " is not applied (only c, r, u and d are)");
      };
    } catch (RowRejection rejection) {
      return new ParseResult.Rejected(rejection.reason(), tableName, rejection.getMessage());
    }
  }

  private static TableLayout table(TableLayout table, String name) throws RowRejection {
    if (table == null) {
      throw new RowRejection(RejectReason.UNKNOWN_TABLE, "repo has no table " + name);
    }
    if (!table.typeErrors().isEmpty()) {
      throw new RowRejection(
          RejectReason.UNPARSEABLE, "table spec is unusable: " + table.typeErrors().get(0));
    }
    return table;
  }

  private static void checkSize(byte[] value) throws RowRejection {
    if (value == null || value.length == 0) {
      throw new RowRejection(RejectReason.EMPTY_VALUE, "record has no value");
    }
    if (value.length > MAX_ROW_BYTES) {
      throw new RowRejection(
          RejectReason.ROW_TOO_LARGE, value.length + " bytes, limit " + MAX_ROW_BYTES);
    }
  }

  /** The column values of a record, or null for a CSV header line. */
  private List<String> values(SourceRecord record, String tableName, RowFormat format)
      throws RowRejection {
    TableLayout table = table(layout.table(tableName), tableName);
    byte[] value = record.value();
    checkSize(value);
    return switch (format) {
      case CSV -> csv(text(value), table);
      case JSON -> json(object(text(value)), table);
      case AVRO -> avro.values(value, table);
      case OUTPUT -> output(record.key(), avro.outputData(value), table);
      case DEBEZIUM -> throw new IllegalStateException("Debezium events are parsed above");
    };
  }

  /** The repo's format, or the one the record's header names (not for derived repos). */
  private RowFormat format(String header) throws RowRejection {
    RowFormat repoFormat = layout.spec().getFormat();
    if (header == null || repoFormat == RowFormat.OUTPUT) {
      return repoFormat;
    }
    return switch (header.trim().toLowerCase(Locale.ROOT)) {
      case "csv" -> RowFormat.CSV;
      case "json" -> RowFormat.JSON;
      case "avro" -> RowFormat.AVRO;
      case "debezium" -> RowFormat.DEBEZIUM;
      default ->
          throw new RowRejection(
              RejectReason.UNKNOWN_FORMAT,
              "tusk.format header must be csv, json, avro or debezium");
    };
  }

  private String text(byte[] value) throws RowRejection {
    String text = utf8.decode(value, "value");
    if (text.isBlank()) {
      throw new RowRejection(RejectReason.EMPTY_VALUE, "value is blank");
    }
    return text;
  }

  private static List<String> csv(String text, TableLayout table) throws RowRejection {
    List<String> values;
    try {
      values = CsvLine.parse(text);
    } catch (CsvLine.MalformedCsvException e) {
      throw new RowRejection(RejectReason.MALFORMED_CSV, e.getMessage());
    }
    if (!table.acceptsWidth(values.size())) {
      throw new RowRejection(
          RejectReason.WRONG_FIELD_COUNT,
          "expected " + table.width() + " fields, got " + values.size());
    }
    // A header line of the table's columns, as they are or were before columns were added.
    boolean header = values.equals(table.spec().getColumns().subList(0, values.size()));
    return header ? null : table.fit(values);
  }

  private static JsonNode object(String text) throws RowRejection {
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new RowRejection(
          RejectReason.MALFORMED_JSON, "not valid JSON at column " + e.getLocation().getColumnNr());
    }
    if (node == null || !node.isObject()) {
      throw new RowRejection(
          RejectReason.NOT_A_JSON_OBJECT,
          "JSON value is " + (node == null ? "empty" : node.getNodeType()));
    }
    return node;
  }

  private static List<String> json(JsonNode object, TableLayout table) throws RowRejection {
    requireMemberField(object, table);
    List<String> columns = table.spec().getColumns();
    List<String> values = new ArrayList<>(columns.size());
    for (int i = 0; i < columns.size(); i++) {
      JsonNode field = object.get(columns.get(i));
      // A missing field (a producer from before the column was added) reads as its default.
      values.add(field == null ? table.defaultValue(i) : text(field));
    }
    return values;
  }

  private List<String> output(byte[] key, byte[] data, TableLayout table) throws RowRejection {
    String dataText = utf8.decode(data, "output data");
    JsonNode object = object(dataText);
    requireMemberField(object, table);
    if (key == null) {
      throw new RowRejection(
          RejectReason.MISSING_MEMBER_KEY, "output record has no key (the upstream member)");
    }
    String member = utf8.decode(key, "output record key");
    String memberKey = table.spec().getMemberKey();
    List<String> values = new ArrayList<>(table.width());
    for (String column : table.spec().getColumns()) {
      // The member key always comes from the data, even if a pipeline calls it "member".
      if (!column.equals(memberKey) && column.equals(OUTPUT_MEMBER_COLUMN)) {
        values.add(member);
      } else if (!column.equals(memberKey) && column.equals(OUTPUT_DATA_COLUMN)) {
        values.add(dataText);
      } else {
        values.add(text(object.get(column)));
      }
    }
    return values;
  }

  private static void requireMemberField(JsonNode object, TableLayout table) throws RowRejection {
    if (!object.has(table.spec().getMemberKey())) {
      throw new RowRejection(
          RejectReason.MISSING_MEMBER_FIELD, "object has no field " + table.spec().getMemberKey());
    }
  }

  /** A JSON field as column text: null stays null, scalars their text, the rest JSON text. */
  private static String text(JsonNode field) {
    if (field == null || field.isNull()) {
      return null;
    }
    return field.isValueNode() ? field.asText() : field.toString();
  }

  private static ParseResult accept(
      List<String> values, TableLayout table, int partition, long offset) throws RowRejection {
    String member = values.get(table.memberKeyIndex());
    if (member == null || member.isBlank()) {
      throw new RowRejection(
          RejectReason.MISSING_MEMBER_KEY,
          "member key column " + table.spec().getMemberKey() + " is empty");
    }
    for (int i = 0; i < values.size(); i++) {
      String value = values.get(i);
      ColumnType type = table.columnType(i);
      if (value != null && !type.accepts(value)) {
        throw new RowRejection(
            RejectReason.WRONG_TYPE,
            "column " + table.spec().getColumns().get(i) + " is not a " + type.typeName());
      }
    }
    Row row =
        Row.newBuilder()
            .setTable(table.spec().getName())
            .setValues(values)
            .setSourcePartition(partition)
            .setSourceOffset(offset)
            .build();
    return new ParseResult.Accepted(member, row);
  }
}
