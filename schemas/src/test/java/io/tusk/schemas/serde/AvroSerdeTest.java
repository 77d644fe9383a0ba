package io.tusk.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.schemas.Barrier;
import io.tusk.schemas.Claim;
import io.tusk.schemas.Claims;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final AvroSerde<MemberEvent> serde = AvroSerde.forValue(registry, MemberEvent.class);

  @Test
  void shouldRoundTripUnionEventsInConfluentWireFormat() {
    // Given a row and a barrier event
    MemberEvent row = new MemberEvent(new Row("DRUG", Arrays.asList("1", null, "x"), 2, 40L));
    MemberEvent barrier = new MemberEvent(new Barrier(1, 77L));

    // When they are serialized for a topic
    byte[] rowBytes = serde.serialize("omop.by-member", row);
    byte[] barrierBytes = serde.serialize("omop.by-member", barrier);

    // Then the payload is framed with magic byte 0 and the registered ID, and decodes back
    assertThat(rowBytes[0]).isEqualTo(WireFormat.MAGIC);
    int id = ByteBuffer.wrap(rowBytes, 1, 4).getInt();
    assertThat(registry.latest("omop.by-member-value").id()).isEqualTo(id);
    assertThat(serde.deserialize("omop.by-member", rowBytes)).isEqualTo(row);
    assertThat(serde.deserialize("omop.by-member", barrierBytes)).isEqualTo(barrier);
  }

  @Test
  void shouldPassNullThroughForTombstones() {
    assertThat(serde.serialize("t", null)).isNull();
    assertThat(serde.deserialize("t", null)).isNull();
  }

  @Test
  void shouldRejectPayloadsThatAreNotWireFormat() {
    assertThatThrownBy(() -> serde.deserialize("t", new byte[] {1, 0, 0, 0, 1, 2}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("magic byte");
    assertThatThrownBy(() -> serde.deserialize("t", new byte[] {0, 0}))
        .isInstanceOf(SerializationException.class);
  }

  @Test
  void shouldFailClearlyOnUnknownSchemaId() {
    assertThatThrownBy(() -> serde.deserialize("t", new byte[] {0, 0, 0, 0, 99, 0}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("99");
  }

  @Test
  void shouldReadDataWrittenWithAnOlderWriterSchema() throws Exception {
    // Given a Barrier written by an older writer that did not know the "position" field's default
    // peers
    Schema older =
        SchemaBuilder.record("Barrier")
            .namespace("io.tusk.schemas")
            .fields()
            .requiredInt("sourcePartition")
            .requiredLong("position")
            .endRecord();
    org.apache.avro.generic.GenericRecord record =
        new org.apache.avro.generic.GenericData.Record(older);
    record.put("sourcePartition", 3);
    record.put("position", 12L);
    byte[] bytes = writtenWith("old", record);

    // When the generated class reads it
    Barrier barrier = AvroSerde.forValue(registry, Barrier.class).deserialize("old", bytes);

    // Then the writer schema is resolved against the reader's
    assertThat(barrier).isEqualTo(new Barrier(3, 12L));
    assertThat(List.of(barrier.getSourcePartition())).containsExactly(3);
  }

  @Test
  void shouldWriteAvrosReferenceBytesForNestedRecordsArraysAndUnions() throws Exception {
    // Given records whose generated coders nest: a member with rows (arrays of nullable strings),
    // and a batch of claims inside a union
    AvroSerde<MemberObject> members = AvroSerde.forValue(registry, MemberObject.class);
    MemberObject member =
        new MemberObject(
            "omop",
            "M1",
            "h",
            "c1",
            4L,
            List.of(
                new Row("DRUG", Arrays.asList("1", null, "é"), 0, 1L),
                new Row("COND", List.of(), 1, 2L)),
            2L,
            0);
    AvroSerde<RowOwnerEvent> owners = AvroSerde.forValue(registry, RowOwnerEvent.class);
    RowOwnerEvent claims =
        new RowOwnerEvent(
            new Claims(
                List.of(
                    new Claim("DRUG", Arrays.asList("k", null), "M1", 4L, 2, 0, 9L, false, null),
                    new Claim("DRUG", List.of("j"), "", 4L, 2, 1, 3L, true, "erasure-1"))));

    // When they are serialized
    byte[] memberBytes = members.serialize("m", member);
    byte[] claimBytes = owners.serialize("o", claims);

    // Then the bytes are those of Avro's schema-walking writer, and they decode back
    assertReferenceBytes(members, "m", memberBytes, member, MemberObject.class);
    assertReferenceBytes(owners, "o", claimBytes, claims, RowOwnerEvent.class);
  }

  @Test
  void shouldResolveAWriterSchemaWithItsFieldsInAnotherOrder() throws Exception {
    // Given a Row written by a writer whose schema lists the fields in another order
    Schema reordered =
        SchemaBuilder.record("Row")
            .namespace("io.tusk.schemas")
            .fields()
            .requiredLong("sourceOffset")
            .name("values")
            .type()
            .array()
            .items()
            .nullable()
            .stringType()
            .noDefault()
            .requiredString("table")
            .requiredInt("sourcePartition")
            .endRecord();
    org.apache.avro.generic.GenericRecord record =
        new org.apache.avro.generic.GenericData.Record(reordered);
    record.put("sourceOffset", 41L);
    record.put("values", Arrays.asList("a", null));
    record.put("table", "DRUG");
    record.put("sourcePartition", 5);
    byte[] bytes = writtenWith("reordered", record);

    // When the generated class reads it (its generated decoder, with the fields resolved by name)
    Row row = AvroSerde.forValue(registry, Row.class).deserialize("reordered", bytes);

    // Then every field lands where its name says
    assertThat(row).isEqualTo(new Row("DRUG", Arrays.asList("a", null), 5, 41L));
  }

  /** {@code record} as a writer with its schema frames it, the schema registered for topic. */
  private byte[] writtenWith(String topic, org.apache.avro.generic.GenericRecord record)
      throws Exception {
    int id = registry.register(topic + "-value", record.getSchema());
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
    new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(
            record.getSchema())
        .write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  /** {@code bytes} are Avro's reference encoding of {@code value}, and decode back to it. */
  private <T extends org.apache.avro.specific.SpecificRecord> void assertReferenceBytes(
      AvroSerde<T> serde, String topic, byte[] bytes, T value, Class<T> type) throws Exception {
    assertThat(bytes).isEqualTo(reference(topic, value, type));
    assertThat(serde.deserialize(topic, bytes)).isEqualTo(value);
  }

  /** The Confluent framing and Avro's reference (direct, unbuffered) encoding of {@code value}. */
  private <T extends org.apache.avro.specific.SpecificRecord> byte[] reference(
      String topic, T value, Class<T> type) throws Exception {
    int id = registry.latest(topic + "-value").id();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    var encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(out, null);
    new org.apache.avro.specific.SpecificDatumWriter<T>(type).write(value, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static MemberEvent row(String table, String value) {
    return new MemberEvent(new Row(table, Arrays.asList("1", null, value), 2, 40L));
  }

  @Test
  void shouldWriteAvrosReferenceBytesAfterAFailedRecordAndAfterALargeOne() throws Exception {
    // Given a record that fails half-way (a null table), a large one (2 MiB) and a small one
    MemberEvent small = row("DRUG", "é ü 漢");
    serde.serialize("t", small);
    assertThatThrownBy(() -> serde.serialize("t", row(null, "x")))
        .isInstanceOf(SerializationException.class);
    MemberEvent large = row("DRUG", "x".repeat(2 << 20));

    // When they are serialized one after the other on the same thread
    byte[] largeBytes = serde.serialize("t", large);
    byte[] smallBytes = serde.serialize("t", small);

    // Then each is exactly Avro's reference encoding (no byte of the failed one is left over) and
    // decodes back
    assertReferenceBytes(serde, "t", largeBytes, large, MemberEvent.class);
    assertReferenceBytes(serde, "t", smallBytes, small, MemberEvent.class);
  }

  @Test
  void shouldEncodeAndDecodeOnSeveralThreadsAtOnce() throws Exception {
    // Given 4 threads sharing the serde, each with its own records
    serde.serialize("t", row("DRUG", "warm-up"));
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        String table = "T" + t;
        results.add(
            threads.submit(
                () -> {
                  // When each encodes and decodes 2,000 records of varying size
                  int matched = 0;
                  for (int i = 0; i < 2000; i++) {
                    MemberEvent event = row(table, "v".repeat(i % 300) + i);
                    if (serde.deserialize("t", serde.serialize("t", event)).equals(event)) {
                      matched++;
                    }
                  }
                  return matched;
                }));
      }
      // Then every record comes back as it was
      for (java.util.concurrent.Future<Integer> result : results) {
        assertThat(result.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(2000);
      }
    } finally {
      threads.shutdownNow();
    }
  }
}
