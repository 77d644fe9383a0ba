package io.tusk.schemas.serde;

import io.tusk.schemas.registry.SchemaRegistryClient;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
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
  private final SpecificData model;
  private final SpecificDatumWriter<T> writer;

  static {
    TrustedClasses.install();
  }

  private AvroSerde(SchemaRegistryClient registry, Class<T> type, boolean isKey) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.schema = SpecificData.get().getSchema(Objects.requireNonNull(type, "type"));
    this.isKey = isKey;
    this.model = withGeneratedCoders(type);
    this.writer = new SpecificDatumWriter<>(schema, model);
  }

  /**
   * The generated class's Avro model, set to use the encoder and decoder Avro generated into the
   * class ({@code customEncode}, {@code customDecode}: straight-line code per field). Avro leaves
   * them off by default and walks the schema instead, reading each field through {@code
   * GenericData.getField}; a JFR profile of a first commit put 28 % of the partition stream thread
   * in Avro encoding, mostly that walk. The bytes are the same either way, and a record written
   * with another schema is still resolved against the reader's.
   */
  private static SpecificData withGeneratedCoders(Class<?> type) {
    SpecificData generated = SpecificData.getForClass(type);
    SpecificData model = new SpecificData(type.getClassLoader());
    generated.getConversions().forEach(model::addLogicalTypeConversion);
    model.setCustomCoders(true);
    return model;
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
    Codec codec = CODECS.get();
    codec.out.start(id);
    codec.encoder = EncoderFactory.get().binaryEncoder(codec.out, codec.encoder);
    try {
      writer.write(value, codec.encoder);
      codec.encoder.flush();
    } catch (IOException | RuntimeException e) {
      codec.encoder = null; // may hold a part of the failed record
      throw new SerializationException(
          "cannot encode " + schema.getName() + " for topic " + topic + ": " + e.getMessage(), e);
    }
    return codec.out.finish();
  }

  /** Decodes a framed payload; the writer schema is fetched once per unknown ID. */
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    int id = WireFormat.schemaId(data);
    DatumReader<T> reader = readersById.computeIfAbsent(id, this::readerFor);
    Codec codec = CODECS.get();
    codec.decoder =
        DecoderFactory.get()
            .binaryDecoder(
                data,
                WireFormat.PREFIX_LENGTH,
                data.length - WireFormat.PREFIX_LENGTH,
                codec.decoder);
    try {
      return reader.read(null, codec.decoder);
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
      return new SpecificDatumReader<>(registry.getById(id), schema, model);
    } catch (RuntimeException e) {
      throw new SerializationException(
          "cannot resolve writer schema id " + id + ": " + e.getMessage(), e);
    }
  }

  private String subject(String topic) {
    return topic + (isKey ? "-key" : "-value");
  }

  /**
   * One thread's encoder, decoder and output buffer, reused by every serde on that thread: a serde
   * is shared by a service's threads, and this is the hot path of every Tusk service (a buffered
   * encoder over a plain array instead of a direct encoder writing each field to a synchronized
   * stream, and no new decoder per record).
   */
  private static final class Codec {
    final FramedOutput out = new FramedOutput();
    BinaryEncoder encoder;
    BinaryDecoder decoder;
  }

  private static final ThreadLocal<Codec> CODECS = ThreadLocal.withInitial(Codec::new);

  /**
   * A growable byte array holding one framed record (magic byte, schema ID, Avro body); unlike
   * {@link java.io.ByteArrayOutputStream} not synchronized. A buffer grown past {@link
   * #KEPT_CAPACITY} by a large record is dropped once it is copied out.
   */
  static final class FramedOutput extends OutputStream {
    static final int KEPT_CAPACITY = 1 << 20;
    private byte[] bytes = new byte[4096];
    private int size;

    /** Starts a record for the schema {@code id}. */
    void start(int id) {
      size = 0;
      write(WireFormat.MAGIC);
      write(id >>> 24);
      write(id >>> 16);
      write(id >>> 8);
      write(id);
    }

    /** The record's bytes. */
    byte[] finish() {
      byte[] record = Arrays.copyOf(bytes, size);
      if (bytes.length > KEPT_CAPACITY) {
        bytes = new byte[4096];
      }
      size = 0;
      return record;
    }

    @Override
    public void write(int b) {
      ensure(1);
      bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }

    private void ensure(int more) {
      if (size + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
      }
    }
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
