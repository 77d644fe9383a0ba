package io.tusk.processor.transform;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.schemas.Datum;
import io.tusk.schemas.Row;
import io.tusk.schemas.TableSpec;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A datum as files and JSON for transforms outside the JVM: the input directory of a per-datum
 * command ({@code in/<TABLE>.csv}, header and rows, or {@code in/<TABLE>.json}, one JSON object per
 * row) and the JSON line a worker reads (row objects, or pandas' split layout). Every table of the
 * repo is present, in name order, empty when the member has no rows in it; values are strings,
 * absent values empty (CSV) or null (JSON).
 */
final class DatumFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DatumFiles() {}

  /** Writes one file per table of the repo into {@code in}. */
  static void writeInput(Datum datum, RepoLayout layout, Path in, String format)
      throws IOException {
    boolean json = PipelineSpecs.JSON_LINES.equals(format);
    for (Map.Entry<String, List<Row>> table : rowsByTable(datum, layout).entrySet()) {
      List<String> columns = columns(layout, table.getKey());
      Path file = in.resolve(fileName(table.getKey()) + (json ? ".json" : ".csv"));
      try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        if (json) {
          for (Row row : table.getValue()) {
            writeRowObject(out, columns, row);
            out.write('\n');
          }
        } else {
          writeCsvLine(out, columns);
          for (Row row : table.getValue()) {
            writeCsvLine(out, row.getValues());
          }
        }
      }
    }
  }

  /**
   * Writes the worker's request line, without the newline, as UTF-8: {@code {"member", "jobId",
   * "commitId", "datumHash", "tables": {TABLE: [{column: value}]}}}, or with {@code split} each
   * table as {@code {"columns": [column], "data": [[value]]}} (pandas' split orientation: column
   * names once, not once per row). Bytes, not characters: the line goes straight to a pipe.
   */
  static void writeWorkerRequest(Datum datum, RepoLayout layout, boolean split, OutputStream line)
      throws IOException {
    try (JsonGenerator out = JSON.getFactory().createGenerator(line, JsonEncoding.UTF8)) {
      out.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      out.writeStartObject();
      out.writeStringField("member", datum.getMemberObject().getMember());
      out.writeStringField("jobId", datum.getJobId());
      out.writeStringField("commitId", datum.getCommitId());
      out.writeStringField("datumHash", datum.getDatumHash());
      out.writeObjectFieldStart("tables");
      for (Map.Entry<String, List<Row>> table : rowsByTable(datum, layout).entrySet()) {
        List<String> columns = columns(layout, table.getKey());
        if (split) {
          writeSplitTable(out, table.getKey(), columns, table.getValue());
          continue;
        }
        out.writeArrayFieldStart(table.getKey());
        for (Row row : table.getValue()) {
          out.writeStartObject();
          writeFields(out, columns, row.getValues());
          out.writeEndObject();
        }
        out.writeEndArray();
      }
      out.writeEndObject();
      out.writeEndObject();
    }
  }

  private static void writeSplitTable(
      JsonGenerator out, String table, List<String> columns, List<Row> rows) throws IOException {
    out.writeObjectFieldStart(table);
    out.writeArrayFieldStart("columns");
    for (String column : columns) {
      out.writeString(column);
    }
    out.writeEndArray();
    out.writeArrayFieldStart("data");
    for (Row row : rows) {
      List<String> values = row.getValues();
      out.writeStartArray();
      for (int i = 0; i < columns.size(); i++) {
        String value = i < values.size() ? values.get(i) : null;
        if (value == null) {
          out.writeNull();
        } else {
          out.writeString(value);
        }
      }
      out.writeEndArray();
    }
    out.writeEndArray();
    out.writeEndObject();
  }

  /** Every table of the repo (name order) with the member's rows in canonical order. */
  static Map<String, List<Row>> rowsByTable(Datum datum, RepoLayout layout) {
    Map<String, List<Row>> tables = new TreeMap<>();
    for (TableSpec table : layout.spec().getTables()) {
      tables.put(table.getName(), new ArrayList<>());
    }
    for (Row row : datum.getMemberObject().getRows()) {
      List<Row> rows = tables.get(row.getTable());
      if (rows == null) {
        throw new IllegalArgumentException(
            "the datum has rows of table " + row.getTable() + ", which its repo does not have");
      }
      rows.add(row);
    }
    return tables;
  }

  private static List<String> columns(RepoLayout layout, String table) {
    TableLayout tableLayout = layout.table(table);
    return tableLayout.spec().getColumns();
  }

  /** A table name as a file name; names that could leave the directory are refused. */
  static String fileName(String table) {
    if (table.isEmpty()
        || table.equals(".")
        || table.equals("..")
        || table.indexOf('/') >= 0
        || table.indexOf('\\') >= 0
        || table.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("table name '" + table + "' cannot be a file name");
    }
    return table;
  }

  private static void writeRowObject(Writer out, List<String> columns, Row row) throws IOException {
    try (JsonGenerator json = JSON.getFactory().createGenerator(out)) {
      json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      json.writeStartObject();
      writeFields(json, columns, row.getValues());
      json.writeEndObject();
    }
  }

  private static void writeFields(JsonGenerator out, List<String> columns, List<String> values)
      throws IOException {
    for (int i = 0; i < columns.size(); i++) {
      String value = i < values.size() ? values.get(i) : null;
      if (value == null) {
        out.writeNullField(columns.get(i));
      } else {
        out.writeStringField(columns.get(i), value);
      }
    }
  }

  /**
   * One CSV line (RFC 4180): a field is quoted when it holds a comma, quote, line break or edge
   * space, or is empty (so an empty string differs from an absent value, which is written as
   * nothing).
   */
  static void writeCsvLine(Writer out, List<String> values) throws IOException {
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        out.write(',');
      }
      String value = values.get(i);
      if (value == null) {
        continue;
      }
      if (needsQuotes(value)) {
        out.write('"');
        out.write(value.replace("\"", "\"\""));
        out.write('"');
      } else {
        out.write(value);
      }
    }
    out.write('\n');
  }

  private static boolean needsQuotes(String value) {
    if (value.isEmpty()
        || Character.isWhitespace(value.charAt(0))
        || Character.isWhitespace(value.charAt(value.length() - 1))) {
      return true;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == ',' || c == '"' || c == '\n' || c == '\r') {
        return true;
      }
    }
    return false;
  }
}
