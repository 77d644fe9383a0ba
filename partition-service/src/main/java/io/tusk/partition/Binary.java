package io.tusk.partition;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Small versioned binary encodings of the service's own bookkeeping values (internal to the
 * service, so not in the registry): a version byte, then fields written by {@link Writer} and read
 * back in the same order by {@link Reader}.
 */
final class Binary {
  private static final HexFormat HEX = HexFormat.of();

  /** Tags of {@link Writer#putHash}: no value, lowercase hex stored as its bytes, other text. */
  private static final byte NO_HASH = 0;

  private static final byte HEX_HASH = 1;
  private static final byte TEXT_HASH = 2;

  private Binary() {}

  /** Whether {@code text} is what {@link HexFormat#of()} formats: lowercase, pairs of digits. */
  private static boolean isLowerHex(String text) {
    if (text.isEmpty() || text.length() % 2 != 0) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  /** A serde of {@code T} with format {@code version}. */
  static <T> Serde<T> serde(
      String name, byte version, BiConsumer<T, Writer> write, Function<Reader, T> read) {
    return serde(name, version, write, read, (byte) -1, null);
  }

  /**
   * A serde of {@code T} that writes format {@code version} and also reads values of the previous
   * format {@code older} (stored before an upgrade) with {@code readOlder}.
   */
  static <T> Serde<T> serde(
      String name,
      byte version,
      BiConsumer<T, Writer> write,
      Function<Reader, T> read,
      byte older,
      Function<Reader, T> readOlder) {
    return Serdes.serdeFrom(
        (topic, value) -> {
          if (value == null) {
            return null;
          }
          Writer writer = new Writer();
          writer.buffer.put(version);
          write.accept(value, writer);
          return writer.bytes();
        },
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          ByteBuffer buffer = ByteBuffer.wrap(data);
          byte found = buffer.get();
          if (readOlder != null && found == older) {
            return readOlder.apply(new Reader(buffer));
          }
          if (found != version) {
            throw new SerializationException("unknown " + name + " format version " + found);
          }
          return read.apply(new Reader(buffer));
        });
  }

  /** Appends fields (also the store keys of {@link StoreKeys}, without a version byte). */
  static final class Writer {
    private ByteBuffer buffer = ByteBuffer.allocate(128);

    Writer putLong(long value) {
      ensure(8);
      buffer.putLong(value);
      return this;
    }

    Writer putInt(int value) {
      ensure(4);
      buffer.putInt(value);
      return this;
    }

    /** A string or null. */
    Writer putString(String value) {
      if (value == null) {
        return putInt(-1);
      }
      return putBytes(value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A hash or null: a lowercase hex string (Tusk's SHA-256 hashes) as the bytes it spells, half
     * its length; any other text as a string, so every value reads back unchanged.
     */
    Writer putHash(String value) {
      ensure(1);
      if (value == null) {
        buffer.put(NO_HASH);
        return this;
      }
      if (isLowerHex(value)) {
        buffer.put(HEX_HASH);
        return putBytes(HEX.parseHex(value));
      }
      buffer.put(TEXT_HASH);
      return putString(value);
    }

    /** Bytes or null. */
    Writer putBytes(byte[] value) {
      if (value == null) {
        return putInt(-1);
      }
      putInt(value.length);
      ensure(value.length);
      buffer.put(value);
      return this;
    }

    /** The fields written so far. */
    byte[] bytes() {
      byte[] bytes = new byte[buffer.position()];
      buffer.flip();
      buffer.get(bytes);
      return bytes;
    }

    private void ensure(int more) {
      if (buffer.remaining() < more) {
        ByteBuffer bigger =
            ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + more));
        buffer.flip();
        bigger.put(buffer);
        buffer = bigger;
      }
    }
  }

  /** Reads fields in the order they were written. */
  static final class Reader {
    private final ByteBuffer buffer;

    private Reader(ByteBuffer buffer) {
      this.buffer = buffer;
    }

    long getLong() {
      return buffer.getLong();
    }

    int getInt() {
      return buffer.getInt();
    }

    String getString() {
      byte[] bytes = getBytes();
      return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** A value written by {@link Writer#putHash}. */
    String getHash() {
      byte tag = buffer.get();
      return switch (tag) {
        case NO_HASH -> null;
        case HEX_HASH -> HEX.formatHex(getBytes());
        case TEXT_HASH -> getString();
        default -> throw new SerializationException("unknown hash tag " + tag);
      };
    }

    byte[] getBytes() {
      int length = buffer.getInt();
      if (length < 0) {
        return null;
      }
      byte[] bytes = new byte[length];
      buffer.get(bytes);
      return bytes;
    }
  }
}
