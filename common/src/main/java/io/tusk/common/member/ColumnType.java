package io.tusk.common.member;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The type of a typed column ({@code TableSpec.columnTypes}). Values stay text in rows; the type
 * only decides which texts are valid, so a row never changes by being checked.
 */
public enum ColumnType {
  /** Any text. */
  STRING,
  /** A 32-bit signed integer in decimal, e.g. {@code -42}. */
  INT,
  /** A 64-bit signed integer in decimal. */
  LONG,
  /**
   * A decimal number with optional fraction and exponent, e.g. {@code 1.5e3}; no NaN or Infinity.
   */
  DOUBLE,
  /** {@code true} or {@code false}, in any case. */
  BOOLEAN,
  /** An ISO-8601 calendar date, {@code yyyy-mm-dd}. */
  DATE,
  /**
   * An ISO-8601 date-time, with or without offset or zone: {@code 2019-01-02T03:04:05Z}, {@code
   * 2019-01-02T03:04:05.123+01:00}, {@code 2019-01-02T03:04:05}.
   */
  TIMESTAMP;

  private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
  private static final Pattern DECIMAL =
      Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?");

  /** The name used in table specs ({@code int}, {@code timestamp}, ...). */
  public String typeName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The type a table spec names (case-insensitive), if it is one. */
  public static Optional<ColumnType> named(String name) {
    if (name == null) {
      return Optional.empty();
    }
    for (ColumnType type : values()) {
      if (type.typeName().equalsIgnoreCase(name)) {
        return Optional.of(type);
      }
    }
    return Optional.empty();
  }

  /** True if {@code value} (not null) is a valid text of this type. */
  public boolean accepts(String value) {
    try {
      switch (this) {
        case STRING -> {}
        case INT -> Integer.parseInt(integer(value));
        case LONG -> Long.parseLong(integer(value));
        case DOUBLE -> {
          if (!DECIMAL.matcher(value).matches() || Double.isInfinite(Double.parseDouble(value))) {
            return false;
          }
        }
        case BOOLEAN -> {
          return value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false");
        }
        case DATE -> LocalDate.parse(value, DateTimeFormatter.ISO_LOCAL_DATE);
        case TIMESTAMP -> DateTimeFormatter.ISO_DATE_TIME.parse(value);
      }
      return true;
    } catch (NumberFormatException | DateTimeParseException e) {
      return false;
    }
  }

  /** ASCII digits only: {@code parseInt} also takes the digits of other scripts. */
  private static String integer(String value) {
    if (!INTEGER.matcher(value).matches()) {
      throw new NumberFormatException("not an integer");
    }
    return value;
  }
}
