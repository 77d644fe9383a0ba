package io.tusk.common.member;

import io.tusk.schemas.Row;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The content hashes Tusk's skip decisions rest on: SHA-256 of a member's rows in canonical order
 * (offsets excluded, so the same content hashes the same wherever it came from), of a pipeline
 * spec, and of a datum (spec hash + member hash).
 */
public final class Hashing {
  private static final HexFormat HEX = HexFormat.of();

  /** One digest per thread: creating one costs about as much as hashing a small member. */
  private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(Hashing::sha256);

  private Hashing() {}

  /**
   * Hash of a member's rows, which must already be in canonical order: per row its table, its value
   * count and its values, each string length-prefixed (-1 for null). The bytes are gathered in a
   * buffer and digested in large pieces, since the member side hashes every changed member.
   */
  public static String memberHash(List<Row> canonicalRows) {
    DigestBuffer out = new DigestBuffer(DIGEST.get());
    for (Row row : canonicalRows) {
      out.putString(row.getTable());
      List<String> values = row.getValues();
      out.putInt(values.size());
      for (String value : values) {
        out.putString(value);
      }
    }
    return HEX.formatHex(out.digest());
  }

  /** Hash of a datum: a pipeline's spec hash with a member's content hash. */
  public static String datumHash(String specHash, String memberHash) {
    return sha256Hex(specHash, memberHash);
  }

  /** Hash of the parts of a pipeline spec that decide its output. */
  public static String specHash(String inputRepo, String transformKind, String transformName) {
    return sha256Hex("pipeline-spec-v1", inputRepo, transformKind, transformName);
  }

  /** Hash of arbitrary bytes (e.g. an output), hex. */
  public static String bytesHash(byte[] data) {
    return HEX.formatHex(sha256().digest(data));
  }

  /** SHA-256 of length-prefixed strings, hex. */
  public static String sha256Hex(String... parts) {
    MessageDigest digest = sha256();
    for (String part : parts) {
      update(digest, part);
    }
    return HEX.formatHex(digest.digest());
  }

  private static void update(MessageDigest digest, String value) {
    if (value == null) {
      digest.update(ByteBuffer.allocate(4).putInt(-1).array());
      return;
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    digest.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    digest.update(bytes);
  }

  /** Big-endian ints and length-prefixed UTF-8 strings, fed to a digest 8 KiB at a time. */
  private static final class DigestBuffer {
    private final MessageDigest digest;
    private final byte[] buffer = new byte[8192];
    private int size;

    DigestBuffer(MessageDigest digest) {
      this.digest = digest;
      digest.reset();
    }

    void putInt(int value) {
      if (size + 4 > buffer.length) {
        flush();
      }
      buffer[size++] = (byte) (value >>> 24);
      buffer[size++] = (byte) (value >>> 16);
      buffer[size++] = (byte) (value >>> 8);
      buffer[size++] = (byte) value;
    }

    void putString(String value) {
      if (value == null) {
        putInt(-1);
        return;
      }
      byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
      putInt(bytes.length);
      if (bytes.length > buffer.length - size) {
        flush();
        if (bytes.length > buffer.length) {
          digest.update(bytes);
          return;
        }
      }
      System.arraycopy(bytes, 0, buffer, size, bytes.length);
      size += bytes.length;
    }

    byte[] digest() {
      flush();
      return digest.digest();
    }

    private void flush() {
      digest.update(buffer, 0, size);
      size = 0;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
