package io.tusk.common.pipeline;

import static io.tusk.common.pipeline.SpecFields.echo;

import io.tusk.common.config.Durations;
import io.tusk.common.member.ColumnType;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.Trigger;
import io.tusk.schemas.serde.TrustedClasses;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The one place a repo spec document (the body of {@code POST /repos}, fields as in the README)
 * becomes a validated {@link RepoSpec}, next to {@link PipelineSpecs} and read through the same
 * {@link SpecFields}. The document is plain maps, lists and scalars (JSON read into them).
 *
 * <pre>{@code
 * {"name": "claims", "format": "csv", "partitions": 6, "historyRetention": 52,
 *  "tables": [{"name": "CLAIM", "columns": ["CLAIM_ID", "MEMBER_ID", "DATE", "OP"],
 *              "memberKey": "MEMBER_ID", "rowKey": ["CLAIM_ID"], "opColumn": "OP",
 *              "columnTypes": {"DATE": "date"}}],
 *  "trigger": {"everyRows": 1000, "everySeconds": 60, "cron": "0 * * * *"}}
 * }</pre>
 *
 * Every error is a {@link SpecException} naming the field's path (e.g. {@code
 * tables[0].memberKey}).
 */
public final class RepoSpecs {
  public static final int DEFAULT_PARTITIONS = 3;
  public static final int MAX_PARTITIONS = 1000;
  public static final int DEFAULT_HISTORY_RETENTION = 52;
  public static final int MAX_HISTORY_RETENTION = 100_000;

  private static final Set<String> TOP_FIELDS =
      Set.of(
          "name",
          "format",
          "defaultTable",
          "tables",
          "partitions",
          "memberPartitions",
          "historyRetention",
          "rawRetention",
          "trigger");
  private static final Set<String> TABLE_FIELDS =
      Set.of("name", "columns", "memberKey", "rowKey", "opColumn", "columnTypes", "defaults");
  private static final Set<String> TRIGGER_FIELDS = Set.of("everyRows", "everySeconds", "cron");

  /** Longest interval trigger: a year, so a typo in seconds does not schedule a century. */
  private static final long MAX_TRIGGER_SECONDS = 366L * 24 * 3600;

  static {
    // Specs are built here without a serde, which would otherwise trust Tusk's classes.
    TrustedClasses.install();
  }

  private RepoSpecs() {}

  /**
   * Validates a repo document and builds the spec.
   *
   * @param createdAt epoch milliseconds stamped on the spec
   * @param memberPartitions the deployment's member partition count, or 0 when each repo chooses
   * @throws SpecException naming the offending field
   */
  public static RepoSpec fromDocument(
      Map<String, ?> document, long createdAt, int memberPartitions) {
    Objects.requireNonNull(document, "document");
    SpecFields fields = SpecFields.of(document, TOP_FIELDS);
    String name = fields.name("name");
    RowFormat format = format(fields);
    List<TableSpec> tables = tables(fields);
    if (format == RowFormat.DEBEZIUM) {
      requireRowKeys(tables);
    }
    Set<String> tableNames = new HashSet<>();
    for (TableSpec table : tables) {
      tableNames.add(table.getName());
    }
    String defaultTable = fields.optionalString("defaultTable");
    if (defaultTable == null) {
      defaultTable = tables.get(0).getName();
    } else if (!tableNames.contains(defaultTable)) {
      throw new SpecException(
          "defaultTable", echo(defaultTable) + " is not the name of one of the tables");
    }
    int partitions = fields.integer("partitions", DEFAULT_PARTITIONS, 1, MAX_PARTITIONS);
    // With a deployment-wide member partition count (the member topology's state is sized by it),
    // a repo may state it, not choose another; without one, a repo chooses.
    int requested =
        fields.integer(
            "memberPartitions",
            memberPartitions > 0 ? memberPartitions : partitions,
            1,
            MAX_PARTITIONS);
    if (memberPartitions > 0 && requested != memberPartitions) {
      throw new SpecException(
          "memberPartitions",
          "is "
              + memberPartitions
              + " for every repo of this deployment (TUSK_MEMBER_PARTITIONS), got "
              + requested);
    }
    int historyRetention =
        fields.integer("historyRetention", DEFAULT_HISTORY_RETENTION, 1, MAX_HISTORY_RETENTION);
    Trigger trigger =
        fields.has("trigger") ? trigger(fields.object("trigger", TRIGGER_FIELDS)) : null;
    Long rawRetention = rawRetentionMs(fields.value("rawRetention"), "rawRetention");
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(format)
        .setDefaultTable(defaultTable)
        .setTables(tables)
        .setUpdatePartitions(partitions)
        .setMemberPartitions(requested)
        .setHistoryRetention(historyRetention)
        .setCreatedAt(createdAt)
        .setTrigger(trigger)
        .setRawRetentionMs(rawRetention)
        .build();
  }

