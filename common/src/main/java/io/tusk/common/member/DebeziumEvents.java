package io.tusk.common.member;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.tusk.schemas.serde.WireFormat;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Reads Debezium change events (the envelope {@code {before, after, source, op, ts_ms}}) written by
 * Kafka Connect's JSON converter with schemas ({@code {"schema":..,"payload":..}}) or without, or
 * by an Avro converter in the Confluent wire format through the schema registry (a value starting
 * with the magic byte 0 is Avro, anything else JSON).
 *
 * <p>Column values become the same text a CSV or JSON row would hold: Kafka Connect and Debezium
 * semantic types named by the JSON schema or the Avro schema's {@code connect.name} are decoded
 * (dates as ISO dates, {@code Timestamp}/{@code MicroTimestamp}/{@code NanoTimestamp} as ISO local
 * date-times, times as ISO times, {@code Decimal} and {@code VariableScaleDecimal} as plain
 * decimals); zoned types are already ISO text. JSON without schemas has no type names: there an
 * integer in a {@code date} column is epoch days and in a {@code timestamp} column epoch
 * milliseconds (the connector's {@code time.precision.mode=connect}), and decimals must come as
 * text ({@code decimal.handling.mode=string}).
 *
 * <p>Not thread-safe (it shares the parser's Avro decoder): one per {@link RowParser}.
 */
final class DebeziumEvents {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Base64.Decoder BASE64 = Base64.getDecoder();

  /** Semantic types whose Avro value is a plain number to decode here, not by its logical type. */
  private static final Set<String> TEMPORAL =
      Set.of(
          "io.debezium.time.Date",
          "org.apache.kafka.connect.data.Date",
          "io.debezium.time.Time",
          "org.apache.kafka.connect.data.Time",
          "io.debezium.time.MicroTime",
          "io.debezium.time.NanoTime",
          "io.debezium.time.Timestamp",
          "org.apache.kafka.connect.data.Timestamp",
          "io.debezium.time.MicroTimestamp",
          "io.debezium.time.NanoTimestamp");

  /**
   * What the connector sends for an unchanged TOASTed value it could not read (its default {@code
   * unavailable.value.placeholder}): applying it would overwrite the real value.
   */
  static final String UNAVAILABLE_VALUE = "__debezium_unavailable_value";

  private final AvroRows avro;

  DebeziumEvents(AvroRows avro) {
    this.avro = avro;
  }

  /** One column value of a row image, with the semantic type its schema names (null if none). */
  record Field(JsonNode value, String semanticType, JsonNode parameters) {}

  /**
   * One change event.
   *
   * @param op {@code c}, {@code r}, {@code u}, {@code d} (others are rejected by the caller)
   * @param table {@code source.table}
   * @param before the row before the change by field name, or null
   * @param after the row after the change by field name, or null
   */
  record Change(String op, String table, Map<String, Field> before, Map<String, Field> after) {}

  /** The change event in a record value (not null: tombstones are handled by the caller). */
  Change change(byte[] value, StrictUtf8 utf8) throws RowRejection {
    if (value.length > 0 && value[0] == WireFormat.MAGIC) {
      return avroChange(avro.record(value));
    }
    String text = utf8.decode(value, "value");
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new RowRejection(
          RejectReason.MALFORMED_JSON, "not valid JSON at column " + e.getLocation().getColumnNr());
    }
    if (root == null || !root.isObject()) {
      throw new RowRejection(
          RejectReason.NOT_A_JSON_OBJECT,
          "JSON value is " + (root == null ? "empty" : root.getNodeType()));
    }
    // The JSON converter with schemas.enable=true wraps the event; without, it is the event.
    boolean wrapped = root.has("payload") && root.has("schema");
    JsonNode payload = wrapped ? root.get("payload") : root;
    JsonNode schema = wrapped ? root.get("schema") : null;
    if (payload == null || !payload.isObject()) {
      throw notAnEvent("payload is not an object");
    }
    return new Change(
        op(payload.get("op")),
        table(payload.path("source").get("table")),
        jsonImage(payload.get("before"), fieldSchemas(schema, "before")),
        jsonImage(payload.get("after"), fieldSchemas(schema, "after")));
  }

  /**
   * The values of {@code table}'s columns in a row image: a column is the image's field of the same
   * name (else the same name in another case); a column the image lacks reads its default.
   */
  static List<String> values(Map<String, Field> image, TableLayout table) throws RowRejection {
    Map<String, Field> byLowerName = null;
    List<String> columns = table.spec().getColumns();
    List<String> values = new ArrayList<>(columns.size());
    for (int i = 0; i < columns.size(); i++) {
      String column = columns.get(i);
      Field field = image.get(column);
      if (field == null) {
        if (byLowerName == null) {
          byLowerName = new HashMap<>();
          for (Map.Entry<String, Field> entry : image.entrySet()) {
            byLowerName.putIfAbsent(entry.getKey().toLowerCase(Locale.ROOT), entry.getValue());
          }
        }
        field = byLowerName.get(column.toLowerCase(Locale.ROOT));
      }
      String value =
          field == null ? table.defaultValue(i) : text(field, table.columnType(i), column);
      if (UNAVAILABLE_VALUE.equals(value)) {
        throw new RowRejection(
            RejectReason.UNSUPPORTED_CHANGE,
            "column "
                + column
                + " holds Debezium's unavailable-value placeholder (an unchanged TOAST value):"
                + " set REPLICA IDENTITY FULL on the table");
      }
      values.add(value);
    }
    return values;
  }

  /** A column value as row text, decoding the semantic type the schema names. */
  static String text(Field field, ColumnType columnType, String column) throws RowRejection {
    JsonNode value = field.value();
    if (value == null || value.isNull()) {
      return null;
    }
    String type = field.semanticType();
    try {
      if (type == null) {
        return untyped(value, columnType);
      }
      return switch (type) {
        case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date" ->
            value.isIntegralNumber()
                ? LocalDate.ofEpochDay(value.longValue()).toString()
                : plain(value);
        case "io.debezium.time.Time", "org.apache.kafka.connect.data.Time" ->
            time(value, 1_000_000L);
        case "io.debezium.time.MicroTime" -> time(value, 1_000L);
        case "io.debezium.time.NanoTime" -> time(value, 1L);
        case "io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp" ->
            timestamp(value, 1_000_000L);
        case "io.debezium.time.MicroTimestamp" -> timestamp(value, 1_000L);
        case "io.debezium.time.NanoTimestamp" -> timestamp(value, 1L);
        case "org.apache.kafka.connect.data.Decimal" -> decimal(value, field.parameters());
        case "io.debezium.data.VariableScaleDecimal" -> variableScaleDecimal(value);
        default -> plain(value);
      };
    } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
      // Only the column and the type: the value may be health data.
      throw new RowRejection(
          RejectReason.WRONG_TYPE, "column " + column + " is not a valid " + type);
    }
  }

  /**
   * JSON without schemas: typed date and timestamp columns take the integers {@code
   * time.precision.mode=connect} sends (epoch days, epoch milliseconds); the rest is plain text.
   */
  private static String untyped(JsonNode value, ColumnType columnType) {
    if (value.isIntegralNumber() && columnType == ColumnType.DATE) {
      return LocalDate.ofEpochDay(value.longValue()).toString();
    }
    if (value.isIntegralNumber() && columnType == ColumnType.TIMESTAMP) {
      return timestamp(value, 1_000_000L);
    }
    return plain(value);
  }

  private static String time(JsonNode value, long nanosPerUnit) {
    if (!value.isIntegralNumber()) {
      return plain(value);
    }
    return LocalTime.ofNanoOfDay(value.longValue() * nanosPerUnit)
        .format(DateTimeFormatter.ISO_LOCAL_TIME);
  }

  /** An epoch count as an ISO local date-time in UTC (Debezium's reading of a plain timestamp). */
  private static String timestamp(JsonNode value, long nanosPerUnit) {
    if (!value.isIntegralNumber()) {
      return plain(value);
    }
    long amount = value.longValue();
    long unitsPerSecond = 1_000_000_000L / nanosPerUnit;
    long seconds = Math.floorDiv(amount, unitsPerSecond);
    long nanos = Math.floorMod(amount, unitsPerSecond) * nanosPerUnit;
    return LocalDateTime.ofEpochSecond(seconds, (int) nanos, ZoneOffset.UTC)
        .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
  }

  /** Kafka Connect's Decimal: base64 of the unscaled two's complement bytes in JSON. */
  private static String decimal(JsonNode value, JsonNode parameters) {
    if (value.isNumber()) {
      return value.decimalValue().toPlainString();
    }
    if (!value.isTextual()) {
      return plain(value);
    }
    JsonNode scale = parameters == null ? null : parameters.get("scale");
    if (scale == null) {
      throw new IllegalArgumentException("decimal without scale");
    }
    int scaleValue = scale.isNumber() ? scale.intValue() : Integer.parseInt(scale.asText());
    return new BigDecimal(new BigInteger(BASE64.decode(value.textValue())), scaleValue)
        .toPlainString();
  }

  /** Debezium's variable scale decimal: {@code {"scale": n, "value": base64 unscaled}}. */
  private static String variableScaleDecimal(JsonNode value) {
    if (!value.isObject()) {
      return plain(value);
    }
    JsonNode unscaled = value.get("value");
    JsonNode scale = value.get("scale");
    if (unscaled == null || scale == null || !unscaled.isTextual()) {
      throw new IllegalArgumentException("variable scale decimal without scale and value");
    }
    return new BigDecimal(new BigInteger(BASE64.decode(unscaled.textValue())), scale.intValue())
        .toPlainString();
  }

  /** Text as it is, numbers and booleans as JSON prints them, the rest as JSON text. */
  private static String plain(JsonNode value) {
    if (value.isTextual()) {
      return value.textValue();
    }
    if (value.isBigDecimal()) {
      return value.decimalValue().toPlainString();
    }
    return value.isValueNode() ? value.asText() : value.toString();
  }

  private static String op(JsonNode op) throws RowRejection {
    if (op == null || !op.isTextual()) {
      throw notAnEvent("no op");
    }
    return op.textValue();
  }

  private static String table(JsonNode table) throws RowRejection {
    if (table == null || !table.isTextual() || table.textValue().isBlank()) {
      throw notAnEvent("no source.table");
    }
    return table.textValue();
  }

  static RowRejection notAnEvent(String why) {
    return new RowRejection(RejectReason.UNSUPPORTED_CHANGE, "not a Debezium change event: " + why);
  }

  /** The field schemas of the envelope's {@code before} or {@code after}, by field name. */
  private static Map<String, JsonNode> fieldSchemas(JsonNode envelope, String image) {
    Map<String, JsonNode> byName = new HashMap<>();
    if (envelope == null) {
      return byName;
    }
    for (JsonNode field : envelope.path("fields")) {
      if (image.equals(field.path("field").asText())) {
        for (JsonNode column : field.path("fields")) {
          byName.put(column.path("field").asText(), column);
        }
      }
    }
    return byName;
  }

  private static Map<String, Field> jsonImage(JsonNode image, Map<String, JsonNode> schemas) {
    if (image == null || !image.isObject()) {
      return null;
    }
    Map<String, Field> fields = new HashMap<>();
    Iterator<Map.Entry<String, JsonNode>> entries = image.fields();
    while (entries.hasNext()) {
      Map.Entry<String, JsonNode> entry = entries.next();
      JsonNode schema = schemas.get(entry.getKey());
      String type = schema == null ? null : schema.path("name").textValue();
      JsonNode parameters = schema == null ? null : schema.get("parameters");
      fields.put(entry.getKey(), new Field(entry.getValue(), type, parameters));
    }
    return fields;
  }

  private Change avroChange(GenericRecord envelope) throws RowRejection {
    Schema schema = envelope.getSchema();
    if (schema.getField("op") == null || schema.getField("source") == null) {
      throw notAnEvent("the Avro record has no op or source");
    }
    Object op = envelope.get("op");
    Object source = envelope.get("source");
    Object table =
        source instanceof GenericRecord record && record.getSchema().getField("table") != null
            ? record.get("table")
            : null;
    return new Change(
        op == null ? op(null) : op.toString(),
        table(table == null ? null : NODES.textNode(table.toString())),
        avroImage(envelope, "before"),
        avroImage(envelope, "after"));
  }

  private Map<String, Field> avroImage(GenericRecord envelope, String name) throws RowRejection {
    Schema.Field imageField = envelope.getSchema().getField(name);
    if (imageField == null || !(envelope.get(name) instanceof GenericRecord image)) {
      return null;
    }
    Map<String, Field> fields = new HashMap<>();
    for (Schema.Field field : image.getSchema().getFields()) {
      Object value = image.get(field.pos());
      Schema schema = field.schema();
      if (value != null && schema.getType() == Schema.Type.UNION) {
        schema = schema.getTypes().get(GenericData.get().resolveUnion(schema, value));
      }
      String type = schema.getProp("connect.name");
      JsonNode json;
      if (value == null) {
        json = NODES.nullNode();
      } else if (type != null && TEMPORAL.contains(type) && value instanceof Number number) {
        // The epoch count itself: its Avro logical type (if any) would print it with a zone.
        json = NODES.numberNode(number.longValue());
      } else {
        json = avro.json(schema, value);
      }
      Object parameters = schema.getObjectProp("connect.parameters");
      fields.put(
          field.name(),
          new Field(json, type, parameters == null ? null : JSON.valueToTree(parameters)));
    }
    return fields;
  }
}
