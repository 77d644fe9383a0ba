package io.tusk.schemas.serde;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema ID (big-endian), then
 * the Avro binary encoding of the value.
 */
public final class WireFormat {
  /** The only magic byte defined by the format. */
  public static final byte MAGIC = 0;

  /** Length of the prefix before the Avro payload. */
  public static final int PREFIX_LENGTH = 5;

  private WireFormat() {}

  /** Reads the schema ID of a framed payload, failing clearly on anything else. */
  public static int schemaId(byte[] data) {
    if (data.length < PREFIX_LENGTH) {
      throw new SerializationException(
          "not Confluent wire format: " + data.length + " bytes, need at least " + PREFIX_LENGTH);
    }
    if (data[0] != MAGIC) {
      throw new SerializationException("not Confluent wire format: magic byte " + data[0]);
    }
    return ByteBuffer.wrap(data, 1, 4).getInt();
  }
}
