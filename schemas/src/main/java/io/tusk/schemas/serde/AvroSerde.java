package io.tusk.schemas.serde;

import io.tusk.schemas.registry.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka serde for a generated Avro class in the Confluent wire format, with the topic-name
 * subject strategy ({@code <topic>-value} or {@code <topic>-key}) that Confluent tools expect.
 *
 * <p>The serializer registers its schema once per subject. The deserializer resolves each writer
 * schema ID once (through the client's cache) and keeps one reader per writer schema, so schema
 * evolution works in both directions the registry's compatibility rules allow.
 *
 * @param <T> the generated Avro class
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
  private final SchemaRegistryClient registry;
  private final Schema schema;
  private final boolean isKey;
  private final Map<String, Integer> idsBySubject = new ConcurrentHashMap<>();
  private final Map<Integer, DatumReader<T>> readersById = new ConcurrentHashMap<>();
  private final SpecificDatumWriter<T> writer;

  static {
    TrustedClasses.install();
  }

  private AvroSerde(SchemaRegistryClient registry, Class<T> type, boolean isKey) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.schema = SpecificData.get().getSchema(Objects.requireNonNull(type, "type"));
    this.isKey = isKey;
    this.writer = new SpecificDatumWriter<>(schema);
  }

  /** A serde for record values of {@code type}. */
  public static <T extends SpecificRecord> AvroSerde<T> forValue(
      SchemaRegistryClient registry, Class<T> type) {
    return new AvroSerde<>(registry, type, false);
  }

  /** A serde for record keys of {@code type}. */
  public static <T extends SpecificRecord> AvroSerde<T> forKey(
      SchemaRegistryClient registry, Class<T> type) {
    return new AvroSerde<>(registry, type, true);
  }

  /** The reader/writer schema of the generated class. */
  public Schema schema() {
    return schema;
  }

  /** Encodes {@code value} for {@code topic}, registering the schema on first use. */
  public byte[] serialize(String topic, T value) {
    if (value == null) {
      return null;
    }
    int id = idsBySubject.computeIfAbsent(subject(topic), s -> registry.register(s, schema));
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(WireFormat.MAGIC);
    out.write(id >>> 24);
    out.write(id >>> 16);
    out.write(id >>> 8);
    out.write(id);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(value, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "cannot encode " + schema.getName() + " for topic " + topic + ": " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** Decodes a framed payload; the writer schema is fetched once per unknown ID. */
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    int id = WireFormat.schemaId(data);
    DatumReader<T> reader = readersById.computeIfAbsent(id, this::readerFor);
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(
                data, WireFormat.PREFIX_LENGTH, data.length - WireFormat.PREFIX_LENGTH, null);
    try {
      return reader.read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "cannot decode "
              + schema.getName()
              + " (schema id "
              + id
              + ") from topic "
              + topic
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private DatumReader<T> readerFor(int id) {
    try {
      return new SpecificDatumReader<>(registry.getById(id), schema);
    } catch (RuntimeException e) {
      throw new SerializationException(
          "cannot resolve writer schema id " + id + ": " + e.getMessage(), e);
    }
  }

  private String subject(String topic) {
    return topic + (isKey ? "-key" : "-value");
  }

  @Override
  public Serializer<T> serializer() {
    return this::serialize;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this::deserialize;
  }
}
