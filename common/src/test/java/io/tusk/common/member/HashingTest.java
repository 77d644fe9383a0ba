package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Row;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashingTest {

  /** The member hash as first defined: one digest update per length and per value. */
  private static String reference(List<Row> rows) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    for (Row row : rows) {
      update(digest, row.getTable());
      digest.update(ByteBuffer.allocate(4).putInt(row.getValues().size()).array());
      for (String value : row.getValues()) {
        update(digest, value);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static void update(MessageDigest digest, String value) {
    if (value == null) {
      digest.update(ByteBuffer.allocate(4).putInt(-1).array());
      return;
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    digest.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    digest.update(bytes);
  }

  @Test
  void shouldKeepEveryMemberHashAsItWasWhenHashingThroughTheBuffer() throws Exception {
    // Given members of every shape: nulls, empty and non-ASCII values, values larger than the
    // buffer, many rows
    Random random = new Random(5);
    for (int member = 0; member < 300; member++) {
      List<Row> rows = new ArrayList<>();
      for (int r = 0, n = random.nextInt(80); r < n; r++) {
        List<String> values = new ArrayList<>();
        for (int v = 0, m = random.nextInt(20); v < m; v++) {
          int kind = random.nextInt(10);
          values.add(
              kind == 0
                  ? null
                  : kind == 1
                      ? ""
                      : kind == 2
                          ? "Zoë ✓ 日本"
                          : kind == 3 && r == 0 ? "x".repeat(20_000) : "v" + random.nextInt());
        }
        rows.add(new Row("T" + random.nextInt(3), values, 0, (long) r));
      }

      // When hashed / Then the hash is the reference one
      assertThat(Hashing.memberHash(rows)).isEqualTo(reference(rows));
    }
  }
}
