package io.tusk.common.member;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.testfixtures.ConfluentWire;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Debezium change events of one PostgreSQL table {@code public.drug_exposure} (id bigint primary
 * key, person_id bigint, drug text, start_date date, start_ts timestamp(3), quantity numeric(10,2))
 * as the connector writes them in each of the three encodings Tusk reads.
 */
final class DebeziumFixtures {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** How a change event is encoded on the topic. */
  enum Encoding {
    /** The JSON converter with {@code schemas.enable=true}: {@code {"schema", "payload"}}. */
    JSON_WITH_SCHEMAS,
    /**
     * The JSON converter without schemas, connector with {@code time.precision.mode=connect} and
     * {@code decimal.handling.mode=string}.
     */
    JSON_WITHOUT_SCHEMAS,
    /** An Avro converter, Confluent wire format, schema in the registry. */
    AVRO
  }

  /** One row of drug_exposure. */
  record Drug(
      long id,
      long personId,
      String drug,
      LocalDate startDate,
      LocalDateTime startTs,
      BigDecimal quantity) {
    /** The row as Tusk's DRUG_EXPOSURE columns hold it. */
    List<String> columns() {
      return java.util.Arrays.asList(
          Long.toString(id),
          Long.toString(personId),
          drug,
          startDate == null ? null : startDate.toString(),
          startTs == null
              ? null
              : startTs.format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME),
          quantity == null ? null : quantity.toPlainString());
    }
  }

  private static final String VALUE_SCHEMA =
      """
      {"type": "record", "name": "Value", "namespace": "tusk.public.drug_exposure", "fields": [
        {"name": "id", "type": "long"},
        {"name": "person_id", "type": ["null", "long"], "default": null},
        {"name": "drug", "type": ["null", "string"], "default": null},
        {"name": "start_date", "type": ["null",
          {"type": "int", "connect.name": "io.debezium.time.Date", "connect.version": 1}],
          "default": null},
        {"name": "start_ts", "type": ["null",
          {"type": "long", "connect.name": "io.debezium.time.MicroTimestamp",
           "connect.version": 1}], "default": null},
        {"name": "quantity", "type": ["null",
          {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2,
           "connect.name": "org.apache.kafka.connect.data.Decimal",
           "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"}}],
          "default": null}]}
      """;

  static final Schema ENVELOPE =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "Envelope", "namespace": "tusk.public.drug_exposure",
               "fields": [
                {"name": "before", "type": ["null", %s], "default": null},
                {"name": "after", "type": ["null", "Value"], "default": null},
                {"name": "source", "type": {"type": "record", "name": "Source",
                  "namespace": "io.debezium.connector.postgresql", "fields": [
                    {"name": "connector", "type": "string"},
                    {"name": "db", "type": "string"},
                    {"name": "schema", "type": "string"},
                    {"name": "table", "type": "string"},
                    {"name": "txId", "type": ["null", "long"], "default": null},
                    {"name": "lsn", "type": ["null", "long"], "default": null}]}},
                {"name": "op", "type": "string"},
                {"name": "ts_ms", "type": ["null", "long"], "default": null}]}
              """
                  .formatted(VALUE_SCHEMA));

  private DebeziumFixtures() {}

  /** A debezium repo with table DRUG_EXPOSURE (upper-case columns, as Tusk specs often have). */
  static RepoSpec repo() {
    return RepoSpec.newBuilder()
        .setName("cdc")
        .setFormat(RowFormat.DEBEZIUM)
        .setDefaultTable("DRUG_EXPOSURE")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("DRUG_EXPOSURE")
                    .setColumns(
                        List.of("ID", "PERSON_ID", "DRUG", "START_DATE", "START_TS", "QUANTITY"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("ID"))
                    .setColumnTypes(
                        Map.of(
                            "ID",
                            "long",
                            "START_DATE",
                            "date",
                            "START_TS",
                            "timestamp",
                            "QUANTITY",
                            "double"))
                    .build(),
                TableSpec.newBuilder()
                    .setName("NOTE")
                    .setColumns(List.of("PERSON_ID", "TEXT"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of())
                    .build()))
        .setUpdatePartitions(3)
        .setMemberPartitions(3)
        .setCreatedAt(0)
        .build();
  }

  /**
   * A change event of {@code table} in {@code encoding}.
   *
   * @param before the row before (null for c and r)
   * @param after the row after (null for d)
   */
  static byte[] event(
      Encoding encoding,
      InMemorySchemaRegistryClient registry,
      String op,
      String table,
      Drug before,
      Drug after) {
    return switch (encoding) {
      case JSON_WITH_SCHEMAS -> {
        ObjectNode root = NODES.objectNode();
        root.set("schema", jsonSchema());
        root.set("payload", payload(op, table, before, after, true));
        yield bytes(root);
      }
      case JSON_WITHOUT_SCHEMAS -> bytes(payload(op, table, before, after, false));
      case AVRO -> {
        int id = registry.register("cdc.updates-value", ENVELOPE);
        GenericRecord envelope = new GenericData.Record(ENVELOPE);
        Schema value = ENVELOPE.getField("after").schema().getTypes().get(1);
        envelope.put("before", avroRow(value, before));
        envelope.put("after", avroRow(value, after));
        GenericRecord source = new GenericData.Record(ENVELOPE.getField("source").schema());
        source.put("connector", "postgresql");
        source.put("db", "claims");
        source.put("schema", "public");
        source.put("table", table);
        source.put("txId", 771L);
        source.put("lsn", 23456L);
        envelope.put("source", source);
        envelope.put("op", op);
        envelope.put("ts_ms", 1_700_000_000_000L);
        yield ConfluentWire.framed(id, envelope);
      }
    };
  }

  static byte[] bytes(Object json) {
    try {
      return JSON.writeValueAsBytes(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static ObjectNode payload(
      String op, String table, Drug before, Drug after, boolean withSchemas) {
    ObjectNode payload = NODES.objectNode();
    payload.set("before", jsonRow(before, withSchemas));
    payload.set("after", jsonRow(after, withSchemas));
    ObjectNode source = payload.putObject("source");
    source.put("connector", "postgresql");
    source.put("db", "claims");
    source.put("schema", "public");
    source.put("table", table);
    source.put("txId", 771);
    source.put("lsn", 23456);
    payload.put("op", op);
    payload.put("ts_ms", 1_700_000_000_000L);
    payload.putNull("transaction");
    return payload;
  }

  private static com.fasterxml.jackson.databind.JsonNode jsonRow(Drug row, boolean withSchemas) {
    if (row == null) {
      return NODES.nullNode();
    }
    ObjectNode node = NODES.objectNode();
    node.put("id", row.id());
    node.put("person_id", row.personId());
    node.put("drug", row.drug());
    if (row.startDate() == null) {
      node.putNull("start_date");
    } else {
      node.put("start_date", row.startDate().toEpochDay());
    }
    if (row.startTs() == null) {
      node.putNull("start_ts");
    } else if (withSchemas) {
      node.put("start_ts", micros(row.startTs()));
    } else {
      // time.precision.mode=connect: milliseconds.
      node.put("start_ts", row.startTs().toInstant(ZoneOffset.UTC).toEpochMilli());
    }
    if (row.quantity() == null) {
      node.putNull("quantity");
    } else if (withSchemas) {
      node.put(
          "quantity",
          java.util.Base64.getEncoder()
              .encodeToString(row.quantity().unscaledValue().toByteArray()));
    } else {
      // decimal.handling.mode=string.
      node.put("quantity", row.quantity().toPlainString());
    }
    return node;
  }

  private static long micros(LocalDateTime time) {
    return ChronoUnit.MICROS.between(LocalDateTime.of(1970, 1, 1, 0, 0), time);
  }

  private static ObjectNode jsonSchema() {
    ObjectNode schema = NODES.objectNode();
    schema.put("type", "struct");
    schema.put("name", "tusk.public.drug_exposure.Envelope");
    ArrayNode fields = schema.putArray("fields");
    for (String image : List.of("before", "after")) {
      ObjectNode row = fields.addObject();
      row.put("type", "struct");
      row.put("optional", true);
      row.put("name", "tusk.public.drug_exposure.Value");
      row.put("field", image);
      ArrayNode columns = row.putArray("fields");
      columns.addObject().put("type", "int64").put("optional", false).put("field", "id");
      columns.addObject().put("type", "int64").put("optional", true).put("field", "person_id");
      columns.addObject().put("type", "string").put("optional", true).put("field", "drug");
      columns
          .addObject()
          .put("type", "int32")
          .put("optional", true)
          .put("name", "io.debezium.time.Date")
          .put("version", 1)
          .put("field", "start_date");
      columns
          .addObject()
          .put("type", "int64")
          .put("optional", true)
          .put("name", "io.debezium.time.MicroTimestamp")
          .put("version", 1)
          .put("field", "start_ts");
      ObjectNode quantity = columns.addObject();
      quantity
          .put("type", "bytes")
          .put("optional", true)
          .put("name", "org.apache.kafka.connect.data.Decimal")
          .put("version", 1)
          .put("field", "quantity");
      quantity.putObject("parameters").put("scale", "2").put("connect.decimal.precision", "10");
    }
    ObjectNode source = fields.addObject();
    source.put("type", "struct").put("optional", false).put("field", "source");
    fields.addObject().put("type", "string").put("optional", false).put("field", "op");
    fields.addObject().put("type", "int64").put("optional", true).put("field", "ts_ms");
    return schema;
  }

  private static GenericRecord avroRow(Schema schema, Drug row) {
    if (row == null) {
      return null;
    }
    GenericRecord record = new GenericData.Record(schema);
    record.put("id", row.id());
    record.put("person_id", row.personId());
    record.put("drug", row.drug());
    record.put("start_date", row.startDate() == null ? null : (int) row.startDate().toEpochDay());
    record.put("start_ts", row.startTs() == null ? null : micros(row.startTs()));
    record.put(
        "quantity",
        row.quantity() == null
            ? null
            : ByteBuffer.wrap(row.quantity().unscaledValue().toByteArray()));
    return record;
  }
}
