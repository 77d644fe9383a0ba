package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.RowLoader;
import io.tusk.common.member.CsvLine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The rows of a CSV or JSON-lines file as {@code tusk put} sends them: one line is one record, its
 * original bytes the value (so the service, not the client, decides what is bad and says why in
 * {@code <repo>.rejected}), keyed by the member column, with the table and format headers. A CSV
 * header line (equal to the table's columns), blank lines and a UTF-8 byte order mark are skipped.
 */
final class FileRows {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  /** The file formats {@code tusk put} reads. */
  enum Format {
    CSV,
    JSON;

    /** The {@code tusk.format} header value. */
    String header() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The format a name gives ({@code csv} or {@code json}). */
    static Format named(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "csv" -> CSV;
        case "json", "jsonl", "ndjson" -> JSON;
        default -> throw new IllegalArgumentException("--format must be csv or json, got " + name);
      };
    }

    /** The format of a file by its extension: JSON lines for .json, .jsonl, .ndjson; else CSV. */
    static Format of(String fileName) {
      String name = fileName.toLowerCase(Locale.ROOT);
      return name.endsWith(".json") || name.endsWith(".jsonl") || name.endsWith(".ndjson")
          ? JSON
          : CSV;
    }
  }

  /** What a load did: rows sent, lines skipped, rows sent without a member key. */
  record Summary(long rows, long skipped, long withoutMember) {}

  /** Told how far the load is, after each row. */
  interface Listener {
    void progress(long rows, long bytesRead);
  }

  private final Format format;
  private final String table;
  private final List<String> columns;
  private final String memberColumn;
  private final int memberIndex;

  /**
   * @param columns the table's columns (CSV lines carry values in this order)
   * @param memberColumn the column whose value keys each record
   * @throws IllegalArgumentException if {@code memberColumn} is not a column
   */
  FileRows(Format format, String table, List<String> columns, String memberColumn) {
    this.format = Objects.requireNonNull(format, "format");
    this.table = Objects.requireNonNull(table, "table");
    this.columns = List.copyOf(columns);
    this.memberColumn = Objects.requireNonNull(memberColumn, "memberColumn");
    this.memberIndex = columns.indexOf(memberColumn);
    if (memberIndex < 0) {
      throw new IllegalArgumentException(
          "table " + table + " has no column " + memberColumn + " (columns: " + columns + ")");
    }
  }

  /** Sends every row of {@code in} through {@code loader}, telling {@code listener} as it goes. */
  Summary send(InputStream in, RowLoader loader, Listener listener) throws IOException {
    long rows = 0;
    long skipped = 0;
    long withoutMember = 0;
    LineReader lines = new LineReader(in);
    for (byte[] line = lines.next(); line != null; line = lines.next()) {
      if (lines.number() == 1 && startsWith(line, BOM)) {
        line = Arrays.copyOfRange(line, BOM.length, line.length);
      }
      String text = new String(line, StandardCharsets.UTF_8);
      if (text.isBlank() || isHeader(text)) {
        skipped++;
        continue;
      }
      String member = member(text);
      if (member == null) {
        withoutMember++;
      }
      loader.send(table, format.header(), member, line);
      rows++;
      listener.progress(rows, lines.bytesRead());
    }
    return new Summary(rows, skipped, withoutMember);
  }

  private boolean isHeader(String text) {
    try {
      return format == Format.CSV && CsvLine.parse(text).equals(columns);
    } catch (CsvLine.MalformedCsvException e) {
      return false;
    }
  }

  /** The member key of a line, or null where the line has none (the service rejects it). */
  private String member(String text) {
    String value;
    if (format == Format.CSV) {
      try {
        List<String> fields = CsvLine.parse(text);
        value = memberIndex < fields.size() ? fields.get(memberIndex) : null;
      } catch (CsvLine.MalformedCsvException e) {
        value = null;
      }
    } else {
      JsonNode field;
      try {
        field = JSON.readTree(text).get(memberColumn);
      } catch (IOException e) {
        field = null;
      }
      value = field != null && field.isValueNode() && !field.isNull() ? field.asText() : null;
    }
    return value == null || value.isBlank() ? null : value;
  }

  private static boolean startsWith(byte[] line, byte[] prefix) {
    return line.length >= prefix.length
        && Arrays.equals(line, 0, prefix.length, prefix, 0, prefix.length);
  }

  /** Lines of bytes ({@code \n} or {@code \r\n} ends), counting what was read. */
  private static final class LineReader {
    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private int position;
    private int limit;
    private long bytesRead;
    private long number;

    LineReader(InputStream in) {
      this.in = in;
    }

    /** The next line without its end, or null at the end of the input. */
    byte[] next() throws IOException {
      line.reset();
      while (true) {
        if (position == limit) {
          limit = in.read(buffer);
          position = 0;
          if (limit <= 0) {
            limit = 0;
            return line.size() == 0 ? null : finish();
          }
        }
        int start = position;
        while (position < limit && buffer[position] != '\n') {
          position++;
        }
        line.write(buffer, start, position - start);
        bytesRead += position - start;
        if (position < limit) {
          position++;
          bytesRead++;
          return finish();
        }
      }
    }

    private byte[] finish() {
      number++;
      byte[] bytes = line.toByteArray();
      int length = bytes.length;
      return length > 0 && bytes[length - 1] == '\r' ? Arrays.copyOf(bytes, length - 1) : bytes;
    }

    long bytesRead() {
      return bytesRead;
    }

    long number() {
      return number;
    }
  }
}
