package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.cli.RowLoader;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** What {@code tusk put} sends for a file, on a mock producer (no Kafka). */
class FileRowsTest {
  private static final List<String> COLUMNS = List.of("PERSON_ID", "CLAIM_ID", "AMOUNT");

  private final MockProducer<byte[], byte[]> producer =
      new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
  private final RowLoader loader = new RowLoader(producer, "claims.updates");

  @Test
  void shouldSendEachCsvLineKeyedByItsMemberWithTableAndFormatHeaders() throws IOException {
    // Given a CSV file with a byte order mark, a header line, CRLF line ends and a blank line
    byte[] file =
        utf8("\uFEFFPERSON_ID,CLAIM_ID,AMOUNT\r\nP1,c1,10\r\n\r\n\"P2\",\"c,2\",20\nP3,c3,30");
    FileRows rows = new FileRows(FileRows.Format.CSV, "claims", COLUMNS, "PERSON_ID");

    // When it is sent
    FileRows.Summary summary = rows.send(new ByteArrayInputStream(file), loader, (r, b) -> {});

    // Then three records went out, keyed by member, each line's bytes as the value
    assertThat(summary).isEqualTo(new FileRows.Summary(3, 2, 0));
    assertThat(producer.history()).extracting(r -> text(r.key())).containsExactly("P1", "P2", "P3");
    assertThat(producer.history())
        .extracting(r -> text(r.value()))
        .containsExactly("P1,c1,10", "\"P2\",\"c,2\",20", "P3,c3,30");
    assertThat(producer.history())
        .allSatisfy(
            r -> {
              assertThat(r.topic()).isEqualTo("claims.updates");
              assertThat(Headers.text(r.headers(), Headers.TABLE)).isEqualTo("claims");
              assertThat(Headers.text(r.headers(), Headers.FORMAT)).isEqualTo("csv");
            });
  }

  @Test
  void shouldKeyByTheChosenColumnWhenAMemberColumnIsGiven() throws IOException {
    FileRows rows = new FileRows(FileRows.Format.CSV, "claims", COLUMNS, "CLAIM_ID");
    rows.send(new ByteArrayInputStream(utf8("P1,c1,10\n")), loader, (r, b) -> {});
    assertThat(text(producer.history().get(0).key())).isEqualTo("c1");
  }

  @Test
  void shouldSendBadLinesUnchangedAndUnkeyedWhenNoMemberCanBeRead() throws IOException {
    // Given a malformed line, a line with an empty member, and bytes that are not UTF-8
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    file.writeBytes(utf8("\"P1,c1,10\n,c2,20\nP"));
    file.writeBytes(new byte[] {(byte) 0xC3, (byte) 0x28});
    file.writeBytes(utf8(",c3,30\n"));
    FileRows rows = new FileRows(FileRows.Format.CSV, "claims", COLUMNS, "PERSON_ID");

    // When it is sent
    FileRows.Summary summary =
        rows.send(new ByteArrayInputStream(file.toByteArray()), loader, (r, b) -> {});

    // Then all three go out (the service rejects them with reasons), the bytes exactly as read
    assertThat(summary).isEqualTo(new FileRows.Summary(3, 0, 2));
    assertThat(producer.history().get(0).key()).isNull();
    assertThat(producer.history().get(1).key()).isNull();
    assertThat(producer.history().get(2).value())
        .isEqualTo(new byte[] {'P', (byte) 0xC3, (byte) 0x28, ',', 'c', '3', ',', '3', '0'});
  }

  @Test
  void shouldKeyJsonLinesByTheMemberFieldWhenTheFileIsJsonLines() throws IOException {
    // Given JSON lines: a number member, a string member, one without the field, a blank line
    byte[] file =
        utf8(
            "{\"PERSON_ID\": 42, \"AMOUNT\": 1}\n\n{\"PERSON_ID\": \"P7\"}\n{\"AMOUNT\": 3}\n[1]\n");
    FileRows rows = new FileRows(FileRows.Format.JSON, "claims", COLUMNS, "PERSON_ID");

    // When it is sent
    FileRows.Summary summary = rows.send(new ByteArrayInputStream(file), loader, (r, b) -> {});

    // Then each line is a record with the json format header
    assertThat(summary).isEqualTo(new FileRows.Summary(4, 1, 2));
    assertThat(producer.history())
        .extracting(r -> r.key() == null ? null : text(r.key()))
        .containsExactly("42", "P7", null, null);
    assertThat(Headers.text(producer.history().get(0).headers(), Headers.FORMAT)).isEqualTo("json");
  }

  @Test
  void shouldReportRowsAndBytesReadWhenEachRowIsSent() throws IOException {
    List<long[]> seen = new ArrayList<>();
    FileRows rows = new FileRows(FileRows.Format.CSV, "claims", COLUMNS, "PERSON_ID");
    rows.send(
        new ByteArrayInputStream(utf8("P1,c1,10\nP2,c2,20\n")),
        loader,
        (r, b) -> seen.add(new long[] {r, b}));
    assertThat(seen).containsExactly(new long[] {1, 9}, new long[] {2, 18});
  }

  @Test
  void shouldRefuseAMemberColumnTheTableDoesNotHave() {
    assertThatThrownBy(() -> new FileRows(FileRows.Format.CSV, "claims", COLUMNS, "NOPE"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NOPE");
  }

  @Test
  void shouldChooseTheFormatByExtensionWhenNoneIsGiven() {
    assertThat(FileRows.Format.of("claims.jsonl")).isEqualTo(FileRows.Format.JSON);
    assertThat(FileRows.Format.of("claims.CSV")).isEqualTo(FileRows.Format.CSV);
    assertThat(FileRows.Format.of("claims.txt")).isEqualTo(FileRows.Format.CSV);
    assertThatThrownBy(() -> FileRows.Format.named("avro"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shouldUseAnIdempotentProducerWithAcksAllWhenLoadingARepo() {
    // The loader's producer settings are what makes retries never duplicate rows
    var props = KafkaSettings.of("b:9092", "", "t").producer("c", null);
    assertThat(props).containsEntry("enable.idempotence", true).containsEntry("acks", "all");
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
