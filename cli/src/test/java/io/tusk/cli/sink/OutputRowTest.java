package io.tusk.cli.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.schemas.Output;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How an output becomes a row of the sink's table, and the table names the sink accepts. */
class OutputRowTest {

  @Test
  void jsonOutputIsTextAndJson() {
    OutputRow row = OutputRow.of("M1", output("application/json", "{\"rows\":3}".getBytes()));
    assertThat(row.member()).isEqualTo("M1");
    assertThat(row.dataText()).isEqualTo("{\"rows\":3}");
    assertThat(row.dataJson()).isEqualTo("{\"rows\":3}");
    assertThat(row.outputHash()).isEqualTo("hash");
    assertThat(row.jobId()).isEqualTo("job");
  }

  @Test
  void textIsNotJsonUnlessItsContentTypeSaysSo() {
    OutputRow csv = OutputRow.of("M1", output("text/csv", "{\"rows\":3}".getBytes()));
    assertThat(csv.dataText()).isEqualTo("{\"rows\":3}");
    assertThat(csv.dataJson()).isNull();
  }

  @Test
  void invalidJsonKeepsItsTextButNoJson() {
    OutputRow row = OutputRow.of("M1", output("application/json", "{rows".getBytes()));
    assertThat(row.dataText()).isEqualTo("{rows");
    assertThat(row.dataJson()).isNull();
  }

  @Test
  void bytesPostgresCannotHoldAsTextStayBytesOnly() {
    byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x41};
    OutputRow row = OutputRow.of("M1", output("application/octet-stream", binary));
    assertThat(row.data()).isEqualTo(binary);
    assertThat(row.dataText()).isNull();
    byte[] nul = "a\0b".getBytes(StandardCharsets.UTF_8);
    assertThat(OutputRow.of("M1", output("text/plain", nul)).dataText()).isNull();
    byte[] escapedNul = "{\"a\":\"\\u0000\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(OutputRow.of("M1", output("application/json", escapedNul)).dataJson()).isNull();
  }

  @Test
  void defaultTableIsThePipelineNameAsAnIdentifier() {
    assertThat(PostgresSink.defaultTable("claims-Summary.v2")).isEqualTo("claims_summary_v2");
    assertThat(PostgresSink.defaultTable("2024-cohorts")).isEqualTo("p_2024_cohorts");
    assertThat(PostgresSink.defaultTable("x".repeat(80))).hasSize(63);
  }

  @Test
  void tableNamesThatAreNotIdentifiersAreRefusedBeforeAnythingConnects() {
    for (String bad : List.of("a-b", "a.b.c", "1abc", "a;drop", "\"x\"", "")) {
      assertThatThrownBy(() -> new PostgresSink(null, "p", null, bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static Output output(String contentType, byte[] data) {
    return Output.newBuilder()
        .setPipeline("p")
        .setMember("M1")
        .setJobId("job")
        .setCommitId("commit")
        .setGlobalId("global")
        .setDatumHash("datum")
        .setContentType(contentType)
        .setData(ByteBuffer.wrap(data))
        .setOutputHash("hash")
        .setInputs(List.of())
        .setInputCount(0)
        .build();
  }
}
