package io.tusk.commit;

import io.tusk.schemas.serde.TrustedClasses;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Plain Avro binary of one generated class, with this build's schema on both sides: the compact
 * form in which the commit service keeps commits and jobs in memory (a few hundred bytes each,
 * several times less than the decoded objects), decoded again when a request reads them.
 */
final class AvroBytes<T extends SpecificRecord> {
  static {
    TrustedClasses.install();
  }

  private final SpecificDatumWriter<T> writer;
  private final SpecificDatumReader<T> reader;

  private AvroBytes(Schema schema) {
    this.writer = new SpecificDatumWriter<>(schema);
    this.reader = new SpecificDatumReader<>(schema);
  }

  /** The codec of {@code type}. */
  static <T extends SpecificRecord> AvroBytes<T> of(Class<T> type) {
    return new AvroBytes<>(SpecificData.get().getSchema(Objects.requireNonNull(type, "type")));
  }

  byte[] encode(T value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(value, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode " + value.getSchema().getName(), e);
    }
    return out.toByteArray();
  }

  T decode(byte[] bytes) {
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
    try {
      return reader.read(null, decoder);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot decode a record this process encoded", e);
    }
  }
}
