package io.tusk.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

class ConfluentWireTest {
  private static final Schema CLAIM =
      SchemaBuilder.record("Claim")
          .fields()
          .requiredString("PERSON_ID")
          .requiredInt("AMOUNT")
          .endRecord();

  @Test
  void shouldPrefixMagicByteAndBigEndianSchemaIdWhenARecordIsFramed() throws Exception {
    // Given a record
    GenericRecord claim = new GenericData.Record(CLAIM);
    claim.put("PERSON_ID", "P001");
    claim.put("AMOUNT", 42);

    // When framed with schema ID 258
    byte[] framed = ConfluentWire.framed(258, claim);

    // Then byte 0 is the magic byte, bytes 1-4 the ID, and the rest decodes back to the record
    assertThat(framed[0]).isZero();
    assertThat(ByteBuffer.wrap(framed, 1, 4).getInt()).isEqualTo(258);
    GenericRecord decoded =
        new GenericDatumReader<GenericRecord>(CLAIM)
            .read(null, DecoderFactory.get().binaryDecoder(framed, 5, framed.length - 5, null));
    assertThat(decoded).isEqualTo(claim);
  }
}
