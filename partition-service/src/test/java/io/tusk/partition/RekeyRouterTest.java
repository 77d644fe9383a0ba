package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.member.RejectReason;
import io.tusk.common.member.SchemaUnavailableException;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.Reject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryException;
import io.tusk.testfixtures.ConfluentWire;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The rekeyer's routing of single records (step 2 of the commit protocol), without Kafka. */
class RekeyRouterTest {
  private static final String UPDATES = "claims.updates";
  // The serdes install Avro's trust in Tusk's classes, which the spec copies below need.
  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  private final RepoSpec spec =
      RepoSpec.newBuilder(TopologyFixture.spec("claims")).setMemberPartitions(2).build();
  private final RekeyRouter router = new RekeyRouter(topics);

  @Test
  void shouldForwardARowKeyedByItsMemberWhenItParses() {
    // Given a valid CSV row of table claims at partition 2, offset 7
    ConsumerRecord<byte[], byte[]> record = record(2, 7, "A,a1,10", "claims");

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then one record goes to by-member, keyed by the member, with the row and its provenance
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.FORWARDED);
    assertThat(routing.records()).hasSize(1);
    ProducerRecord<byte[], byte[]> out = routing.records().get(0);
    assertThat(out.topic()).isEqualTo("claims.by-member");
    assertThat(out.partition()).isNull();
    assertThat(topics.byMember("claims").readKey(out.key())).isEqualTo("A");
    assertThat(topics.byMember("claims").readValue(out.value()).getEvent())
        .isEqualTo(new Row("claims", List.of("A", "a1", "10"), 2, 7L));
  }

  @Test
  void shouldSendTheOriginalToRejectedAndANoticeToByMemberWhenARowDoesNotParse() {
    // Given a CSV row with a missing field, a key and a header of its own
    ConsumerRecord<byte[], byte[]> record = record(1, 9, "A,a1", null);
    record.headers().add("trace", "t-1".getBytes(StandardCharsets.UTF_8));

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then the original goes to the same partition of claims.rejected with the reason headers
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.REJECTED);
    assertThat(routing.reason()).isEqualTo("WRONG_FIELD_COUNT");
    assertThat(routing.records()).hasSize(2);
    ProducerRecord<byte[], byte[]> rejected = routing.records().get(0);
    assertThat(rejected.topic()).isEqualTo("claims.rejected");
    assertThat(rejected.partition()).isEqualTo(1);
    assertThat(rejected.key()).isEqualTo(record.key());
    assertThat(rejected.value()).isEqualTo(record.value());
    assertThat(Headers.text(rejected.headers(), "trace")).isEqualTo("t-1");
    assertThat(Headers.text(rejected.headers(), Headers.REJECT_REASON))
        .isEqualTo("WRONG_FIELD_COUNT");
    assertThat(Headers.text(rejected.headers(), Headers.REJECT_DETAIL)).contains("expected 3");
    assertThat(Headers.text(rejected.headers(), Headers.SOURCE_TOPIC)).isEqualTo(UPDATES);
    assertThat(Headers.text(rejected.headers(), Headers.SOURCE_PARTITION)).isEqualTo("1");
    assertThat(Headers.text(rejected.headers(), Headers.SOURCE_OFFSET)).isEqualTo("9");
    assertThat(Headers.text(rejected.headers(), Headers.TABLE)).isEqualTo("claims");
    // And a keyless notice goes to by-member partition 1 % 2
    ProducerRecord<byte[], byte[]> notice = routing.records().get(1);
    assertThat(notice.topic()).isEqualTo("claims.by-member");
    assertThat(notice.partition()).isEqualTo(1);
    assertThat(notice.key()).isNull();
    assertThat(topics.byMember("claims").readValue(notice.value()).getEvent())
        .isEqualTo(new Reject(1, 9L, "WRONG_FIELD_COUNT"));
  }

  @Test
  void shouldRouteTheNoticeModuloMemberPartitionsWhenTheSourcePartitionIsLarger() {
    // Given an empty record at partition 2
    ConsumerRecord<byte[], byte[]> record = record(2, 0, "", null);

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then its notice goes to by-member partition 2 % 2
    assertThat(routing.reason()).isEqualTo("EMPTY_VALUE");
    assertThat(routing.records().get(1).partition()).isZero();
  }

  @Test
  void shouldWriteNothingWhenTheRecordIsACsvHeaderLine() {
    // Given the header line of table claims
    ConsumerRecord<byte[], byte[]> record = record(0, 0, "PERSON_ID,CLAIM_ID,AMOUNT", "claims");

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then nothing is written
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.SKIPPED);
    assertThat(routing.records()).isEmpty();
  }

  @Test
  void shouldRejectARecordWhenTheParserItselfFails() {
    // Given a repo spec the parser cannot even be built from (member key is not a column)
    RepoSpec broken =
        RepoSpec.newBuilder(spec)
            .setTables(
                List.of(
                    TableSpec.newBuilder()
                        .setName("claims")
                        .setColumns(List.of("X"))
                        .setMemberKey("PERSON_ID")
                        .setRowKey(List.of())
                        .build()))
            .build();

    // When a record is routed
    RekeyRouter.Routing routing = router.route(record(0, 3, "A", null), "claims", broken);

    // Then it is rejected, not thrown
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.REJECTED);
    assertThat(routing.reason()).isEqualTo(RejectReason.UNPARSEABLE.name());
    assertThat(routing.records()).hasSize(2);
    assertThat(Headers.text(routing.records().get(0).headers(), Headers.REJECT_DETAIL))
        .contains("IllegalArgumentException");
  }

  @Test
  void shouldRejectWithoutANoticeWhenTheRepoIsUnknown() {
    // Given a record of a repo whose spec is unknown
    ConsumerRecord<byte[], byte[]> record = record(0, 3, "A,a1,10", null);

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", null);

    // Then it only goes to the rejected topic
    assertThat(routing.reason()).isEqualTo(RejectReason.UNKNOWN_REPO.name());
    assertThat(routing.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("claims.rejected");
  }

  @Test
  void shouldRejectWithoutCopyingTheValueWhenTheRowIsTooLarge() {
    // Given a valid row just under the parser's limit, too large for one Kafka record
    String amount = "9".repeat(RekeyRouter.MAX_RECORD_BYTES);
    ConsumerRecord<byte[], byte[]> record = record(0, 4, "A,a1," + amount, null);

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then it is rejected as too large, its copy keeps the headers but not the value
    assertThat(routing.reason()).isEqualTo("ROW_TOO_LARGE");
    ProducerRecord<byte[], byte[]> rejected = routing.records().get(0);
    assertThat(rejected.value()).isNull();
    assertThat(Headers.text(rejected.headers(), Headers.REJECT_DETAIL)).contains("value omitted");
    assertThat(Headers.text(rejected.headers(), Headers.SOURCE_OFFSET)).isEqualTo("4");
  }

  @Test
  void shouldForwardAJsonRowWhenItsFormatHeaderOverridesTheCsvRepo() {
    // Given a JSON record with tusk.format=json on a CSV repo
    ConsumerRecord<byte[], byte[]> record =
        record(UPDATES, 0, 5, null, utf8("{\"PERSON_ID\": \"A\", \"CLAIM_ID\": \"a1\"}"));
    record.headers().add(Headers.FORMAT, Headers.bytes("json"));

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then it is a row of member A
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.FORWARDED);
    assertThat(topics.byMember("claims").readValue(routing.records().get(0).value()).getEvent())
        .isEqualTo(row("claims", 0, 5, "A", "a1", null));
  }

  @Test
  void shouldForwardAnAvroRowWhenItsWriterSchemaIsInTheRegistry() {
    // Given an Avro record of a schema registered under any subject, on a CSV repo
    Schema schema =
        SchemaBuilder.record("Claim")
            .fields()
            .requiredString("PERSON_ID")
            .requiredString("CLAIM_ID")
            .requiredInt("AMOUNT")
            .endRecord();
    int id = topics.registry().register("any-subject", schema);
    GenericRecord claim = new GenericData.Record(schema);
    claim.put("PERSON_ID", "A");
    claim.put("CLAIM_ID", "a1");
    claim.put("AMOUNT", 10);
    ConsumerRecord<byte[], byte[]> record =
        record(UPDATES, 1, 2, null, ConfluentWire.framed(id, claim));
    record.headers().add(Headers.FORMAT, Headers.bytes("avro"));

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "claims", spec);

    // Then it is a row with the fields as columns
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.FORWARDED);
    assertThat(topics.byMember("claims").readValue(routing.records().get(0).value()).getEvent())
        .isEqualTo(row("claims", 1, 2, "A", "a1", "10"));
  }

  @Test
  void shouldRouteAnOutputToTheDerivedRepoByItsMemberKeyFieldWhenADerivedRepoReadsIt() {
    // Given an output of upstream member m1 naming patient 42, on the topic risk-by-patient reads
    RepoSpec derived = IngestFixtures.derived("risk-by-patient", "risk", "PATIENT", 2);
    String data = "{\"PATIENT\": 42}";
    ConsumerRecord<byte[], byte[]> record =
        record(
            "risk.output",
            1,
            4,
            utf8("m1"),
            IngestFixtures.outputBytes(topics, "risk", "m1", data));

    // When it is routed for the derived repo
    RekeyRouter.Routing routing = router.route(record, "risk-by-patient", derived);

    // Then a row [member, PATIENT, data] goes to risk-by-patient.by-member keyed by 42
    ProducerRecord<byte[], byte[]> out = routing.records().get(0);
    assertThat(out.topic()).isEqualTo("risk-by-patient.by-member");
    assertThat(topics.byMember("risk-by-patient").readKey(out.key())).isEqualTo("42");
    assertThat(topics.byMember("risk-by-patient").readValue(out.value()).getEvent())
        .isEqualTo(row("output", 1, 4, "m1", "42", data));
  }

  @Test
  void shouldDeleteTheUpstreamMembersRowWhenADerivedRepoReadsATombstone() {
    // Given a tombstone (a removed member's output) on risk.output
    RepoSpec derived = IngestFixtures.derived("risk-by-patient", "risk", "PATIENT", 2);
    ConsumerRecord<byte[], byte[]> record = record("risk.output", 1, 9, utf8("m1"), null);

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "risk-by-patient", derived);

    // Then a delete of the row keyed m1 goes to the member side, whatever member holds it
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.FORWARDED);
    assertThat(routing.records()).hasSize(1);
    ProducerRecord<byte[], byte[]> out = routing.records().get(0);
    assertThat(out.topic()).isEqualTo("risk-by-patient.by-member");
    assertThat(out.partition()).isEqualTo(1);
    assertThat(topics.byMember("risk-by-patient").readValue(out.value()).getEvent())
        .isEqualTo(
            RowDelete.newBuilder()
                .setTable("output")
                .setRowKey(List.of("m1"))
                .setSourcePartition(1)
                .setSourceOffset(9)
                .build());
  }

  @Test
  void shouldCarryTheErasureRequestWhenTheTombstoneIsAnErasures() {
    // Given the tombstone of an erased member's removal datum (header tusk.erasure)
    RepoSpec derived = IngestFixtures.derived("risk-by-patient", "risk", "PATIENT", 2);
    ConsumerRecord<byte[], byte[]> record = record("risk.output", 0, 3, utf8("m1"), null);
    record.headers().add(Headers.ERASURE, utf8("erasure-7"));

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "risk-by-patient", derived);

    // Then the delete names the request
    Object event =
        topics.byMember("risk-by-patient").readValue(routing.records().get(0).value()).getEvent();
    assertThat(((RowDelete) event).getErasure()).isEqualTo("erasure-7");
  }

  @Test
  void shouldSkipARollMarkerWithoutDeletingAnything() {
    // Given a roll marker (a tombstone of a reserved key with header tusk.roll) on risk.output
    RepoSpec derived = IngestFixtures.derived("risk-by-patient", "risk", "PATIENT", 2);
    ConsumerRecord<byte[], byte[]> record =
        record("risk.output", 0, 4, utf8("\u0000tusk-roll"), null);
    record.headers().add(Headers.ROLL, new byte[] {1});

    // When it is routed
    RekeyRouter.Routing routing = router.route(record, "risk-by-patient", derived);

    // Then nothing is written
    assertThat(routing.outcome()).isEqualTo(RekeyRouter.Outcome.SKIPPED);
    assertThat(routing.records()).isEmpty();
  }

  @Test
  void shouldCopyARejectToAnExistingPartitionWhenTheSourceHasMorePartitionsThanTheRepo() {
    // Given a repo with 3 update partitions and a bad record from source partition 4
    ConsumerRecord<byte[], byte[]> record = record(UPDATES, 4, 0, null, utf8("A"));

    // When it is routed, Then its copy goes to partition 4 % 3
    assertThat(router.route(record, "claims", spec).records().get(0).partition()).isEqualTo(1);
  }

  @Test
  void shouldThrowForARetryWhenTheRegistryIsUnavailable() {
    // Given a router whose registry cannot be reached
    InMemorySchemaRegistryClient working = new InMemorySchemaRegistryClient();
    SchemaRegistryClient down =
        new SchemaRegistryClient() {
          @Override
          public int register(String subject, Schema schema) {
            return working.register(subject, schema);
          }

          @Override
          public Schema getById(int id) {
            throw new SchemaRegistryException("connection refused", -1, -1);
          }

          @Override
          public OptionalInt lookup(String subject, Schema schema) {
            return working.lookup(subject, schema);
          }

          @Override
          public RegisteredSchema latest(String subject) {
            return working.latest(subject);
          }
        };
    RekeyRouter unreachable = new RekeyRouter(new Topics(down));
    ConsumerRecord<byte[], byte[]> record =
        record(UPDATES, 0, 0, null, new byte[] {0, 0, 0, 0, 7, 2, 'A'});
    record.headers().add(Headers.FORMAT, Headers.bytes("avro"));

    // Then routing an Avro record throws instead of rejecting it
    assertThatThrownBy(() -> unreachable.route(record, "claims", spec))
        .isInstanceOf(SchemaUnavailableException.class);
  }

  @Test
  void shouldWriteTheBarrierToEveryMemberPartitionWhenAPositionIsAnnounced() {
    // Given a repo with three member partitions
    RepoSpec three = RepoSpec.newBuilder(spec).setMemberPartitions(3).build();

    // When the barrier of source partition 1 at position 42 is made
    List<ProducerRecord<byte[], byte[]>> barriers = router.barriers(three, 1, 42);

    // Then each member partition gets it, without a key
    assertThat(barriers).extracting(ProducerRecord::partition).containsExactly(0, 1, 2);
    assertThat(barriers)
        .allSatisfy(
            b -> {
              assertThat(b.topic()).isEqualTo("claims.by-member");
              assertThat(b.key()).isNull();
              assertThat(topics.byMember("claims").readValue(b.value()).getEvent())
                  .isEqualTo(new Barrier(1, 42L));
            });
  }

  private static ConsumerRecord<byte[], byte[]> record(
      String topic, int partition, long offset, byte[] key, byte[] value) {
    return new ConsumerRecord<>(
        topic,
        partition,
        offset,
        0L,
        TimestampType.CREATE_TIME,
        key == null ? 0 : key.length,
        value == null ? 0 : value.length,
        key,
        value,
        new RecordHeaders(),
        Optional.empty());
  }

  private static Row row(String table, int partition, long offset, String... values) {
    return Row.newBuilder()
        .setTable(table)
        .setValues(Arrays.asList(values))
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .build();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static ConsumerRecord<byte[], byte[]> record(
      int partition, long offset, String value, String table) {
    RecordHeaders headers = new RecordHeaders();
    if (table != null) {
      headers.add(Headers.TABLE, Headers.bytes(table));
    }
    byte[] key = "k".getBytes(StandardCharsets.UTF_8);
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    return new ConsumerRecord<>(
        UPDATES,
        partition,
        offset,
        0L,
        TimestampType.CREATE_TIME,
        key.length,
        bytes.length,
        key,
        bytes,
        headers,
        Optional.empty());
  }
}
