package io.tusk.common.member;

import static io.tusk.common.member.RowParserTest.reason;
import static io.tusk.common.member.RowParserTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A derived repo's rows: a pipeline's outputs, re-keyed by a field of their data. */
class RowParserOutputTest {
  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  private final RowParser parser = new RowParser(Fixtures.derived(), topics.registry());

  @Test
  void shouldMakeARowOfMemberKeyFieldAndDataWhenAnOutputArrives() {
    // Given an output of upstream member P1 whose data names patient 42
    String data = "{\"PATIENT\": 42, \"risk\": 0.5}";

    // When it is parsed (the record key is the upstream member)
    ParseResult result = parser.parse(new SourceRecord(utf8("P1"), output(data), null, null, 1, 8));

    // Then it is a row of member 42 in table output: [member, PATIENT, data]
    ParseResult.Accepted accepted = (ParseResult.Accepted) result;
    assertThat(accepted.member()).isEqualTo("42");
    assertThat(accepted.row().getTable()).isEqualTo("output");
    assertThat(accepted.row().getValues()).containsExactly("P1", "42", data);
    assertThat(accepted.row().getSourcePartition()).isEqualTo(1);
  }

  @Test
  void shouldIgnoreTheFormatHeaderWhenTheRepoIsDerived() {
    ParseResult result =
        parser.parse(
            new SourceRecord(utf8("P1"), output("{\"PATIENT\": \"42\"}"), null, "csv", 0, 0));
    assertThat(result).isInstanceOf(ParseResult.Accepted.class);
  }

  @Test
  void shouldDeleteTheUpstreamMembersRowWhenTheOutputIsRemoved() {
    // Given an output tombstone of upstream member P1
    ParseResult result = parser.parse(new SourceRecord(utf8("P1"), null, null, null, 0, 0));

    // Then it deletes the row keyed by P1, whatever member holds it
    assertThat(result).isEqualTo(new ParseResult.Deleted("output", List.of("P1")));
  }

  @Test
  void shouldRejectAnOutputTombstoneWithoutKey() {
    assertThat(reason(parser.parse(new SourceRecord(null, null, null, null, 0, 0))))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
  }

  @Test
  void shouldRejectAsMissingMemberFieldWhenTheDataLacksTheMemberKey() {
    assertThat(
            reason(
                parser.parse(
                    new SourceRecord(utf8("P1"), output("{\"risk\": 1}"), null, null, 0, 0))))
        .isEqualTo(RejectReason.MISSING_MEMBER_FIELD);
  }

  @Test
  void shouldRejectWhenTheDataIsNotAJsonObject() {
    assertThat(reason(parser.parse(new SourceRecord(utf8("P1"), output("a,b"), null, null, 0, 0))))
        .isEqualTo(RejectReason.MALFORMED_JSON);
    assertThat(reason(parser.parse(new SourceRecord(utf8("P1"), output("[1]"), null, null, 0, 0))))
        .isEqualTo(RejectReason.NOT_A_JSON_OBJECT);
  }

  @Test
  void shouldRejectAsMissingMemberKeyWhenTheOutputHasNoKey() {
    assertThat(
            reason(
                parser.parse(
                    new SourceRecord(null, output("{\"PATIENT\": 42}"), null, null, 0, 0))))
        .isEqualTo(RejectReason.MISSING_MEMBER_KEY);
  }

  @Test
  void shouldRejectAsMalformedAvroWhenTheValueIsNotAnOutput() {
    assertThat(reason(parser.parse(new SourceRecord(utf8("P1"), utf8("{}"), null, null, 0, 0))))
        .isEqualTo(RejectReason.MALFORMED_AVRO);
  }

  private byte[] output(String data) {
    Output output =
        Output.newBuilder()
            .setPipeline("risk")
            .setMember("P1")
            .setJobId("job-1")
            .setCommitId("commit-1")
            .setGlobalId("commit-1")
            .setDatumHash("d1")
            .setContentType("application/json")
            .setData(ByteBuffer.wrap(utf8(data)))
            .setOutputHash("h1")
            .setInputs(List.of())
            .build();
    return topics.output("risk").value(output);
  }
}
