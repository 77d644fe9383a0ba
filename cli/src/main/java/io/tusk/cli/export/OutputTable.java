package io.tusk.cli.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.transform.OutputContent;
import io.tusk.schemas.Output;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The table a set of outputs becomes: the lineage columns ({@code member, job_id, commit_id,
 * global_id, output_hash}) and the content. When every output is a JSON object (by its content
 * type, {@link OutputContent#isJson}), each top-level field becomes a nullable column whose type is
 * inferred over all outputs: BOOLEAN, BIGINT, DOUBLE (BIGINT and DOUBLE mixed), else VARCHAR
 * (nested objects and arrays as their JSON text, and fields whose types disagree). Otherwise one
 * {@code data} column: VARCHAR when every output is UTF-8 text, BLOB otherwise.
 */
public final class OutputTable {
  /** The lineage columns, in order, before the content columns. */
  public static final List<String> LINEAGE =
      List.of("member", "job_id", "commit_id", "global_id", "output_hash");

  /** A content column: its name, its source JSON field (null for {@code data}) and DuckDB type. */
  public record Column(String name, String field, String type) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Output> outputs;
  private final List<JsonNode> objects; // null unless every output is a JSON object
  private final List<Column> columns;

  private OutputTable(List<Output> outputs, List<JsonNode> objects, List<Column> columns) {
    this.outputs = outputs;
    this.objects = objects;
    this.columns = columns;
  }

  /** Infers the content columns of {@code outputs} (one per member). */
  public static OutputTable of(List<Output> outputs) {
    List<JsonNode> objects = new ArrayList<>();
    for (Output output : outputs) {
      JsonNode object = object(output);
      if (object == null) {
        objects = null;
        break;
      }
      objects.add(object);
    }
    if (objects == null || outputs.isEmpty()) {
      boolean text = outputs.stream().allMatch(o -> OutputContent.utf8(bytes(o)) != null);
      return new OutputTable(
          outputs, null, List.of(new Column("data", null, text ? "VARCHAR" : "BLOB")));
    }
    Map<String, String> types = new LinkedHashMap<>();
    for (JsonNode object : objects) {
      for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        String type = type(field.getValue());
        types.merge(field.getKey(), type == null ? "NULL" : type, OutputTable::widen);
      }
    }
    List<Column> columns = new ArrayList<>();
    for (Map.Entry<String, String> entry : types.entrySet()) {
      String name = entry.getKey();
      // A field named like a lineage column keeps its value under another name.
      while (LINEAGE.contains(name) || taken(columns, name)) {
        name = name + "_";
      }
      String type = entry.getValue().equals("NULL") ? "VARCHAR" : entry.getValue();
      columns.add(new Column(name, entry.getKey(), type));
    }
    return new OutputTable(outputs, objects, columns);
  }

  /** The content columns after the lineage columns. */
  public List<Column> columns() {
    return columns;
  }

  /** How many rows: one per output. */
  public int size() {
    return outputs.size();
  }

  /** The lineage values of row {@code i}, in {@link #LINEAGE} order. */
  public List<String> lineage(int i) {
    Output o = outputs.get(i);
    return List.of(
        o.getMember(), o.getJobId(), o.getCommitId(), o.getGlobalId(), o.getOutputHash());
  }

  /**
   * The content values of row {@code i}, one per column: Boolean, Long, Double, String, byte[] or
   * null.
   */
  public List<Object> content(int i) {
    List<Object> values = new ArrayList<>();
    if (objects == null) {
      byte[] data = bytes(outputs.get(i));
      values.add(columns.get(0).type().equals("VARCHAR") ? OutputContent.utf8(data) : data);
      return values;
    }
    JsonNode object = objects.get(i);
    for (Column column : columns) {
      values.add(value(object.get(column.field()), column.type()));
    }
    return values;
  }

  private static Object value(JsonNode node, String type) {
    if (node == null || node.isNull()) {
      return null;
    }
    return switch (type) {
      case "BOOLEAN" -> node.booleanValue();
      case "BIGINT" -> node.longValue();
      case "DOUBLE" -> node.doubleValue();
      default -> node.isTextual() ? node.textValue() : node.toString();
    };
  }

  /** The column type of one JSON value; null for JSON null (it fits any type). */
  static String type(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isBoolean()) {
      return "BOOLEAN";
    }
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? "BIGINT" : "DOUBLE";
    }
    if (node.isNumber()) {
      return "DOUBLE";
    }
    return "VARCHAR";
  }

  /** The type that holds both: equal types stay, numbers widen to DOUBLE, else VARCHAR. */
  static String widen(String a, String b) {
    if (a.equals("NULL")) {
      return b;
    }
    if (b.equals("NULL") || a.equals(b)) {
      return a;
    }
    boolean numbers =
        (a.equals("BIGINT") || a.equals("DOUBLE")) && (b.equals("BIGINT") || b.equals("DOUBLE"));
    return numbers ? "DOUBLE" : "VARCHAR";
  }

  private static boolean taken(List<Column> columns, String name) {
    return columns.stream().anyMatch(c -> c.name().equals(name));
  }

  private static JsonNode object(Output output) {
    if (!OutputContent.isJson(output.getContentType())) {
      return null;
    }
    String text = OutputContent.utf8(bytes(output));
    if (text == null) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(text);
      return node != null && node.isObject() ? node : null;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  static byte[] bytes(Output output) {
    ByteBuffer buffer = output.getData().duplicate();
    byte[] data = new byte[buffer.remaining()];
    buffer.get(data);
    return data;
  }
}
