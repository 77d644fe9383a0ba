package io.tusk.partition;

import io.tusk.common.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Every entry of every state store of a {@link TopologyTestDriver} as raw bytes: keys as the stores
 * hold them, values through their serdes (Avro values in Avro's binary encoding, the service's own
 * bookkeeping through its {@link Binary} serdes). A value of a type it cannot encode fails the
 * scan, so a new store cannot escape it.
 */
final class StoreScan {
  private final Topics topics;

  StoreScan(Topics topics) {
    this.topics = topics;
  }

  /** A store entry as bytes. */
  record Entry(String store, byte[] key, byte[] value) {
    boolean contains(byte[] needle) {
      return indexOf(key, needle) >= 0 || (value != null && indexOf(value, needle) >= 0);
    }
  }

  /** Every entry of every key-value store of the driver. */
  List<Entry> all(TopologyTestDriver driver) {
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, StateStore> store : driver.getAllStateStores().entrySet()) {
      if (!(store.getValue() instanceof KeyValueStore<?, ?>)) {
        throw new AssertionError("store " + store.getKey() + " is not a key-value store");
      }
      @SuppressWarnings("unchecked")
      KeyValueStore<Object, Object> kv = (KeyValueStore<Object, Object>) store.getValue();
      try (KeyValueIterator<Object, Object> it = kv.all()) {
        while (it.hasNext()) {
          KeyValue<Object, Object> e = it.next();
          entries.add(new Entry(store.getKey(), bytes(e.key), bytes(e.value)));
        }
      }
    }
    return entries;
  }

  /** The entries of one store, key bytes (as hex) to value bytes (as hex), ordered by key. */
  Map<String, String> store(TopologyTestDriver driver, String name) {
    Map<String, String> entries = new TreeMap<>();
    for (Entry e : all(driver)) {
      if (e.store().equals(name)) {
        entries.put(Bytes.wrap(e.key()).toString(), e.value() == null ? "" : hex(e.value()));
      }
    }
    return entries;
  }

  /** The entries that contain {@code text}'s UTF-8 bytes, as "store" names. */
  List<String> holding(TopologyTestDriver driver, String text) {
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    return all(driver).stream().filter(e -> e.contains(needle)).map(Entry::store).toList();
  }

  private byte[] bytes(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof Bytes b) {
      return b.get();
    }
    if (value instanceof String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    if (value instanceof Long l) {
      return org.apache.kafka.common.serialization.Serdes.Long().serializer().serialize("", l);
    }
    if (value instanceof SpecificRecord record) {
      return avro(record);
    }
    if (value instanceof JobProgress progress) {
      return new JobProgress.StoreSerde(topics.jobs.valueSerde())
          .serializer()
          .serialize("", progress);
    }
    return binary(value);
  }

  private static byte[] avro(SpecificRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A value of the service's bookkeeping, through the static {@code SERDE} of its type. */
  @SuppressWarnings("unchecked")
  private static byte[] binary(Object value) {
    try {
      Field field = value.getClass().getDeclaredField("SERDE");
      if (!Modifier.isStatic(field.getModifiers())) {
        throw new AssertionError("no static SERDE on " + value.getClass());
      }
      field.setAccessible(true);
      Serde<Object> serde = (Serde<Object>) field.get(null);
      return serde.serializer().serialize("", value);
    } catch (NoSuchFieldException | IllegalAccessException e) {
      throw new AssertionError("cannot encode a store value of " + value.getClass(), e);
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder text = new StringBuilder();
    for (byte b : bytes) {
      text.append(String.format("%02x", b));
    }
    return text.toString();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
