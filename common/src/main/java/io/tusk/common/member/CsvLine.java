package io.tusk.common.member;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 4180 parsing of one CSV line: comma-separated, fields optionally quoted with {@code "}, a
 * quote inside a quoted field doubled. An empty unquoted field is null (absent); {@code ""} is the
 * empty string.
 */
public final class CsvLine {
  private CsvLine() {}

  /** Thrown for a line that is not valid CSV. */
  public static final class MalformedCsvException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedCsvException(String message) {
      super(message);
    }
  }

  /** Splits {@code line} (without or with a trailing line break) into its fields. */
  public static List<String> parse(String line) throws MalformedCsvException {
    int end = line.length();
    while (end > 0 && (line.charAt(end - 1) == '\n' || line.charAt(end - 1) == '\r')) {
      end--;
    }
    List<String> fields = new ArrayList<>();
    int i = 0;
    while (true) {
      if (i < end && line.charAt(i) == '"') {
        StringBuilder field = new StringBuilder();
        i++;
        while (true) {
          if (i >= end) {
            throw new MalformedCsvException("unbalanced quote in field " + (fields.size() + 1));
          }
          char c = line.charAt(i);
          if (c == '"') {
            if (i + 1 < end && line.charAt(i + 1) == '"') {
              field.append('"');
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            field.append(c);
            i++;
          }
        }
        fields.add(field.toString());
        if (i < end && line.charAt(i) != ',') {
          throw new MalformedCsvException("text after closing quote in field " + fields.size());
        }
      } else {
        int start = i;
        while (i < end && line.charAt(i) != ',') {
          if (line.charAt(i) == '"') {
            throw new MalformedCsvException("quote inside unquoted field " + (fields.size() + 1));
          }
          i++;
        }
        fields.add(i == start ? null : line.substring(start, i));
      }
      if (i >= end) {
        return fields;
      }
      i++; // the comma
    }
  }
}
