package io.tusk.common.member;

import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.TransformSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * The content hashes Tusk's skip decisions rest on: SHA-256 of a member's rows in canonical order
 * (offsets excluded, so the same content hashes the same wherever it came from), of a pipeline
 * spec, and of a datum (spec hash + member hash).
 */
public final class Hashing {
  private static final HexFormat HEX = HexFormat.of();

  private Hashing() {}

  /** Hash of a member's rows, which must already be in canonical order. */
  public static String memberHash(List<Row> canonicalRows) {
    MessageDigest digest = sha256();
    for (Row row : canonicalRows) {
      update(digest, row.getTable());
      List<String> values = row.getValues();
      digest.update(ByteBuffer.allocate(4).putInt(values.size()).array());
      for (String value : values) {
        update(digest, value);
      }
    }
    return HEX.formatHex(digest.digest());
  }

  /** Hash of a datum: a pipeline's spec hash with a member's content hash. */
  public static String datumHash(String specHash, String memberHash) {
    return sha256Hex(specHash, memberHash);
  }

  /** Hash of the parts of a pipeline spec that decide its output. */
  public static String specHash(String inputRepo, String transformKind, String transformName) {
    return sha256Hex("pipeline-spec-v1", inputRepo, transformKind, transformName);
  }

  /**
   * Hash of the parts of a pipeline spec that decide its outputs: the input (repo, branch, upstream
   * pipeline and member key), the transform (kind, class name, command, environment in key order,
   * input format) and the error command. Parallelism, tries, timeouts and the version do not change
   * what a datum produces, so changing them keeps every datum hash.
   */
  public static String specHash(PipelineSpec spec) {
    TransformSpec transform = spec.getTransform();
    List<String> parts = new ArrayList<>();
    parts.add("pipeline-spec-v2");
    parts.add(spec.getInputRepo());
    parts.add(spec.getInputBranch());
    parts.add(spec.getInputPipeline());
    parts.add(spec.getInputMemberKey());
    parts.add(transform.getKind().name());
    parts.add(transform.getName());
    addList(parts, transform.getCmd());
    parts.add(Integer.toString(transform.getEnv().size()));
    new TreeMap<>(transform.getEnv())
        .forEach(
            (name, value) -> {
              parts.add(name);
              parts.add(value);
            });
    parts.add(transform.getInputFormat());
    addList(parts, spec.getErrCmd());
    return sha256Hex(parts.toArray(String[]::new));
  }

  /** A list as its size followed by its items, so adjacent lists cannot run into each other. */
  private static void addList(List<String> parts, List<String> items) {
    parts.add(Integer.toString(items.size()));
    parts.addAll(items);
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

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
