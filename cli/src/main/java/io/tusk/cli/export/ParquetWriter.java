package io.tusk.cli.export;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an {@link OutputTable} as one Parquet file through an in-memory DuckDB and {@code COPY
 * TO}: DuckDB's Parquet writer needs no Hadoop classes, which parquet-hadoop does at run time.
 */
public final class ParquetWriter {
  private ParquetWriter() {}

  /** Writes {@code table} to {@code file} (overwriting it), rows ordered by member. */
  public static void write(OutputTable table, Path file) throws SQLException {
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = db.createStatement()) {
      List<String> definitions = new ArrayList<>();
      for (String column : OutputTable.LINEAGE) {
        definitions.add(quote(column) + " VARCHAR NOT NULL");
      }
      for (OutputTable.Column column : table.columns()) {
        definitions.add(quote(column.name()) + " " + column.type());
      }
      statement.execute("CREATE TABLE outputs (" + String.join(", ", definitions) + ")");
      int width = definitions.size();
      String marks = String.join(", ", java.util.Collections.nCopies(width, "?"));
      try (PreparedStatement insert =
          db.prepareStatement("INSERT INTO outputs VALUES (" + marks + ")")) {
        for (int i = 0; i < table.size(); i++) {
          int p = 1;
          for (String value : table.lineage(i)) {
            insert.setString(p++, value);
          }
          List<Object> content = table.content(i);
          for (int c = 0; c < content.size(); c++) {
            bind(insert, p++, content.get(c), table.columns().get(c).type());
          }
          insert.addBatch();
        }
        insert.executeBatch();
      }
      statement.execute(
          "COPY (SELECT * FROM outputs ORDER BY member) TO '"
              + file.toAbsolutePath().toString().replace("'", "''")
              + "' (FORMAT parquet)");
    }
  }

  private static void bind(PreparedStatement insert, int p, Object value, String type)
      throws SQLException {
    if (value == null) {
      insert.setNull(
          p,
          switch (type) {
            case "BOOLEAN" -> Types.BOOLEAN;
            case "BIGINT" -> Types.BIGINT;
            case "DOUBLE" -> Types.DOUBLE;
            case "BLOB" -> Types.BLOB;
            default -> Types.VARCHAR;
          });
    } else if (value instanceof byte[] bytes) {
      insert.setBytes(p, bytes);
    } else {
      insert.setObject(p, value);
    }
  }

  private static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }
}
