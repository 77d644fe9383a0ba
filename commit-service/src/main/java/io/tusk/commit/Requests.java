package io.tusk.commit;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.member.Hashing;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Validation of the commit service's requests: pure functions from a request body or parameter to a
 * spec or value, or an {@link ApiException} (400) whose message starts with the offending field's
 * path (e.g. {@code tables[0].memberKey}). Unknown fields are refused too, so a typo such as {@code
 * "partition"} is not silently ignored.
 */
final class Requests {
  static final int MAX_PARTITIONS = 1000;
  static final int DEFAULT_PARTITIONS = 3;
  static final int DEFAULT_PARALLELISM = 4;
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 1000;

  private static final String NAME_RULE =
      "must be 1-63 characters of a-z, 0-9, '-' and '_', start with a letter or digit,"
          + " and not be 'tusk'";
  private static final int MAX_ECHO = 64;

  private Requests() {}

  /** The repo a {@code POST /repos} body describes. */
  static RepoSpec repoSpec(JsonObject body, long createdAt) {
    Objects.requireNonNull(body, "body");
    Fields fields =
        new Fields(
            body,
            "",
            Set.of("name", "format", "defaultTable", "tables", "partitions", "memberPartitions"));
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
    int memberPartitions = fields.integer("memberPartitions", partitions, 1, MAX_PARTITIONS);
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(format)
        .setDefaultTable(defaultTable)
        .setTables(tables)
        .setUpdatePartitions(partitions)
        .setMemberPartitions(memberPartitions)
        .setCreatedAt(createdAt)
        .build();
  }

  /**
   * The pipeline a {@code POST /pipelines} body describes. Whether its input repo exists is the
   * caller's check (it needs the repo list).
   */
  static PipelineSpec pipelineSpec(JsonObject body, long createdAt) {
    Objects.requireNonNull(body, "body");
    Fields fields = new Fields(body, "", Set.of("name", "input", "transform", "parallelism"));
    String name = fields.name("name");
    String inputRepo = fields.object("input", Set.of("repo")).name("repo");
    Fields transform = fields.object("transform", Set.of("java"));
    String className = transform.string("java");
    int parallelism = fields.integer("parallelism", DEFAULT_PARALLELISM, 1, MAX_PARTITIONS);
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo(inputRepo)
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName(className).build())
        .setParallelism(parallelism)
        .setSpecHash(Hashing.specHash(inputRepo, TransformKind.JAVA.name(), className))
        .setCreatedAt(createdAt)
        .build();
  }

  /** The {@code limit} query parameter of a commit list (null: the default). */
  static int limit(String value) {
    if (value == null) {
      return DEFAULT_LIMIT;
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
      default -> throw bad("format must be \"csv\" or \"json\", got " + echo(format));
    };
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
      Fields table = new Fields(json, path, Set.of("name", "columns", "memberKey", "rowKey"));
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
      tables.add(
          TableSpec.newBuilder()
              .setName(name)
              .setColumns(columns)
              .setMemberKey(memberKey)
              .setRowKey(rowKey)
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
      Object value = json.getValue(field);
      if (value == null) {
        return defaultValue;
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
      return number.intValueExact();
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
