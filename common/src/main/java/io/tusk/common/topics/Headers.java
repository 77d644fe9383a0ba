package io.tusk.common.topics;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;

/** Names of the Kafka record headers Tusk reads and writes. */
public final class Headers {
  /** On {@code <repo>.updates}: the table a row belongs to (absent: the repo's default table). */
  public static final String TABLE = "tusk.table";

  /**
   * On {@code <repo>.updates}: the record's format ({@code csv}, {@code json} or {@code avro}),
   * overriding the repo's, so producers of different formats can share a repo.
   */
  public static final String FORMAT = "tusk.format";

  /** On {@code <repo>.rejected}: reason code of the rejection. */
  public static final String REJECT_REASON = "tusk.reject.reason";

  /** On {@code <repo>.rejected}: human-readable detail (never row contents). */
  public static final String REJECT_DETAIL = "tusk.reject.detail";

  /** On {@code <repo>.rejected}: the row's source topic, partition and offset. */
  public static final String SOURCE_TOPIC = "tusk.source.topic";

  public static final String SOURCE_PARTITION = "tusk.source.partition";
  public static final String SOURCE_OFFSET = "tusk.source.offset";

  /**
   * On {@code <pipeline>.failed}: exception class and message of the failure (never row contents).
   */
  public static final String ERROR = "tusk.error";

  /** On {@code <pipeline>.failed}: how many attempts the datum had before it failed. */
  public static final String ATTEMPTS = "tusk.attempts";

  /** On {@code <pipeline>.failed}: the last 4 KiB of the transform's stderr (commands, workers). */
  public static final String STDERR = "tusk.stderr";

  /**
   * On {@code <pipeline>.failed}: why the original record's value was left out (the record would
   * have been too large to send); its source headers say where the value is.
   */
  public static final String OMITTED = "tusk.omitted";

  /** Provenance on {@code <pipeline>.output}. */
  public static final String PIPELINE = "tusk.pipeline";

  /**
   * Provenance on {@code <pipeline>.output}; also on every {@code <pipeline>.datums} record, so a
   * datum that cannot be decoded still names its job (its key is the member).
   */
  public static final String JOB_ID = "tusk.job";

  public static final String COMMIT_ID = "tusk.commit";
  public static final String GLOBAL_ID = "tusk.global";

  /** Provenance on {@code <pipeline>.output}; also on every {@code <pipeline>.datums} record. */
  public static final String DATUM_HASH = "tusk.datum-hash";

  /**
   * On internal records whose value does not name their repo: the repo they belong to; also on
   * every {@code <pipeline>.datums} record (the repo whose by-member topic hears the outcome).
   */
  public static final String REPO = "tusk.repo";

  /**
   * On the output tombstone of an erased member's removal datum: the erasure request. Lineage
   * purges the member's outputs on it; a derived repo purges the row from every version.
   */
  public static final String ERASURE = "tusk.erasure";

  /**
   * On a roll marker: a tombstone of a reserved key appended to a compacted topic so that Kafka
   * rolls its active segment (it rolls only on append and never compacts the active segment), so an
   * erased member's last records there become compactable. Every Tusk reader skips it.
   */
  public static final String ROLL = "tusk.roll";

  private Headers() {}

  /** A header's value as UTF-8 text, or null. */
  public static String text(org.apache.kafka.common.header.Headers headers, String name) {
    Header header = headers.lastHeader(name);
    return header == null || header.value() == null
        ? null
        : new String(header.value(), StandardCharsets.UTF_8);
  }

  /** UTF-8 bytes of a header value. */
  public static byte[] bytes(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }
}
