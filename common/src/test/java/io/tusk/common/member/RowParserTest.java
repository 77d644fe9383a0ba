package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.RowFormat;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CSV and JSON rows, column types and the reject classes they share with every format. */
class RowParserTest {
  private final RowParser csv = new RowParser(Fixtures.repo(RowFormat.CSV));
  private final RowParser json = new RowParser(Fixtures.repo(RowFormat.JSON));
  private final RowParser typed =
      new RowParser(
          Fixtures.repo(RowFormat.CSV, Map.of("ID", "long", "START", "date", "DRUG", "string")));

  @Test
  void shouldAcceptCsvRowOfDefaultTableWithMemberAndProvenance() {
    // When a bare CSV line arrives without a table header
    ParseResult result = csv.parse(utf8("7,42,celecoxib,2019-01-02"), null, 2, 99);

    // Then it is a DRUG row of member 42 that remembers where it came from
    assertThat(result).isInstanceOf(ParseResult.Accepted.class);
    ParseResult.Accepted accepted = (ParseResult.Accepted) result;
    assertThat(accepted.member()).isEqualTo("42");
    assertThat(accepted.row().getTable()).isEqualTo("DRUG");
    assertThat(accepted.row().getValues()).containsExactly("7", "42", "celecoxib", "2019-01-02");
    assertThat(accepted.row().getSourcePartition()).isEqualTo(2);
    assertThat(accepted.row().getSourceOffset()).isEqualTo(99L);
  }

  @Test
  void shouldUseTableHeaderWhenPresent() {
    ParseResult result = csv.parse(utf8("42,hello"), "NOTE", 0, 0);
    assertThat(((ParseResult.Accepted) result).row().getTable()).isEqualTo("NOTE");
  }

  @Test
  void shouldSkipHeaderLineWhenItEqualsTheColumnNames() {
    assertThat(csv.parse(utf8("ID,PERSON_ID,DRUG,START"), null, 0, 0))
        .isInstanceOf(ParseResult.Skipped.class);
  }

  @Test
  void shouldReadJsonObjectsByColumnNameWhenTheRepoIsJson() {
    // When an object with a number, a missing column and a nested value arrives
    ParseResult result =
        json.parse(
            utf8("{\"PERSON_ID\": 42, \"ID\": \"7\", \"DRUG\": {\"name\": \"naproxen\"}}"),
            null,
            1,
            5);

    // Then scalars are their text, the missing column null, the nested value JSON text
    assertThat(((ParseResult.Accepted) result).row().getValues())
        .containsExactly("7", "42", "{\"name\":\"naproxen\"}", null);
  }

  @Test
  void shouldParseAsTheHeaderSaysWhenARecordOverridesTheRepoFormat() {
    // Given a CSV repo, When a JSON record with tusk.format=json arrives (and a CSV one to a JSON
    // repo)
    ParseResult fromJson =
        csv.parse(
            new SourceRecord(null, utf8("{\"PERSON_ID\": \"42\", \"ID\": 7}"), null, "JSON", 0, 1));
    ParseResult fromCsv =
        json.parse(new SourceRecord(null, utf8("7,42,x,2019-01-02"), null, "csv", 0, 2));

    // Then both are rows
    assertThat(((ParseResult.Accepted) fromJson).row().getValues())
        .containsExactly("7", "42", null, null);
    assertThat(((ParseResult.Accepted) fromCsv).member()).isEqualTo("42");
  }

  @Test
  void shouldAcceptTypedValuesWhenTheyParse() {
    assertThat(typed.parse(utf8("7,42,celecoxib,2019-01-02"), null, 0, 0))
        .isInstanceOf(ParseResult.Accepted.class);
    // An absent value is null, not a wrong type
    assertThat(typed.parse(utf8("7,42,celecoxib,"), null, 0, 0))
        .isInstanceOf(ParseResult.Accepted.class);
  }

  @Test
  void shouldRejectAsWrongTypeNamingTheColumnWhenAValueDoesNotParse() {
    // When a row's START is not a date
    ParseResult.Rejected rejected =
        rejected(typed.parse(utf8("7,42,celecoxib,2019-13-45"), null, 0, 0));

    // Then it is WRONG_TYPE, and the detail names the column but not the value
    assertThat(rejected.reason()).isEqualTo(RejectReason.WRONG_TYPE);
    assertThat(rejected.detail()).contains("START").contains("date").doesNotContain("2019-13-45");
    assertThat(reason(typed.parse(utf8("seven,42,celecoxib,2019-01-02"), null, 0, 0)))
        .isEqualTo(RejectReason.WRONG_TYPE);
  }