  /**
   * A {@code rawRetention} value: a duration text ({@code 30d}, {@code 12h}, {@code 90m}, {@code
   * 45s}) or milliseconds; null (absent) keeps raw copies forever.
   *
   * @throws SpecException naming {@code field}
   */
  public static Long rawRetentionMs(Object value, String field) {
    if (value == null) {
      return null;
    }
    if (value instanceof Number number) {
      if (number.longValue() <= 0 || number.doubleValue() != number.longValue()) {
        throw new SpecException(field, "must be a whole number of milliseconds over 0");
      }
      return number.longValue();
    }
    if (value instanceof String text) {
      try {
        return Durations.parseMillis(text);
      } catch (IllegalArgumentException e) {
        throw new SpecException(field, e.getMessage());
      }
    }
    throw new SpecException(field, "must be a duration like 30d, or milliseconds");
  }

  /**
   * The trigger a document of its own describes ({@code everyRows}, {@code everySeconds}, {@code
   * cron}); null (no trigger) when it sets nothing.
   *
   * @throws SpecException naming the offending field
   */
  public static Trigger trigger(Map<String, ?> document) {
    Objects.requireNonNull(document, "document");
    return trigger(SpecFields.of(document, TRIGGER_FIELDS));
  }

  private static Trigger trigger(SpecFields fields) {
    Long everyRows = fields.longValue("everyRows", 1, Long.MAX_VALUE);
    Long everySeconds = fields.longValue("everySeconds", 1, MAX_TRIGGER_SECONDS);
    String cron = fields.optionalString("cron");
    if (cron != null) {
      try {
        Cron.parse(cron);
      } catch (IllegalArgumentException e) {
        throw new SpecException(fields.pathOf("cron"), echo(cron) + " " + e.getMessage());
      }
    }
    if (everyRows == null && everySeconds == null && cron == null) {
      return null;
    }
    return Trigger.newBuilder()
        .setEveryRows(everyRows)
        .setEverySeconds(everySeconds)
        .setCron(cron)
        .build();
  }

  private static RowFormat format(SpecFields fields) {
    String format = fields.optionalString("format");
    if (format == null) {
      return RowFormat.CSV;
    }
    return switch (format.toLowerCase(Locale.ROOT)) {
      case "csv" -> RowFormat.CSV;
      case "json" -> RowFormat.JSON;
      case "avro" -> RowFormat.AVRO;
      case "debezium" -> RowFormat.DEBEZIUM;
      default ->
          throw new SpecException(
              "format", "must be \"csv\", \"json\", \"avro\" or \"debezium\", got " + echo(format));
    };
  }

  /**
   * A Debezium change upserts or deletes a row by its primary key: every table of a debezium repo
   * names it as row key, or updates would append rows instead of replacing them.
   */
  private static void requireRowKeys(List<TableSpec> tables) {
    for (int i = 0; i < tables.size(); i++) {
      if (tables.get(i).getRowKey().isEmpty()) {
        throw new SpecException(
            "tables[" + i + "].rowKey",
            "is required for format debezium: the table's primary key columns");
      }
    }
  }

