package io.tusk.commit;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.member.ColumnType;
import io.tusk.common.pipeline.PipelineSpecException;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.Trigger;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Validation of the commit service's requests: pure functions from a request body or parameter to a
 * spec or value, or an {@link ApiException} (400) whose message starts with the offending field's
 * path (e.g. {@code tables[0].memberKey}). Unknown fields are refused too, so a typo such as {@code
 * "partition"} is not silently ignored.
 */
final class Requests {
  static final int MAX_PARTITIONS = 1000;
  static final int DEFAULT_PARTITIONS = 3;
  static final int DEFAULT_HISTORY_RETENTION = 52;
  static final int MAX_HISTORY_RETENTION = 100_000;
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 1000;

  private static final String NAME_RULE =
      "must be 1-63 characters of a-z, 0-9, '-' and '_', start with a letter or digit,"
          + " and not be 'tusk'";
  private static final int MAX_ECHO = 64;
  private static final Set<String> INPUT_FORMATS = Set.of("csv", "json");
  private static final Set<String> TRIGGER_FIELDS = Set.of("everyRows", "everySeconds", "cron");
  private static final long MAX_TRIGGER_SECONDS = 366L * 24 * 3600;
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private Requests() {}

  /**
   * The repo a {@code POST /repos} body describes.
   *
   * @param memberPartitions the deployment's member partition count, or 0 when each repo chooses
   */
  static RepoSpec repoSpec(JsonObject body, long createdAt, int memberPartitions) {
    Objects.requireNonNull(body, "body");
    Fields fields =
        new Fields(
            body,
            "",
            Set.of(
                "name",
                "format",
                "defaultTable",
                "tables",
                "partitions",
                "memberPartitions",
                "historyRetention",
                "trigger"));
    String name = fields.name("name");
    RowFormat format = format(fields);
    List<TableSpec> tables = tables(fields);
    Set<String> tableNames = new HashSet<>();
    for (TableSpec table : tables) {
      tableNames.add(table.getName());
    }
    String defaultTable = fields.optionalString("defaultTable");
    if (defaultTable == null) {
      defaultTable = tables.get(0).getName();
    } else if (!tableNames.contains(defaultTable)) {
      throw bad("defaultTable " + echo(defaultTable) + " is not the name of one of the tables");
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
      throw bad(
          "memberPartitions is "
              + memberPartitions
              + " for every repo of this deployment (TUSK_MEMBER_PARTITIONS), got "
              + requested);
    }
    int historyRetention =
        fields.integer("historyRetention", DEFAULT_HISTORY_RETENTION, 1, MAX_HISTORY_RETENTION);
    Trigger trigger =
        fields.has("trigger") ? trigger(fields.object("trigger", TRIGGER_FIELDS)) : null;
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
        .build();
  }

  /**
   * The trigger of a {@code PUT /repos/{repo}/trigger} body; null (no trigger) when it sets
   * nothing.
   */
  static Trigger trigger(JsonObject body) {
    Objects.requireNonNull(body, "body");
    return trigger(new Fields(body, "", TRIGGER_FIELDS));
  }