  @Test
  void shouldRejectEveryRowOfATableWhenItsSpecNamesAnUnknownType() {
    RowParser parser = new RowParser(Fixtures.repo(RowFormat.CSV, Map.of("ID", "integer")));
    ParseResult.Rejected rejected =
        rejected(parser.parse(utf8("7,42,celecoxib,2019-01-02"), null, 0, 0));
    assertThat(rejected.reason()).isEqualTo(RejectReason.UNPARSEABLE);
    assertThat(rejected.detail()).contains("ID").contains("integer");
  }

  @Test
  void shouldRejectAsMalformedCsvWhenQuotesAreUnbalanced() {
    assertThat(reason(csv.parse(utf8("7,42,\"celecoxib,2019"), null, 0, 0)))
        .isEqualTo(RejectReason.MALFORMED_CSV);
  }

  @Test
  void shouldRejectAsWrongFieldCountWhenACsvLineHasTooFewFields() {
    assertThat(reason(csv.parse(utf8("7,42,celecoxib"), null, 0, 0)))
        .isEqualTo(RejectReason.WRONG_FIELD_COUNT);
  }

  @Test
  void shouldRejectAsMissingMemberKeyWhenTheMemberValueIsEmpty() {
    assertThat(reason(csv.parse(utf8("7,,celecoxib,2019-01-02"), null, 0, 0)))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
    assertThat(reason(csv.parse(utf8("7,\" \",celecoxib,2019-01-02"), null, 0, 0)))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
    assertThat(reason(json.parse(utf8("{\"PERSON_ID\": null}"), null, 0, 0)))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
  }

  @Test
  void shouldRejectAsMissingMemberFieldWhenAJsonObjectLacksIt() {
    assertThat(reason(json.parse(utf8("{\"ID\": 1}"), null, 0, 0)))
        .isEqualTo(RejectReason.MISSING_MEMBER_FIELD);
  }

  @Test
  void shouldRejectAsNotAJsonObjectWhenTheJsonIsAnArray() {
    assertThat(reason(json.parse(utf8("[1,2]"), null, 0, 0)))
        .isEqualTo(RejectReason.NOT_A_JSON_OBJECT);
    assertThat(reason(json.parse(utf8("\"text\""), null, 0, 0)))
        .isEqualTo(RejectReason.NOT_A_JSON_OBJECT);
  }

  @Test
  void shouldRejectAsMalformedJsonWhenTheTextIsNotJson() {
    assertThat(reason(json.parse(utf8("{\"PERSON_ID\": "), null, 0, 0)))
        .isEqualTo(RejectReason.MALFORMED_JSON);
  }

  @Test
  void shouldRejectAsInvalidUtf8WhenTheBytesAreNotUtf8() {
    byte[] bad = {(byte) 0xC3, (byte) 0x28};
    assertThat(reason(csv.parse(bad, null, 0, 0))).isEqualTo(RejectReason.INVALID_UTF8);
    assertThat(reason(json.parse(bad, null, 0, 0))).isEqualTo(RejectReason.INVALID_UTF8);
  }

  @Test
  void shouldRejectAsEmptyValueWhenTheValueIsNullEmptyOrBlank() {
    assertThat(reason(csv.parse(new byte[0], null, 0, 0))).isEqualTo(RejectReason.EMPTY_VALUE);
    assertThat(reason(csv.parse(null, null, 0, 0))).isEqualTo(RejectReason.EMPTY_VALUE);
    assertThat(reason(json.parse(utf8("  \n"), null, 0, 0))).isEqualTo(RejectReason.EMPTY_VALUE);
  }

  @Test
  void shouldRejectAsRowTooLargeWhenTheValueIsOverTheLimit() {
    assertThat(reason(csv.parse(new byte[RowParser.MAX_ROW_BYTES + 1], null, 0, 0)))
        .isEqualTo(RejectReason.ROW_TOO_LARGE);
  }

  @Test
  void shouldRejectAsUnknownTableWhenTheHeaderNamesNone() {
    assertThat(reason(csv.parse(utf8("42,x"), "LAB", 0, 0))).isEqualTo(RejectReason.UNKNOWN_TABLE);
  }

  @Test
  void shouldRejectAsUnknownFormatWhenTheFormatHeaderIsNotCsvJsonOrAvro() {
    assertThat(reason(csv.parse(new SourceRecord(null, utf8("7,42,x,y"), null, "xml", 0, 0))))
        .isEqualTo(RejectReason.UNKNOWN_FORMAT);
  }

  @Test
  void shouldNeverQuoteRowContentInRejectDetail() {
    ParseResult.Rejected rejected = rejected(csv.parse(utf8("7,42,secret-drug"), null, 0, 0));
    assertThat(rejected.detail()).doesNotContain("secret-drug").doesNotContain("42");
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static ParseResult.Rejected rejected(ParseResult result) {
    assertThat(result).isInstanceOf(ParseResult.Rejected.class);
    return (ParseResult.Rejected) result;
  }

  static RejectReason reason(ParseResult result) {
    return rejected(result).reason();
  }
}