  private static List<TableSpec> tables(SpecFields fields) {
    List<?> array = fields.list("tables");
    if (array.isEmpty()) {
      throw new SpecException("tables", "must hold at least one table");
    }
    List<TableSpec> tables = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      String path = "tables[" + i + "]";
      if (!(array.get(i) instanceof Map<?, ?> json)) {
        throw new SpecException(path, "must be an object");
      }
      SpecFields table = new SpecFields(stringKeys(json), path, TABLE_FIELDS);
      String name = table.string("name");
      if (!names.add(name)) {
        throw new SpecException(table.pathOf("name"), echo(name) + " is used by another table");
      }
      List<String> columns = table.uniqueStrings("columns", true);
      String memberKey = table.string("memberKey");
      if (!columns.contains(memberKey)) {
        throw new SpecException(
            table.pathOf("memberKey"), echo(memberKey) + " is not one of " + path + ".columns");
      }
      List<String> rowKey = table.has("rowKey") ? table.uniqueStrings("rowKey", false) : List.of();
      for (int k = 0; k < rowKey.size(); k++) {
        if (!columns.contains(rowKey.get(k))) {
          throw new SpecException(
              table.pathOf("rowKey") + "[" + k + "]",
              echo(rowKey.get(k)) + " is not one of " + path + ".columns");
        }
      }
      String opColumn = table.optionalString("opColumn");
      if (opColumn != null && !columns.contains(opColumn)) {
        throw new SpecException(
            table.pathOf("opColumn"), echo(opColumn) + " is not one of " + path + ".columns");
      }
      if (opColumn != null && rowKey.isEmpty()) {
        throw new SpecException(
            table.pathOf("opColumn"),
            "needs " + path + ".rowKey: a delete names the row it removes");
      }
      Map<String, String> types = columnTypes(table, columns);
      tables.add(
          TableSpec.newBuilder()
              .setName(name)
              .setColumns(columns)
              .setMemberKey(memberKey)
              .setRowKey(rowKey)
              .setOpColumn(opColumn)
              .setColumnTypes(types)
              .setDefaults(defaults(table, columns, types))
              .build());
    }
    return tables;
  }

  /** A table's {@code columnTypes}: column name to a type {@link ColumnType} knows. */
  private static Map<String, String> columnTypes(SpecFields table, List<String> columns) {
    if (!table.has("columnTypes")) {
      return Map.of();
    }
    String path = table.pathOf("columnTypes");
    if (!(table.value("columnTypes") instanceof Map<?, ?> types)) {
      throw new SpecException(path, "must be an object of column name to type");
    }
    Map<String, String> result = new TreeMap<>();
    for (Map.Entry<?, ?> entry : types.entrySet()) {
      String column = String.valueOf(entry.getKey());
      String where = path + "." + column;
      if (!columns.contains(column)) {
        throw new SpecException(where, "is not one of " + table.path() + ".columns");
      }
      if (!(entry.getValue() instanceof String type) || ColumnType.named(type).isEmpty()) {
        throw new SpecException(
            where,
            "must be one of string, int, long, double, boolean, date, timestamp, got "
                + echo(entry.getValue()));
      }
      result.put(column, type.toLowerCase(Locale.ROOT));
    }
    return result;
  }

  /**
   * A table's {@code defaults}: column name to the value rows that lack the column read (rows from
   * before a layout change added it); each must be a value of the column's type.
   */
  private static Map<String, String> defaults(
      SpecFields table, List<String> columns, Map<String, String> types) {
    if (!table.has("defaults")) {
      return Map.of();
    }
    String path = table.pathOf("defaults");
    if (!(table.value("defaults") instanceof Map<?, ?> defaults)) {
      throw new SpecException(path, "must be an object of column name to value");
    }
    Map<String, String> result = new TreeMap<>();
    for (Map.Entry<?, ?> entry : defaults.entrySet()) {
      String column = String.valueOf(entry.getKey());
      String where = path + "." + column;
      if (!columns.contains(column)) {
        throw new SpecException(where, "is not one of " + table.path() + ".columns");
      }
      Object value = entry.getValue();
      if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
        throw new SpecException(where, "must be a string, number or boolean");
      }
      String text = String.valueOf(value);
      ColumnType type = ColumnType.named(types.getOrDefault(column, "string")).orElseThrow();
      if (!type.accepts(text)) {
        throw new SpecException(where, echo(text) + " is not a " + type.typeName());
      }
      result.put(column, text);
    }
    return result;
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> fields = new java.util.LinkedHashMap<>();
    map.forEach((key, value) -> fields.put(String.valueOf(key), value));
    return fields;
  }
}
