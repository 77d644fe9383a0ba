package io.tusk.cli.soak;

import io.tusk.cli.sink.PostgresSink;
import io.tusk.common.config.KafkaSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The SQL sink against the model: after a job, {@code tusk sink --once} brings a PostgreSQL table
 * up to the pipeline's outputs, and the table must then hold exactly the model's current outputs.
 * Through the soak's operations that meets pipeline updates, deletes and re-creates under the same
 * name, erasures, removals, branch moves and restarts.
 */
final class SinkCheck {
  private final KafkaSettings kafka;
  private final String jdbcUrl;
  private int checks;

  /** A check against the database at {@code jdbcUrl} (credentials in the URL). */
  SinkCheck(KafkaSettings kafka, String jdbcUrl) {
    this.kafka = kafka;
    this.jdbcUrl = jdbcUrl;
  }

  /** How many tables were compared. */
  int checks() {
    return checks;
  }

  /** Brings the pipeline's table up to its outputs and compares it with the model's. */
  List<String> check(PipelineModel model) {
    checks++;
    String table = PostgresSink.defaultTable(model.name());
    try {
      try (PostgresSink sink =
          new PostgresSink(kafka, model.name(), DriverManager.getConnection(jdbcUrl), table)) {
        sink.prepare();
        sink.catchUp();
      }
      SortedMap<String, String> rows = rows(table);
      SortedMap<String, String> expected = model.currentData();
      return rows.equals(expected)
          ? List.of()
          : List.of(
              "SQL table "
                  + table
                  + " of "
                  + model.name()
                  + " "
                  + SoakChecks.mapDifference(expected, rows));
    } catch (SQLException | RuntimeException e) {
      return List.of("SQL sink of " + model.name() + " failed: " + e.getMessage());
    }
  }

  private SortedMap<String, String> rows(String table) throws SQLException {
    SortedMap<String, String> rows = new TreeMap<>();
    try (Connection db = DriverManager.getConnection(jdbcUrl);
        Statement sql = db.createStatement();
        ResultSet result = sql.executeQuery("SELECT member, data_text FROM \"" + table + "\"")) {
      while (result.next()) {
        rows.put(result.getString(1), result.getString(2));
      }
    }
    return rows;
  }
}
