package io.tusk.common.member;

import static io.tusk.common.member.RowParserTest.reason;
import static io.tusk.common.member.RowParserTest.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.schemas.RowFormat;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryException;
import io.tusk.testfixtures.ConfluentWire;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

/** Avro records in the Confluent wire format with writer schemas from the registry. */
class RowParserAvroTest {
  private static final Schema DRUG =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "Drug", "fields": [
                {"name": "ID", "type": "long"},
                {"name": "PERSON_ID", "type": "string"},
                {"name": "DRUG", "type": {"type": "record", "name": "Substance", "fields": [
                  {"name": "name", "type": "string"},
                  {"name": "codes", "type": {"type": "array", "items": "int"}}]}},
                {"name": "START", "type": ["null", {"type": "int", "logicalType": "date"}]},
                {"name": "EXTRA", "type": "string"}]}
              """);
  private static final Schema NO_MEMBER =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "Anonymous", "fields": [{"name": "ID", "type": "long"}]}
              """);

  private final CountingRegistry registry = new CountingRegistry();
  private final RowParser parser =
      new RowParser(Fixtures.repo(RowFormat.AVRO, Map.of("ID", "long", "START", "date")), registry);

  @Test
  void shouldReadFieldsByColumnNameWhenTheSchemaIsRegistered() {
    // Given a registered schema with a nested record, a logical date and a field no column has
    int id = registry.register("claims.updates-value", DRUG);

    // When a record in the wire format arrives
    ParseResult result =
        parser.parse(
            new SourceRecord(null, ConfluentWire.framed(id, drug("42")), null, null, 1, 3));

    // Then the columns are its fields: nested as JSON text, the date as ISO text
    ParseResult.Accepted accepted = (ParseResult.Accepted) result;
    assertThat(accepted.member()).isEqualTo("42");
    assertThat(accepted.row().getValues())
        .containsExactly("7", "42", "{\"name\":\"celecoxib\",\"codes\":[1,2]}", "2019-01-02");
    assertThat(accepted.row().getSourceOffset()).isEqualTo(3L);
  }

  @Test
  void shouldGiveAColumnAddedByALayoutChangeItsDefaultWhenTheWriterSchemaHasNoSuchField() {
    // Given DRUG gained column DOSE (default "0") in a layout change, and a writer of the old
    // schema next to one whose schema evolved with the field
    io.tusk.schemas.RepoSpec v1 = Fixtures.repo(RowFormat.AVRO, Map.of("ID", "long"));
    io.tusk.schemas.RepoSpec v2 =
        io.tusk.common.pipeline.LayoutChanges.update(
            v1,
            Map.of(
                "tables",
                List.of(
                    Map.of(
                        "name", "DRUG",
                        "columns", List.of("ID", "PERSON_ID", "DRUG", "START", "DOSE"),
                        "memberKey", "PERSON_ID",
                        "rowKey", List.of("ID"),
                        "columnTypes", Map.of("ID", "long", "DOSE", "int"),
                        "defaults", Map.of("DOSE", "0")),
                    Map.of(
                        "name",
                        "NOTE",
                        "columns",
                        List.of("PERSON_ID", "TEXT"),
                        "memberKey",
                        "PERSON_ID"))),
            2,
            0);
    RowParser evolved = new RowParser(v2, registry);
    Schema withDose =
        new Schema.Parser()
            .parse(
                """
                {"type": "record", "name": "Drug2", "fields": [
                  {"name": "ID", "type": "long"}, {"name": "PERSON_ID", "type": "string"},
                  {"name": "DOSE", "type": "int", "default": 0}]}
                """);
    int old = registry.register("claims.updates-value", DRUG);
    int evolvedId = registry.register("claims.updates-value", withDose);
    GenericRecord dosed = new GenericData.Record(withDose);
    dosed.put("ID", 8L);
    dosed.put("PERSON_ID", "42");
    dosed.put("DOSE", 5);

    // Then the old writer's record reads the default, the new one's its value
    assertThat(
            ((ParseResult.Accepted)
                    evolved.parse(
                        new SourceRecord(
                            null, ConfluentWire.framed(old, drug("42")), null, null, 0, 1)))
                .row()
                .getValues()
                .get(4))
        .isEqualTo("0");
    assertThat(
            ((ParseResult.Accepted)
                    evolved.parse(
                        new SourceRecord(
                            null, ConfluentWire.framed(evolvedId, dosed), null, null, 0, 2)))
                .row()
                .getValues())
        .containsExactly("8", "42", null, null, "5");
  }

  @Test
  void shouldFetchEachSchemaOnceWhenManyRecordsCarryIt() {
    // Given a registered schema
    int id = registry.register("claims.updates-value", DRUG);

    // When three records of it are parsed
    for (int i = 0; i < 3; i++) {
      assertThat(
              parser.parse(
                  new SourceRecord(null, ConfluentWire.framed(id, drug("42")), null, null, 0, i)))
          .isInstanceOf(ParseResult.Accepted.class);
    }

    // Then the registry was asked once
    assertThat(registry.fetches.get()).isEqualTo(1);
  }

  @Test
  void shouldParseAvroWhenTheHeaderSaysSoOnACsvRepo() {
    int id = registry.register("claims.updates-value", DRUG);
    RowParser csvRepo = new RowParser(Fixtures.repo(RowFormat.CSV), registry);
    assertThat(
            csvRepo.parse(
                new SourceRecord(null, ConfluentWire.framed(id, drug("42")), null, "avro", 0, 0)))
        .isInstanceOf(ParseResult.Accepted.class);
  }

  @Test
  void shouldRejectAsUnknownSchemaAndAskOnceWhenTheIdIsNotRegistered() {
    // When two records with an ID the registry does not know arrive
    byte[] value = ConfluentWire.framed(4242, drug("42"));
    ParseResult first = parser.parse(new SourceRecord(null, value, null, null, 0, 0));
    ParseResult second = parser.parse(new SourceRecord(null, value, null, null, 0, 1));

    // Then both are UNKNOWN_SCHEMA, and the registry was asked once
    assertThat(reason(first)).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
    assertThat(rejected(first).detail()).contains("4242");
    assertThat(reason(second)).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
    assertThat(registry.fetches.get()).isEqualTo(1);
  }

  @Test
  void shouldRejectAsMissingMemberFieldWhenTheSchemaLacksIt() {
    int id = registry.register("claims.updates-value", NO_MEMBER);
    GenericRecord record = new GenericData.Record(NO_MEMBER);
    record.put("ID", 7L);
    ParseResult.Rejected rejected =
        rejected(
            parser.parse(
                new SourceRecord(null, ConfluentWire.framed(id, record), null, null, 0, 0)));
    assertThat(rejected.reason()).isEqualTo(RejectReason.MISSING_MEMBER_FIELD);
    assertThat(rejected.detail()).contains("PERSON_ID").contains(Integer.toString(id));
  }

  @Test
  void shouldRejectAsMissingMemberKeyWhenTheMemberFieldIsEmpty() {
    int id = registry.register("claims.updates-value", DRUG);
    assertThat(
            reason(
                parser.parse(
                    new SourceRecord(null, ConfluentWire.framed(id, drug("")), null, null, 0, 0))))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
  }

  @Test
  void shouldRejectAsWrongTypeWhenAnAvroValueDoesNotFitTheColumnType() {
    // Given the column ID typed int, and an Avro long beyond int's range
    RowParser intIds = new RowParser(Fixtures.repo(RowFormat.AVRO, Map.of("ID", "int")), registry);
    int id = registry.register("claims.updates-value", DRUG);
    GenericRecord record = drug("42");
    record.put("ID", 1L << 40);

    // Then it is WRONG_TYPE
    assertThat(
            reason(
                intIds.parse(
                    new SourceRecord(null, ConfluentWire.framed(id, record), null, null, 0, 0))))
        .isEqualTo(RejectReason.WRONG_TYPE);
  }

  @Test
  void shouldRejectAsMalformedAvroWhenTheBytesAreNotTheWireFormatOrDoNotDecode() {
    int id = registry.register("claims.updates-value", DRUG);
    byte[] good = ConfluentWire.framed(id, drug("42"));
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
    byte[] longer = java.util.Arrays.copyOf(good, good.length + 2);
    assertThat(
            reason(
                parser.parse(new SourceRecord(null, RowParserTest.utf8("7,42"), null, null, 0, 0))))
        .isEqualTo(RejectReason.MALFORMED_AVRO);
    assertThat(reason(parser.parse(new SourceRecord(null, truncated, null, null, 0, 0))))
        .isEqualTo(RejectReason.MALFORMED_AVRO);
    assertThat(reason(parser.parse(new SourceRecord(null, longer, null, null, 0, 0))))
        .isEqualTo(RejectReason.MALFORMED_AVRO);
  }

  @Test
  void shouldRejectWithoutAllocatingWhenAStringLengthIsHuge() {
    // Given a record whose member string claims to be 1 GB long in a few bytes
    Schema schema =
        new Schema.Parser()
            .parse(
                "{\"type\": \"record\", \"name\": \"P\", \"fields\": [{\"name\": \"PERSON_ID\","
                    + " \"type\": \"string\"}]}");
    int id = registry.register("claims.updates-value", schema);
    ByteBuffer value = ByteBuffer.allocate(5 + 5 + 3);
    value.put((byte) 0).putInt(id);
    // zig-zag varint of 1,000,000,000 (2,000,000,000 = 0x77359400, in 7-bit groups)
    value.put(new byte[] {(byte) 0x80, (byte) 0xA8, (byte) 0xD6, (byte) 0xB9, (byte) 0x07});
    value.put(new byte[] {'a', 'b', 'c'});

    // Then it is rejected as malformed
    assertThat(reason(parser.parse(new SourceRecord(null, value.array(), null, null, 0, 0))))
        .isEqualTo(RejectReason.MALFORMED_AVRO);
  }

  @Test
  void shouldRejectAsInvalidUtf8WhenAnAvroStringIsNotUtf8() {
    int id = registry.register("claims.updates-value", DRUG);
    GenericRecord record = drug("42");
    record.put("PERSON_ID", new Utf8(new byte[] {(byte) 0xC3, (byte) 0x28}));
    assertThat(
            reason(
                parser.parse(
                    new SourceRecord(null, ConfluentWire.framed(id, record), null, null, 0, 0))))
        .isEqualTo(RejectReason.INVALID_UTF8);
  }

  @Test
  void shouldThrowForARetryWhenTheRegistryIsUnavailable() {
    // Given a registry answering 503
    registry.unavailable = true;

    // Then the record is neither accepted nor rejected
    assertThatThrownBy(
            () ->
                parser.parse(
                    new SourceRecord(null, ConfluentWire.framed(9, drug("42")), null, null, 0, 0)))
        .isInstanceOf(SchemaUnavailableException.class);
  }

  static GenericRecord drug(String member) {
    GenericRecord substance = new GenericData.Record(DRUG.getField("DRUG").schema());
    substance.put("name", "celecoxib");
    substance.put("codes", List.of(1, 2));
    GenericRecord record = new GenericData.Record(DRUG);
    record.put("ID", 7L);
    record.put("PERSON_ID", member);
    record.put("DRUG", substance);
    record.put("START", 17898); // 2019-01-02
    record.put("EXTRA", "not a column");
    return record;
  }

  /** An in-memory registry that counts schema fetches and can be made unavailable. */
  static final class CountingRegistry implements SchemaRegistryClient {
    final InMemorySchemaRegistryClient delegate = new InMemorySchemaRegistryClient();
    final AtomicInteger fetches = new AtomicInteger();
    volatile boolean unavailable;

    @Override
    public int register(String subject, Schema schema) {
      return delegate.register(subject, schema);
    }

    @Override
    public Schema getById(int id) {
      fetches.incrementAndGet();
      if (unavailable) {
        throw new SchemaRegistryException("registry unavailable", 503, 50301);
      }
      return delegate.getById(id);
    }

    @Override
    public OptionalInt lookup(String subject, Schema schema) {
      return delegate.lookup(subject, schema);
    }

    @Override
    public RegisteredSchema latest(String subject) {
      return delegate.latest(subject);
    }
  }
}
