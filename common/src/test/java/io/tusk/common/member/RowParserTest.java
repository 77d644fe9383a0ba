package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.RowFormat;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RowParserTest {
  private final RowParser csv = new RowParser(Fixtures.repo(RowFormat.CSV));
  private final RowParser json = new RowParser(Fixtures.repo(RowFormat.JSON));

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

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
  void shouldUseTableHeader() {
    ParseResult result = csv.parse(utf8("42,hello"), "NOTE", 0, 0);
    assertThat(((ParseResult.Accepted) result).row().getTable()).isEqualTo("NOTE");
  }

  @Test
  void shouldSkipHeaderLine() {
    assertThat(csv.parse(utf8("ID,PERSON_ID,DRUG,START"), null, 0, 0))
        .isInstanceOf(ParseResult.Skipped.class);
  }

  @Test
  void shouldRejectEachClassOfBadRowWithItsReason() {
    assertThat(reason(csv.parse(utf8("7,42,\"celecoxib,2019"), null, 0, 0)))
        .isEqualTo(RejectReason.MALFORMED_CSV);
    assertThat(reason(csv.parse(utf8("7,42,celecoxib"), null, 0, 0)))
        .isEqualTo(RejectReason.WRONG_FIELD_COUNT);
    assertThat(reason(csv.parse(utf8("7,,celecoxib,2019-01-02"), null, 0, 0)))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
    assertThat(reason(csv.parse(utf8("42,x"), "LAB", 0, 0))).isEqualTo(RejectReason.UNKNOWN_TABLE);
    assertThat(reason(csv.parse(new byte[] {(byte) 0xC3, (byte) 0x28}, null, 0, 0)))
        .isEqualTo(RejectReason.INVALID_UTF8);
    assertThat(reason(csv.parse(new byte[0], null, 0, 0))).isEqualTo(RejectReason.EMPTY_VALUE);
    assertThat(reason(csv.parse(null, null, 0, 0))).isEqualTo(RejectReason.EMPTY_VALUE);
    assertThat(reason(csv.parse(new byte[RowParser.MAX_ROW_BYTES + 1], null, 0, 0)))
        .isEqualTo(RejectReason.ROW_TOO_LARGE);
  }

  @Test
  void shouldNeverQuoteRowContentInRejectDetail() {
    ParseResult.Rejected rejected =
        (ParseResult.Rejected) csv.parse(utf8("7,42,secret-drug"), null, 0, 0);
    assertThat(rejected.detail()).doesNotContain("secret-drug").doesNotContain("42");
  }

  @Test
  void shouldReadJsonObjectsByColumnName() {
    ParseResult result =
        json.parse(utf8("{\"PERSON_ID\": 42, \"ID\": \"7\", \"DRUG\": \"naproxen\"}"), null, 1, 5);
    assertThat(((ParseResult.Accepted) result).row().getValues())
        .containsExactly("7", "42", "naproxen", null);
  }

  @Test
  void shouldRejectJsonThatIsNotAnObject() {
    assertThat(reason(json.parse(utf8("[1,2]"), null, 0, 0)))
        .isEqualTo(RejectReason.NOT_A_JSON_OBJECT);
    assertThat(reason(json.parse(utf8("{\"PERSON_ID\": "), null, 0, 0)))
        .isEqualTo(RejectReason.MALFORMED_JSON);
    assertThat(reason(json.parse(utf8("{\"ID\": 1}"), null, 0, 0)))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
  }

  private static RejectReason reason(ParseResult result) {
    assertThat(result).isInstanceOf(ParseResult.Rejected.class);
    return ((ParseResult.Rejected) result).reason();
  }
}
