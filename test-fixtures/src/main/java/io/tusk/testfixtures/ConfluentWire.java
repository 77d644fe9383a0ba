package io.tusk.testfixtures;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/**
 * Avro records as a producer with a Confluent serializer writes them (magic byte 0, the schema ID
 * big-endian, then the Avro binary): for tests that send users' Avro rows under a schema ID of
 * their choosing, registered or not.
 */
public final class ConfluentWire {
  private ConfluentWire() {}

  /** {@code record} in the Confluent wire format with schema ID {@code schemaId}. */
  public static byte[] framed(int schemaId, GenericRecord record) {
    Objects.requireNonNull(record, "record");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(5).put((byte) 0).putInt(schemaId).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
