package io.tusk.cli.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Output;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputTableTest {
  @TempDir Path dir;

  @Test
  void jsonObjectsBecomeOneTypedNullableColumnPerField() {
    OutputTable table =
        OutputTable.of(
            List.of(
                json(
                    "A",
                    "{\"n\":1,\"x\":1,\"ok\":true,\"s\":\"a\",\"nested\":{\"k\":[1]},\"member\":\"m\"}"),
                json("B", "{\"n\":2,\"x\":2.5,\"ok\":null,\"s\":3,\"only\":null}")));
    assertThat(table.columns())
        .extracting(OutputTable.Column::name, OutputTable.Column::type)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("n", "BIGINT"),
            org.assertj.core.groups.Tuple.tuple("x", "DOUBLE"),
            org.assertj.core.groups.Tuple.tuple("ok", "BOOLEAN"),
            org.assertj.core.groups.Tuple.tuple("s", "VARCHAR"),
            org.assertj.core.groups.Tuple.tuple("nested", "VARCHAR"),
            org.assertj.core.groups.Tuple.tuple("member_", "VARCHAR"),
            org.assertj.core.groups.Tuple.tuple("only", "VARCHAR"));
    assertThat(table.content(0)).containsExactly(1L, 1.0, true, "a", "{\"k\":[1]}", "m", null);
    assertThat(table.content(1)).containsExactly(2L, 2.5, null, "3", null, null, null);
    assertThat(table.lineage(1)).containsExactly("B", "job-B", "commit-B", "global-B", "hash-B");
  }

  @Test
  void anyOutputNotAJsonObjectGivesOneDataColumn() {
    OutputTable text = OutputTable.of(List.of(json("A", "{\"n\":1}"), json("B", "[1,2]")));
    assertThat(text.columns()).extracting(OutputTable.Column::type).containsExactly("VARCHAR");
    assertThat(text.content(1)).containsExactly("[1,2]");

    OutputTable binary =
        OutputTable.of(
            List.of(
                output("A", "text/plain", "hi".getBytes(StandardCharsets.UTF_8)),
                output("B", "application/octet-stream", new byte[] {(byte) 0xff, 0})));
    assertThat(binary.columns()).extracting(OutputTable.Column::type).containsExactly("BLOB");
    assertThat((byte[]) binary.content(1).get(0)).containsExactly((byte) 0xff, 0);
  }

  @Test
  void widenNumbersToDoubleAndConflictsToVarchar() {
    assertThat(OutputTable.widen("BIGINT", "DOUBLE")).isEqualTo("DOUBLE");
    assertThat(OutputTable.widen("NULL", "BOOLEAN")).isEqualTo("BOOLEAN");
    assertThat(OutputTable.widen("BOOLEAN", "BIGINT")).isEqualTo("VARCHAR");
    assertThat(OutputTable.widen("BIGINT", "BIGINT")).isEqualTo("BIGINT");
  }

  @Test
  void parquetFileReadsBackWithDuckDb() throws Exception {
    Path file = dir.resolve("part-00000.parquet");
    ParquetWriter.write(
        OutputTable.of(
            List.of(json("B", "{\"n\":2,\"s\":\"it's\"}"), json("A", "{\"n\":1,\"s\":null}"))),
        file);
    List<String> rows = new ArrayList<>();
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = db.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "SELECT member, job_id, output_hash, n, s, typeof(n) FROM '" + file + "'")) {
      while (rs.next()) {
        rows.add(
            Arrays.asList(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getObject(4),
                    rs.getString(5),
                    rs.getString(6))
                .toString());
      }
    }
    assertThat(rows)
        .containsExactly(
            "[A, job-A, hash-A, 1, null, BIGINT]", "[B, job-B, hash-B, 2, it's, BIGINT]");
  }

  @Test
  void noOutputsStillWritesAFileWithTheLineageColumns() throws Exception {
    Path file = dir.resolve("empty.parquet");
    ParquetWriter.write(OutputTable.of(List.of()), file);
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = db.createStatement();
        ResultSet rs =
            statement.executeQuery("SELECT count(*), count(member) FROM '" + file + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isZero();
    }
  }

  private static Output json(String member, String text) {
    return output(member, "application/json", text.getBytes(StandardCharsets.UTF_8));
  }

  private static Output output(String member, String contentType, byte[] data) {
    return Output.newBuilder()
        .setPipeline("p")
        .setMember(member)
        .setJobId("job-" + member)
        .setCommitId("commit-" + member)
        .setGlobalId("global-" + member)
        .setDatumHash("datum-" + member)
        .setContentType(contentType)
        .setData(ByteBuffer.wrap(data))
        .setOutputHash("hash-" + member)
        .setInputs(List.of())
        .setInputCount(-1)
        .build();
  }
}