  private static Trigger trigger(Fields fields) {
    Long everyRows = fields.longValue("everyRows", 1, Long.MAX_VALUE);
    Long everySeconds = fields.longValue("everySeconds", 1, MAX_TRIGGER_SECONDS);
    String cron = fields.optionalString("cron");
    if (cron != null) {
      try {
        Cron.parse(cron);
      } catch (IllegalArgumentException e) {
        throw bad(fields.pathOf("cron") + " " + echo(cron) + " " + e.getMessage());
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

  /**
   * The pipeline a {@code POST /pipelines} spec document describes, parsed by the one parser of
   * spec documents ({@link PipelineSpecs}). Whether its input repo or pipeline exists is the
   * caller's check.
   */
  static PipelineSpec pipelineSpec(Map<String, Object> document, long now) {
    return pipelineSpec(document, now, null);
  }

  /**
   * The pipeline a spec document describes; for an update ({@code previous} not null) the name may
   * be left out and an absent parallelism keeps the previous one. Version and creation time are the
   * caller's (the spec returned is version 1, created and updated {@code now}).
   */
  static PipelineSpec pipelineSpec(Map<String, Object> document, long now, PipelineSpec previous) {
    Objects.requireNonNull(document, "document");
    Map<String, Object> fields = new java.util.LinkedHashMap<>(document);
    if (previous != null) {
      Object given = fields.putIfAbsent("name", previous.getName());
      if (given != null && !previous.getName().equals(given)) {
        throw bad(
            "name "
                + echo(String.valueOf(given))
                + " differs from the pipeline updated, "
                + echo(previous.getName()));
      }
      fields.putIfAbsent("parallelism", previous.getParallelism());
    }
    try {
      return PipelineSpec.newBuilder(PipelineSpecs.fromDocument(fields, now)).setVersion(1).build();
    } catch (PipelineSpecException e) {
      throw bad(e.getMessage());
    }
  }

  /** The document a request body holds: a JSON object or YAML mapping (told apart by content). */
  static Map<String, Object> specDocument(String body) {
    if (body == null || body.isBlank()) {
      throw bad("request body must be a pipeline spec (a JSON object, or YAML)");
    }
    try {
      return PipelineSpecs.readDocument(body);
    } catch (PipelineSpecException e) {
      throw bad("request body: " + e.getMessage());
    }
  }

  /** The {@code limit} query parameter of a commit list (null: the default). */
  static int limit(String value) {
    return limit(value, DEFAULT_LIMIT);
  }

  /** A {@code limit} query parameter from 1 to {@link #MAX_LIMIT} (null: {@code defaultValue}). */
  static int limit(String value, int defaultValue) {
    if (value == null) {
      return defaultValue;
    }
    try {
      int limit = Integer.parseInt(value.trim());
      if (limit >= 1 && limit <= MAX_LIMIT) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below with the rule
    }
    throw bad("limit must be a whole number from 1 to " + MAX_LIMIT + ", got " + echo(value));
  }

  /**
   * The {@code before} query parameter of a commit list: only commits with a lower sequence are
   * listed (null: no bound).
   */
  static long before(String value) {
    if (value == null) {
      return Long.MAX_VALUE;
    }
    try {
      long before = Long.parseLong(value.trim());
      if (before >= 1) {
        return before;
      }
    } catch (NumberFormatException e) {
      // answered below with the rule
    }
    throw bad("before must be a commit sequence (a whole number >= 1), got " + echo(value));
  }

  /** A commit ID in parameter or field {@code field}. */
  static String commitId(String field, String value) {
    if (!Ids.isValid(value)) {
      throw bad(
          field
              + " must be a commit ID (32 lower-case hex characters), got "
              + (value == null ? "nothing" : echo(value)));
    }
    return value;
  }

  /** A job ID in parameter {@code field}. */
  static String jobId(String field, String value) {
    if (!Ids.isValid(value)) {
      throw bad(
          field
              + " must be a job ID (32 lower-case hex characters), got "
              + (value == null ? "nothing" : echo(value)));
    }
    return value;
  }

  /** A {@code <partition>:<offset>} paging cursor (null when absent). */
  static RejectedRows.Cursor cursor(String field, String value) {
    if (value == null) {
      return null;
    }
    String[] parts = value.split(":", -1);
    try {
      if (parts.length == 2) {
        int partition = Integer.parseInt(parts[0]);
        long offset = Long.parseLong(parts[1]);
        if (partition >= 0 && offset >= 0) {
          return new RejectedRows.Cursor(partition, offset);
        }
      }
    } catch (NumberFormatException e) {
      // answered below with the rule
    }
    throw bad(
        field + " must be <partition>:<offset> as a page's \"next\" gives it, got " + echo(value));
  }

  /** A true/false query parameter (absent: false). */
  static boolean flag(String field, String value) {
    if (value == null) {
      return false;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw bad(field + " must be true or false, got " + echo(value));
    };
  }

  /** A repo or pipeline name in parameter {@code field}. */
  static String name(String field, String value) {
    if (!TopicNames.isValidName(value)) {
      throw bad(field + " " + echo(String.valueOf(value)) + " " + NAME_RULE);
    }
    return value;
  }

  /** A branch name in parameter or field {@code field}: the charset of repo names. */
  static String branchName(String field, String value) {
    if (value == null || !TopicNames.NAME_PATTERN.matcher(value).matches()) {
      throw bad(
          field
              + " "
              + echo(String.valueOf(value))
              + " must be 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or"
              + " digit");
    }
    return value;
  }

  /** A {@code POST /repos/{repo}/branches} body: the new branch's name and optional head. */
  record NewBranch(String name, String head) {}

  static NewBranch newBranch(JsonObject body) {
    Fields fields = new Fields(body, "", Set.of("name", "head"));
    String name = branchName("name", fields.string("name"));
    String head = fields.optionalString("head");
    return new NewBranch(name, head == null ? null : commitId("head", head));
  }

  /** A {@code PUT /repos/{repo}/branches/{branch}} body: the new head and optional expected one. */
  record BranchMove(String head, String expectedHead) {}

  static BranchMove branchMove(JsonObject body) {
    Fields fields = new Fields(body, "", Set.of("head", "expectedHead"));
    String head = commitId("head", fields.string("head"));
    String expected = fields.optionalString("expectedHead");
    return new BranchMove(head, expected == null ? null : commitId("expectedHead", expected));
  }

  private static RowFormat format(Fields fields) {
    String format = fields.optionalString("format");
    if (format == null) {
      return RowFormat.CSV;
    }
    return switch (format.toLowerCase(Locale.ROOT)) {
      case "csv" -> RowFormat.CSV;
      case "json" -> RowFormat.JSON;
      case "avro" -> RowFormat.AVRO;
      default -> throw bad("format must be \"csv\", \"json\" or \"avro\", got " + echo(format));
    };
  }

  /** A table's {@code columnTypes}: column name to a type {@link ColumnType} knows. */
  private static Map<String, String> columnTypes(Fields table, String path, List<String> columns) {
    if (!table.has("columnTypes")) {
      return Map.of();
    }
    Object value = table.json.getValue("columnTypes");
    if (!(value instanceof JsonObject types)) {
      throw bad(path + ".columnTypes must be an object of column name to type");
    }
    Map<String, String> result = new java.util.TreeMap<>();
    for (String column : types.fieldNames()) {
      String where = path + ".columnTypes." + column;
      if (!columns.contains(column)) {
        throw bad(where + " is not one of " + path + ".columns");
      }
      if (!(types.getValue(column) instanceof String type) || ColumnType.named(type).isEmpty()) {
        throw bad(
            where
                + " must be one of string, int, long, double, boolean, date, timestamp, got "
                + echo(String.valueOf(types.getValue(column))));
      }
      result.put(column, type.toLowerCase(Locale.ROOT));
    }
    return result;
  }

  private static List<TableSpec> tables(Fields fields) {
    JsonArray array = fields.array("tables");
    if (array.isEmpty()) {
      throw bad("tables must hold at least one table");
    }
    List<TableSpec> tables = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      String path = "tables[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject json)) {
        throw bad(path + " must be an object");
      }
      Fields table =
          new Fields(
              json,
              path,
              Set.of("name", "columns", "memberKey", "rowKey", "opColumn", "columnTypes"));
      String name = table.string("name");
      if (!names.add(name)) {
        throw bad(path + ".name " + echo(name) + " is used by another table");
      }
      List<String> columns = table.uniqueStrings("columns", true);
      String memberKey = table.string("memberKey");
      if (!columns.contains(memberKey)) {
        throw bad(path + ".memberKey " + echo(memberKey) + " is not one of " + path + ".columns");
      }
      List<String> rowKey = table.has("rowKey") ? table.uniqueStrings("rowKey", false) : List.of();
      for (int k = 0; k < rowKey.size(); k++) {
        if (!columns.contains(rowKey.get(k))) {
          throw bad(
              path
                  + ".rowKey["
                  + k
                  + "] "
                  + echo(rowKey.get(k))
                  + " is not one of "
                  + path
                  + ".columns");
        }
      }
      String opColumn = table.optionalString("opColumn");
      if (opColumn != null && !columns.contains(opColumn)) {
        throw bad(path + ".opColumn " + echo(opColumn) + " is not one of " + path + ".columns");
      }
      if (opColumn != null && rowKey.isEmpty()) {
        throw bad(path + ".opColumn needs " + path + ".rowKey: a delete names the row it removes");
      }
      Map<String, String> columnTypes = columnTypes(table, path, columns);
      tables.add(
          TableSpec.newBuilder()
              .setName(name)
              .setColumns(columns)
              .setMemberKey(memberKey)
              .setRowKey(rowKey)
              .setOpColumn(opColumn)
              .setColumnTypes(columnTypes)
              .build());
    }
    return tables;
  }

  private static ApiException bad(String message) {
    return ApiException.badRequest(message);
  }

  /** A value quoted for an error message, cut short so a huge value does not flood it. */
  private static String echo(String value) {
    String shown = value.length() > MAX_ECHO ? value.substring(0, MAX_ECHO) + "..." : value;
    return "'" + shown + "'";
  }

  /** Typed access to the fields of one JSON object; errors name the field's full path. */
  private static final class Fields {
    private final JsonObject json;
    private final String path;

    Fields(JsonObject json, String path, Set<String> known) {
      this.json = json;
      this.path = path;
      for (String field : json.fieldNames()) {
        if (!known.contains(field)) {
          throw bad(pathOf(field) + " is not a known field (known: " + new TreeSet<>(known) + ")");
        }
      }
    }

    String pathOf(String field) {
      return path.isEmpty() ? field : path + "." + field;
    }

    boolean has(String field) {
      return json.getValue(field) != null;
    }

    String string(String field) {
      String value = optionalString(field);
      if (value == null) {
        throw bad(pathOf(field) + " is required");
      }
      return value;
    }

    String optionalString(String field) {
      Object value = json.getValue(field);
      if (value == null) {
        return null;
      }
      if (!(value instanceof String text) || text.isBlank()) {
        throw bad(pathOf(field) + " must be a non-blank string");
      }
      return text.trim();
    }

    String name(String field) {
      String name = string(field);
      if (!TopicNames.isValidName(name)) {
        throw bad(pathOf(field) + " " + echo(name) + " " + NAME_RULE);
      }
      return name;
    }

    int integer(String field, int defaultValue, int min, int max) {
      Long value = longValue(field, min, max);
      return value == null ? defaultValue : value.intValue(); // in [min, max]: exact
    }

    JsonArray array(String field) {
      Object value = json.getValue(field);
      if (value == null) {
        throw bad(pathOf(field) + " is required");
      }
      if (!(value instanceof JsonArray array)) {
        throw bad(pathOf(field) + " must be an array");
      }
      return array;
    }

    Fields object(String field, Set<String> known) {
      Object value = json.getValue(field);
      if (value == null) {
        throw bad(pathOf(field) + " is required");
      }
      if (!(value instanceof JsonObject object)) {
        throw bad(pathOf(field) + " must be an object");
      }
      return new Fields(object, pathOf(field), known);
    }

    /** An optional whole number from {@code min} to {@code max} (null when absent). */
    Long longValue(String field, long min, long max) {
      Object value = json.getValue(field);
      if (value == null) {
        return null;
      }
      String rule = pathOf(field) + " must be a whole number from " + min + " to " + max;
      if (!(value instanceof Integer
          || value instanceof Long
          || value instanceof Short
          || value instanceof BigInteger)) {
        throw bad(rule + ", got " + echo(String.valueOf(value)));
      }
      BigInteger number = new BigInteger(value.toString());
      if (number.compareTo(BigInteger.valueOf(min)) < 0
          || number.compareTo(BigInteger.valueOf(max)) > 0) {
        throw bad(rule + ", got " + number);
      }
      return number.longValueExact();
    }

    /** An array of distinct non-blank strings; {@code nonEmpty} refuses an empty array. */
    List<String> uniqueStrings(String field, boolean nonEmpty) {
      JsonArray array = array(field);
      if (nonEmpty && array.isEmpty()) {
        throw bad(pathOf(field) + " must not be empty");
      }
      List<String> values = new ArrayList<>();
      for (int i = 0; i < array.size(); i++) {
        String item = pathOf(field) + "[" + i + "]";
        if (!(array.getValue(i) instanceof String text) || text.isBlank()) {
          throw bad(item + " must be a non-blank string");
        }
        if (values.contains(text.trim())) {
          throw bad(item + " " + echo(text.trim()) + " is listed twice");
        }
        values.add(text.trim());
      }
      return values;
    }
  }
}
