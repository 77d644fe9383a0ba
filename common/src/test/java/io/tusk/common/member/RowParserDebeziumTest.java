package io.tusk.common.member;

import static io.tusk.common.member.DebeziumFixtures.event;
import static io.tusk.common.member.DebeziumFixtures.utf8;
import static io.tusk.common.member.RowParserTest.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.DebeziumFixtures.Drug;
import io.tusk.common.member.DebeziumFixtures.Encoding;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Debezium change events in JSON with and without schemas and in Avro. */
class RowParserDebeziumTest {
  private static final Drug ASPIRIN =
      new Drug(
          7,
          42,
          "aspirin",
          LocalDate.of(2019, 1, 2),
          LocalDateTime.of(2019, 1, 2, 3, 4, 5, 123_000_000),
          new BigDecimal("12.50"));
  private static final Drug ASPIRIN_MORE =
      new Drug(7, 42, "aspirin", LocalDate.of(2019, 1, 2), null, new BigDecimal("-0.05"));

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final RowParser parser = new RowParser(DebeziumFixtures.repo(), registry);

  @ParameterizedTest
  @ValueSource(strings = {"c", "r", "u"})
  void shouldAcceptTheRowAfterWhenTheOpWritesIt(String op) {
    for (Encoding encoding : Encoding.values()) {
      // Given an insert, a snapshot read or an update of drug_exposure row 7 of person 42
      byte[] value =
          event(
              encoding,
              registry,
              op,
              "drug_exposure",
              op.equals("u") ? ASPIRIN_MORE : null,
              ASPIRIN);

      // When it is parsed
      ParseResult result = parser.parse(new SourceRecord(null, value, null, null, 2, 11));

      // Then it is the row of after, of its member, typed values decoded, with its source position
      assertThat(result).as(encoding.name()).isInstanceOf(ParseResult.Accepted.class);
      ParseResult.Accepted accepted = (ParseResult.Accepted) result;
      assertThat(accepted.member()).isEqualTo("42");
      assertThat(accepted.row().getTable()).isEqualTo("DRUG_EXPOSURE");
      assertThat(accepted.row().getValues())
          .as(encoding.name())
          .containsExactly("7", "42", "aspirin", "2019-01-02", "2019-01-02T03:04:05.123", "12.50");
      assertThat(accepted.row().getSourcePartition()).isEqualTo(2);
      assertThat(accepted.row().getSourceOffset()).isEqualTo(11L);
    }
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void shouldDeleteByTheRowKeyOfBeforeWhenTheOpIsD(Encoding encoding) {
    // Given a delete whose before holds only the primary key (REPLICA IDENTITY DEFAULT)
    Drug keyOnly = new Drug(7, 0, null, null, null, null);
    byte[] value = event(encoding, registry, "d", "drug_exposure", keyOnly, null);

    // When it is parsed
    ParseResult result = parser.parse(new SourceRecord(null, value, null, null, 0, 3));

    // Then it is a delete by row key: whichever member holds row 7 loses it
    assertThat(result).isEqualTo(new ParseResult.Deleted("DRUG_EXPOSURE", List.of("7")));
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void shouldMoveTheRowWhenThePrimaryKeyChanges(Encoding encoding) {
    // Given Debezium's two events for a primary key change 7 -> 8: d of 7, then c of 8
    Drug moved = new Drug(8, 42, "aspirin", null, null, null);
    ParseResult delete =
        parser.parse(
            new SourceRecord(
                null,
                event(encoding, registry, "d", "drug_exposure", ASPIRIN, null),
                null,
                null,
                0,
                5));
    ParseResult create =
        parser.parse(
            new SourceRecord(
                null,
                event(encoding, registry, "c", "drug_exposure", null, moved),
                null,
                null,
                0,
                6));

    // Then row 7 goes wherever it is and row 8 arrives in the member of its after
    assertThat(delete).isEqualTo(new ParseResult.Deleted("DRUG_EXPOSURE", List.of("7")));
    ParseResult.Accepted accepted = (ParseResult.Accepted) create;
    assertThat(accepted.member()).isEqualTo("42");
    assertThat(accepted.row().getValues()).containsExactly("8", "42", "aspirin", null, null, null);
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void shouldRejectAsUnknownTableWhenTheRepoHasNoSuchTable(Encoding encoding) {
    byte[] value = event(encoding, registry, "c", "visit_occurrence", null, ASPIRIN);

    ParseResult result = parser.parse(new SourceRecord(null, value, null, null, 0, 1));

    assertThat(reason(result)).isEqualTo(RejectReason.UNKNOWN_TABLE);
    assertThat(((ParseResult.Rejected) result).table()).isEqualTo("visit_occurrence");
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void shouldRejectTruncatesAndTablesWithoutRowKey(Encoding encoding) {
    // A truncate is not applied row by row; a table without row key cannot be upserted.
    ParseResult truncate =
        parser.parse(
            new SourceRecord(
                null,
                event(encoding, registry, "t", "drug_exposure", null, null),
                null,
                null,
                0,
                1));
    ParseResult keyless =
        parser.parse(
            new SourceRecord(
                null, event(encoding, registry, "c", "note", null, ASPIRIN), null, null, 0, 2));

    assertThat(reason(truncate)).isEqualTo(RejectReason.UNSUPPORTED_CHANGE);
    assertThat(reason(keyless)).isEqualTo(RejectReason.UNSUPPORTED_CHANGE);
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void shouldRejectADeleteWithoutItsRowKey(Encoding encoding) {
    // REPLICA IDENTITY NOTHING: the delete carries no before.
    ParseResult result =
        parser.parse(
            new SourceRecord(
                null,
                event(encoding, registry, "d", "drug_exposure", null, null),
                null,
                null,
                0,
                1));

    assertThat(reason(result)).isEqualTo(RejectReason.UNSUPPORTED_CHANGE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"debezium", "DEBEZIUM"})
  void shouldSkipTombstonesWhenTheyFollowADelete(String header) {
    // Given a JSON repo that takes Debezium events by the per-record format header
    RowParser json = new RowParser(Fixtures.repo(RowFormat.JSON), registry);
    RowParser cdc = parser;

    // Then the null value after a delete is skipped, as in a debezium repo
    assertThat(json.parse(new SourceRecord(null, null, null, header, 0, 1)))
        .isInstanceOf(ParseResult.Skipped.class);
    assertThat(cdc.parse(new SourceRecord(null, null, null, null, 0, 1)))
        .isInstanceOf(ParseResult.Skipped.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "not json",
        "[1, 2]",
        "{\"payload\": {\"op\": \"c\", \"after\": {\"PERSON_ID\": 1}}, \"schema\": {}}",
        "{\"PERSON_ID\": 1, \"ID\": 2}"
      })
  void shouldRejectWhatIsNotAChangeEvent(String text) {
    ParseResult result = parser.parse(new SourceRecord(null, utf8(text), null, null, 0, 1));

    assertThat(result).isInstanceOf(ParseResult.Rejected.class);
    assertThat(reason(result))
        .isIn(
            RejectReason.MALFORMED_JSON,
            RejectReason.NOT_A_JSON_OBJECT,
            RejectReason.UNSUPPORTED_CHANGE);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // Connect Date, Time and Timestamp (time.precision.mode=connect)
        "org.apache.kafka.connect.data.Date|17898|2019-01-02",
        "org.apache.kafka.connect.data.Time|11045000|03:04:05",
        "org.apache.kafka.connect.data.Timestamp|1546398245000|2019-01-02T03:04:05",
        // Debezium's adaptive precision
        "io.debezium.time.Date|17898|2019-01-02",
        "io.debezium.time.Time|11045123|03:04:05.123",
        "io.debezium.time.MicroTime|11045123456|03:04:05.123456",
        "io.debezium.time.NanoTime|11045123456789|03:04:05.123456789",
        "io.debezium.time.Timestamp|1546398245123|2019-01-02T03:04:05.123",
        "io.debezium.time.MicroTimestamp|1546398245123456|2019-01-02T03:04:05.123456",
        "io.debezium.time.NanoTimestamp|1546398245123456789|2019-01-02T03:04:05.123456789",
        "io.debezium.time.MicroTimestamp|-1000000|1969-12-31T23:59:59",
        // Zoned types are ISO text already
        "io.debezium.time.ZonedTimestamp|\"2019-01-02T03:04:05.1Z\"|2019-01-02T03:04:05.1Z",
        // decimal.handling.mode=precise: base64 unscaled bytes, scale in the parameters
        "org.apache.kafka.connect.data.Decimal|\"BOI=\"|12.50",
        "io.debezium.data.VariableScaleDecimal|{\"scale\":3,\"value\":\"AeI=\"}|0.482",
        // Others keep their JSON text
        "io.debezium.data.Json|\"{\\\"a\\\":1}\"|{\"a\":1}",
        "|true|true"
      })
  void shouldDecodeSemanticTypesWhenTheSchemaNamesThem(String spec) {
    // Given a JSON event whose schema names the type of column drug
    String[] parts = spec.split("\\|", 3);
    String name = parts[0].isEmpty() ? "" : ", \"name\": \"" + parts[0] + "\"";
    String parameters = parts[0].endsWith(".Decimal") ? ", \"parameters\": {\"scale\": \"2\"}" : "";
    String text =
        """
        {"schema": {"type": "struct", "fields": [
           {"type": "struct", "field": "after", "fields": [
             {"type": "int64", "field": "id"}, {"type": "int64", "field": "person_id"},
             {"type": "x", "field": "drug"%s%s}]}]},
         "payload": {"op": "c", "source": {"table": "DRUG_EXPOSURE"},
           "after": {"id": 1, "person_id": 2, "drug": %s}}}
        """
            .formatted(name, parameters, parts[1]);

    // When it is parsed
    ParseResult result = parser.parse(new SourceRecord(null, utf8(text), null, null, 0, 1));

    // Then the column holds the decoded text
    assertThat(result).isInstanceOf(ParseResult.Accepted.class);
    assertThat(((ParseResult.Accepted) result).row().getValues().get(2)).isEqualTo(parts[2]);
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void shouldKeepNullsAndMissingColumnsAsNull(Encoding encoding) {
    Drug sparse = new Drug(9, 43, null, null, null, null);

    ParseResult result =
        parser.parse(
            new SourceRecord(
                null,
                event(encoding, registry, "r", "drug_exposure", null, sparse),
                null,
                null,
                1,
                1));

    assertThat(((ParseResult.Accepted) result).row().getValues())
        .containsExactly("9", "43", null, null, null, null);
  }

  @Test
  void shouldRejectAValueThatIsNotItsColumnsType() {
    // Given a connector that sends timestamps as text a typed column cannot read
    String text =
        """
        {"op": "c", "source": {"table": "drug_exposure"},
         "after": {"id": 1, "person_id": 2, "start_ts": "yesterday"}}
        """;

    ParseResult result = parser.parse(new SourceRecord(null, utf8(text), null, null, 0, 1));

    assertThat(reason(result)).isEqualTo(RejectReason.WRONG_TYPE);
  }

  @Test
  void shouldRejectAnUpdateWhoseUnchangedToastValueWasNotSent() {
    // Given an update of a table with REPLICA IDENTITY DEFAULT whose large text did not change
    String text =
        """
        {"op": "u", "source": {"table": "drug_exposure"},
         "after": {"id": 1, "person_id": 2, "drug": "__debezium_unavailable_value"}}
        """;

    // When it is parsed
    ParseResult result = parser.parse(new SourceRecord(null, utf8(text), null, null, 0, 1));

    // Then it is rejected rather than overwriting the stored text with the placeholder
    assertThat(reason(result)).isEqualTo(RejectReason.UNSUPPORTED_CHANGE);
    assertThat(((ParseResult.Rejected) result).detail()).contains("REPLICA IDENTITY FULL");
  }
}
