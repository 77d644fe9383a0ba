package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.Hashing;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The datum-status store's encoding: every value reads back unchanged, hashes take their bytes. */
class DatumStatusTest {
  private static final String JOB = "01JBXKQ7ZP3M4D5N6R7S8T9V0W";

  private static String sha(String text) {
    return Hashing.sha256Hex(text);
  }

  private static DatumStatus withSuccesses(int n) {
    DatumStatus status = DatumStatus.none();
    for (int i = 0; i < n; i++) {
      String datum = sha("datum-" + i);
      status =
          status.emitted(datum, JOB).done(datum, JOB, true, i % 3 == 0 ? null : sha("out" + i));
    }
    return status.emitted(sha("next"), JOB);
  }

  private static DatumStatus roundTrip(DatumStatus status) {
    byte[] bytes = DatumStatus.SERDE.serializer().serialize("t", status);
    return DatumStatus.SERDE.deserializer().deserialize("t", bytes);
  }

  @Test
  void shouldReadBackEveryStatusUnchanged() {
    // Given statuses with nothing, some and the most kept successes, removals among them
    for (DatumStatus status :
        List.of(
            DatumStatus.none(), withSuccesses(1), withSuccesses(DatumStatus.KEPT_SUCCESSES + 3))) {
      // Then each reads back equal
      assertThat(roundTrip(status)).isEqualTo(status);
    }
  }

  @Test
  void shouldReadBackHashesThatAreNotLowercaseHexAsTheyWere() {
    // Given hashes of other forms (upper case, odd length, any text, empty)
    DatumStatus status =
        new DatumStatus(
            "ABCDEF01",
            false,
            "abc",
            DatumStatus.State.FAILED,
            JOB,
            List.of(new DatumStatus.Success("", "not-hex"), new DatumStatus.Success("0a", null)));

    // Then they read back unchanged
    assertThat(roundTrip(status)).isEqualTo(status);
  }

  @Test
  void shouldStoreSha256HashesInHalfTheBytesOfTheirHex() {
    // Given a member with the most kept successes
    DatumStatus status = withSuccesses(DatumStatus.KEPT_SUCCESSES);
    int hexChars = 2 + 2 * DatumStatus.KEPT_SUCCESSES; // current, last, pairs (some outputs null)
    byte[] bytes = DatumStatus.SERDE.serializer().serialize("t", status);

    // Then its encoding is well under the hashes' hex alone
    assertThat(bytes.length).isLessThan(hexChars * 64 * 6 / 10);
  }

  @Test
  void shouldReadStatusesStoredInFormatTwo() {
    // Given a status as format 2 stored it: hashes as strings
    DatumStatus status = withSuccesses(2);
    ByteBuffer old = ByteBuffer.allocate(4096);
    old.put((byte) 2);
    putString(old, status.currentHash());
    old.putInt(status.currentRemoved() ? 1 : 0);
    putString(old, status.lastHash());
    old.putInt(status.state().ordinal());
    putString(old, status.jobId());
    old.putInt(status.successes().size());
    for (DatumStatus.Success success : status.successes()) {
      putString(old, success.datumHash());
      putString(old, success.outputHash());
    }
    byte[] bytes = new byte[old.position()];
    old.flip().get(bytes);

    // Then it reads back equal
    assertThat(DatumStatus.SERDE.deserializer().deserialize("t", bytes)).isEqualTo(status);
  }

  private static void putString(ByteBuffer buffer, String value) {
    if (value == null) {
      buffer.putInt(-1);
      return;
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    buffer.putInt(bytes.length).put(bytes);
  }
}
