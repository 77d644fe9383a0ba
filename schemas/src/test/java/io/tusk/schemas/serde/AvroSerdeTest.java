package io.tusk.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.schemas.Barrier;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Row;
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
    int id = registry.register("old-value", older);
    org.apache.avro.generic.GenericRecord record =
        new org.apache.avro.generic.GenericData.Record(older);
    record.put("sourcePartition", 3);
    record.put("position", 12L);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
    new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(older)
        .write(record, encoder);
    encoder.flush();

    // When the generated class reads it
    Barrier barrier =
        AvroSerde.forValue(registry, Barrier.class).deserialize("old", out.toByteArray());

    // Then the writer schema is resolved against the reader's
    assertThat(barrier).isEqualTo(new Barrier(3, 12L));
    assertThat(List.of(barrier.getSourcePartition())).containsExactly(3);
  }
}
