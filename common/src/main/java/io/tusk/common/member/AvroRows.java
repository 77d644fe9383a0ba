package io.tusk.common.member;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.schemas.Output;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryException;
import io.tusk.schemas.serde.WireFormat;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Reads Avro records in the Confluent wire format with any writer schema from the registry: each
 * schema ID is fetched once (unknown IDs are remembered for {@value #UNKNOWN_TTL_MILLIS} ms, so a
 * flood of bad records does not become a flood of registry calls). A table's columns are the
 * record's field names; nested values become JSON text, logical types their ISO text.
 *
 * <p>Not thread-safe (decoders and caches are reused): one per parser.
 */
final class AvroRows {
  static final long UNKNOWN_TTL_MILLIS = 60_000;

  /** Unknown IDs remembered at most (records with random IDs must not grow the map forever). */
  private static final int MAX_UNKNOWN = 1024;

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Base64.Encoder BASE64 = Base64.getEncoder();

  private final SchemaRegistryClient registry;
  private final StrictUtf8 utf8;
  private final Map<Integer, Writer> writers = new HashMap<>();
  private final Map<Integer, Long> unknownUntil = new HashMap<>();
  private BinaryDecoder decoder;

  /**
   * @param registry where writer schemas come from; null rejects every Avro record as {@link
   *     RejectReason#UNKNOWN_SCHEMA}
   */
  AvroRows(SchemaRegistryClient registry, StrictUtf8 utf8) {
    this.registry = registry;
    this.utf8 = utf8;
  }

  /** The values of {@code table}'s columns in a framed Avro record. */
  List<String> values(byte[] framed, TableLayout table) throws RowRejection {
    Writer writer = writer(framed);
    int[] fields = writer.fieldsOf(table);
    if (fields[table.memberKeyIndex()] < 0) {
      throw new RowRejection(
          RejectReason.MISSING_MEMBER_FIELD,
          "schema " + writer.id + " has no field " + table.spec().getMemberKey());
    }
    GenericRecord record = (GenericRecord) read(writer, writer.reader, framed);
    List<Schema.Field> schemaFields = writer.schema.getFields();
    String[] values = new String[fields.length];
    try {
      for (int i = 0; i < fields.length; i++) {
        values[i] =
            fields[i] >= 0
                ? text(json(schemaFields.get(fields[i]).schema(), record.get(fields[i])))
                : table.defaultValue(i);
      }
    } catch (RuntimeException e) {
      throw malformed(writer, e);
    }
    return Arrays.asList(values);
  }

  /** A framed record read with its writer schema (a Debezium envelope, say). */
  GenericRecord record(byte[] framed) throws RowRejection {
    Writer writer = writer(framed);
    if (!(read(writer, writer.reader, framed) instanceof GenericRecord record)) {
      throw new RowRejection(
          RejectReason.MALFORMED_AVRO, "schema " + writer.id + " is not a record schema");
    }
    return record;
  }

  /** The {@code data} bytes of a framed pipeline {@link Output}, read with the Output schema. */
  byte[] outputData(byte[] framed) throws RowRejection {
    Writer writer = writer(framed);
    GenericRecord output = (GenericRecord) read(writer, writer.outputReader(), framed);
    ByteBuffer data = ((ByteBuffer) output.get("data")).duplicate();
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    return bytes;
  }

  private Object read(Writer writer, GenericDatumReader<Object> reader, byte[] framed)
      throws RowRejection {
    decoder =
        DecoderFactory.get()
            .binaryDecoder(
                framed,
                WireFormat.PREFIX_LENGTH,
                framed.length - WireFormat.PREFIX_LENGTH,
                decoder);
    try {
      Object value = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new RowRejection(
            RejectReason.MALFORMED_AVRO,
            "bytes left after the record of schema " + writer.id + " (wrong schema ID?)");
      }
      return value;
    } catch (IOException | RuntimeException e) {
      throw malformed(writer, e);
    }
  }

  private static RowRejection malformed(Writer writer, Exception e) {
    // Only the exception type: Avro's messages can quote the data, which may be health data.
    return new RowRejection(
        RejectReason.MALFORMED_AVRO,
        "cannot decode with schema " + writer.id + ": " + e.getClass().getSimpleName());
  }

  private Writer writer(byte[] framed) throws RowRejection {
    if (framed.length < WireFormat.PREFIX_LENGTH || framed[0] != WireFormat.MAGIC) {
      throw new RowRejection(
          RejectReason.MALFORMED_AVRO,
          "not Confluent wire format (magic byte 0 and a 4-byte schema ID first)");
    }
    int id = ByteBuffer.wrap(framed, 1, 4).getInt();
    Writer writer = writers.get(id);
    if (writer != null) {
      return writer;
    }
    Long until = unknownUntil.get(id);
    if (until != null && System.currentTimeMillis() < until) {
      throw unknown(id);
    }
    if (registry == null) {
      throw new RowRejection(RejectReason.UNKNOWN_SCHEMA, "no schema registry to look up " + id);
    }
    try {
      writer = new Writer(id, registry.getById(id));
    } catch (SchemaRegistryException e) {
      if (!e.isNotFound()) {
        throw new SchemaUnavailableException(
            "cannot fetch schema " + id + ": " + e.getMessage(), e);
      }
      rememberUnknown(id);
      throw unknown(id);
    } catch (AvroRuntimeException e) {
      // The registry holds it, but it is not an Avro schema (e.g. JSON Schema or Protobuf).
      rememberUnknown(id);
      throw new RowRejection(RejectReason.UNKNOWN_SCHEMA, "schema " + id + " is not Avro");
    }
    unknownUntil.remove(id);
    writers.put(id, writer);
    return writer;
  }

  private void rememberUnknown(int id) {
    if (unknownUntil.size() >= MAX_UNKNOWN) {
      unknownUntil.clear();
    }
    unknownUntil.put(id, System.currentTimeMillis() + UNKNOWN_TTL_MILLIS);
  }

  private static RowRejection unknown(int id) {
    return new RowRejection(
        RejectReason.UNKNOWN_SCHEMA, "schema " + id + " is not in the registry");
  }

  /** A value as column text: strings as they are, numbers and booleans as JSON prints them. */
  private static String text(JsonNode node) {
    if (node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isBigDecimal()) {
      return node.decimalValue().toPlainString();
    }
    return node.isValueNode() ? node.asText() : node.toString();
  }

  /** The JSON form of an Avro value: logical types as ISO text, bytes as base64. */
  JsonNode json(Schema schema, Object value) throws RowRejection {
    if (value == null) {
      return NODES.nullNode();
    }
    if (schema.getType() == Schema.Type.UNION) {
      return json(schema.getTypes().get(GenericData.get().resolveUnion(schema, value)), value);
    }
    LogicalType logical = schema.getLogicalType();
    if (logical != null) {
      JsonNode converted = logical(logical, value);
      if (converted != null) {
        return converted;
      }
    }
    return switch (schema.getType()) {
      case RECORD -> {
        ObjectNode object = NODES.objectNode();
        GenericRecord record = (GenericRecord) value;
        for (Schema.Field field : schema.getFields()) {
          object.set(field.name(), json(field.schema(), record.get(field.pos())));
        }
        yield object;
      }
      case ARRAY -> {
        ArrayNode array = NODES.arrayNode();
        for (Object item : (Collection<?>) value) {
          array.add(json(schema.getElementType(), item));
        }
        yield array;
      }
      case MAP -> {
        ObjectNode object = NODES.objectNode();
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
          object.set(string(entry.getKey()), json(schema.getValueType(), entry.getValue()));
        }
        yield object;
      }
      case STRING, ENUM -> NODES.textNode(string(value));
      case BYTES -> NODES.textNode(BASE64.encodeToString(bytes((ByteBuffer) value)));
      case FIXED -> NODES.textNode(BASE64.encodeToString(((GenericFixed) value).bytes()));
      case INT -> NODES.numberNode((Integer) value);
      case LONG -> NODES.numberNode((Long) value);
      case FLOAT -> finite((Float) value);
      case DOUBLE -> finite((Double) value);
      case BOOLEAN -> NODES.booleanNode((Boolean) value);
      case NULL -> NODES.nullNode();
      case UNION -> throw new IllegalStateException("union resolved above");
    };
  }

  private static JsonNode logical(LogicalType logical, Object value) {
    return switch (logical.getName()) {
      case "date" -> NODES.textNode(LocalDate.ofEpochDay((Integer) value).toString());
      case "time-millis" ->
          NODES.textNode(LocalTime.ofNanoOfDay((Integer) value * 1_000_000L).toString());
      case "time-micros" -> NODES.textNode(LocalTime.ofNanoOfDay((Long) value * 1_000L).toString());
      case "timestamp-millis" -> NODES.textNode(Instant.ofEpochMilli((Long) value).toString());
      case "timestamp-micros" ->
          NODES.textNode(instant((Long) value, ChronoUnit.MICROS).toString());
      case "timestamp-nanos" -> NODES.textNode(instant((Long) value, ChronoUnit.NANOS).toString());
      case "local-timestamp-millis" -> local(Instant.ofEpochMilli((Long) value));
      case "local-timestamp-micros" -> local(instant((Long) value, ChronoUnit.MICROS));
      case "local-timestamp-nanos" -> local(instant((Long) value, ChronoUnit.NANOS));
      case "decimal" -> {
        byte[] unscaled =
            value instanceof GenericFixed fixed ? fixed.bytes() : bytes((ByteBuffer) value);
        int scale = ((LogicalTypes.Decimal) logical).getScale();
        yield NODES.numberNode(new BigDecimal(new BigInteger(unscaled), scale));
      }
      default -> null;
    };
  }

  private static Instant instant(long amount, ChronoUnit unit) {
    return Instant.EPOCH.plus(amount, unit);
  }

  private static JsonNode local(Instant instant) {
    return NODES.textNode(LocalDateTime.ofInstant(instant, ZoneOffset.UTC).toString());
  }

  private static JsonNode finite(double value) {
    // JSON has no NaN or Infinity: they are kept as text.
    return Double.isFinite(value)
        ? NODES.numberNode(value)
        : NODES.textNode(Double.toString(value));
  }

  private String string(Object value) throws RowRejection {
    return value instanceof Utf8 utf
        ? utf8.decode(utf.getBytes(), 0, utf.getByteLength(), "an Avro string")
        : value.toString();
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  /** A writer schema with its reader and its field positions per table. */
  private static final class Writer {
    final int id;
    final Schema schema;
    final GenericDatumReader<Object> reader;
    private final Map<String, int[]> fieldsByTable = new HashMap<>();
    private GenericDatumReader<Object> outputReader;

    Writer(int id, Schema schema) {
      this.id = id;
      this.schema = schema;
      this.reader = new GenericDatumReader<>(schema);
    }

    /** Position of each column's field in the writer schema; -1 where it has none. */
    int[] fieldsOf(TableLayout table) {
      return fieldsByTable.computeIfAbsent(
          table.spec().getName(),
          name -> {
            List<String> columns = table.spec().getColumns();
            int[] fields = new int[columns.size()];
            for (int i = 0; i < fields.length; i++) {
              Schema.Field field =
                  schema.getType() == Schema.Type.RECORD ? schema.getField(columns.get(i)) : null;
              fields[i] = field == null ? -1 : field.pos();
            }
            return fields;
          });
    }

    /** Reads this writer's records as {@link Output}s (schema resolution covers evolution). */
    GenericDatumReader<Object> outputReader() {
      if (outputReader == null) {
        outputReader = new GenericDatumReader<>(schema, Output.getClassSchema());
      }
      return outputReader;
    }
  }
}
