package io.tusk.lineage;

import java.util.StringJoiner;

/**
 * Composite keys of the index stores. A key is {@code <routing key>\0<part>\0<part>...}: the
 * routing key (the part before the first separator) decides the partition, so every entry one query
 * reads lives in one partition and one owner answers it (see {@link RoutingPartitioner}).
 *
 * <p>The separator is {@code \0}, which sorts before every other character, so the entries under
 * one prefix are contiguous in the store's byte order and a range scan reads just them. Parts never
 * contain control characters (the API rejects them in parameters; names and IDs have none).
 */
final class StoreKeys {
  /** Separates the parts of a key. */
  static final char SEPARATOR = '\0';

  /** Width of the zero-padded numbers in keys, so they sort numerically. */
  private static final String NUMBER_FORMAT = "%019d";

  private StoreKeys() {}

  /** The key made of {@code parts}, in order. */
  static String join(String... parts) {
    StringJoiner joiner = new StringJoiner(String.valueOf(SEPARATOR));
    for (String part : parts) {
      joiner.add(part);
    }
    return joiner.toString();
  }

  /** The prefix of every key that starts with {@code parts} (and has more parts after them). */
  static String prefix(String... parts) {
    return join(parts) + SEPARATOR;
  }

  /**
   * The {@code count} parts of a key made by {@link #join}; the last part keeps whatever follows
   * its separator. Decoders next to the encoders use it, so no caller counts separators itself.
   *
   * @throws IllegalArgumentException if the key has fewer parts
   */
  static String[] split(String key, int count) {
    String[] parts = key.split(String.valueOf(SEPARATOR), count);
    if (parts.length != count) {
      throw new IllegalArgumentException(
          "a store key of " + parts.length + " parts where " + count + " were expected");
    }
    return parts;
  }

  /** The routing key of a store key: the part before the first separator. */
  static String routing(String key) {
    int end = key.indexOf(SEPARATOR);
    return end < 0 ? key : key.substring(0, end);
  }

  /**
   * The greatest key that can start with {@code prefix} (a {@link #prefix}), as the inclusive end
   * of a range: the prefix with its trailing separator raised by one.
   */
  static String end(String prefix) {
    return prefix.substring(0, prefix.length() - 1) + (char) (SEPARATOR + 1);
  }

  /** {@code value} zero-padded, so keys sort by it. */
  static String number(long value) {
    return String.format(NUMBER_FORMAT, value);
  }

  /** A part that sorts newest first: {@code Long.MAX_VALUE - value}, zero-padded. */
  static String newestFirst(long value) {
    return number(Long.MAX_VALUE - Math.max(0, value));
  }

  /** True if {@code text} contains a control character (never allowed in a key part). */
  static boolean hasControlCharacter(String text) {
    return text.chars().anyMatch(Character::isISOControl);
  }
}
