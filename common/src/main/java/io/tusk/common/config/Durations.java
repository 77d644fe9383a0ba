package io.tusk.common.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Retention-style durations as operators write them: {@code 30d}, {@code 12h}, {@code 90m}, {@code
 * 45s}, {@code 500ms}, or a plain number of milliseconds; and back to the shortest such text.
 */
public final class Durations {
  private static final Pattern FORMAT = Pattern.compile("(\\d{1,15})(ms|s|m|h|d)?");
  private static final long SECOND = 1000;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;
  private static final long DAY = 24 * HOUR;

  private Durations() {}

  /**
   * The milliseconds {@code text} stands for.
   *
   * @throws IllegalArgumentException naming the format, for anything else (or 0)
   */
  public static long parseMillis(String text) {
    Matcher m = text == null ? null : FORMAT.matcher(text.strip());
    if (m == null || !m.matches()) {
      throw new IllegalArgumentException(
          "must be a duration like 30d, 12h, 90m, 45s, 500ms or milliseconds, got '"
              + (text == null ? "" : text.length() > 40 ? text.substring(0, 40) + "..." : text)
              + "'");
    }
    long amount = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    long millis;
    try {
      millis =
          switch (unit) {
            case "d" -> Math.multiplyExact(amount, DAY);
            case "h" -> Math.multiplyExact(amount, HOUR);
            case "m" -> Math.multiplyExact(amount, MINUTE);
            case "s" -> Math.multiplyExact(amount, SECOND);
            default -> amount;
          };
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("is too long, got '" + text + "'");
    }
    if (millis <= 0) {
      throw new IllegalArgumentException(
          "must be a duration longer than 0 (e.g. 30d), got '" + text + "'");
    }
    return millis;
  }

  /** The shortest text for {@code millis} that {@link #parseMillis} reads back. */
  public static String format(long millis) {
    if (millis % DAY == 0) {
      return millis / DAY + "d";
    }
    if (millis % HOUR == 0) {
      return millis / HOUR + "h";
    }
    if (millis % MINUTE == 0) {
      return millis / MINUTE + "m";
    }
    if (millis % SECOND == 0) {
      return millis / SECOND + "s";
    }
    return millis + "ms";
  }
}
