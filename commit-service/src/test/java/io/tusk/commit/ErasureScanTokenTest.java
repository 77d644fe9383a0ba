package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The scan counts a member key only as a whole token, so "p-1" is not found inside "p-10". */
class ErasureScanTokenTest {
  private static boolean holds(String bytes, String member) {
    return ErasureScan.containsToken(
        bytes == null ? null : bytes.getBytes(StandardCharsets.UTF_8),
        member.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldFindTheKeyAloneOrBetweenSeparators() {
    assertThat(holds("p-1", "p-1")).isTrue();
    assertThat(holds("{\"member\":\"p-1\"}", "p-1")).isTrue();
    assertThat(holds("repo/p-1\u0000x", "p-1")).isTrue();
    assertThat(holds("x p-1", "p-1")).isTrue();
  }

  @Test
  void shouldNotFindTheKeyInsideALongerWord() {
    assertThat(holds("p-10", "p-1")).isFalse();
    assertThat(holds("xp-1", "p-1")).isFalse();
    assertThat(holds("_p-1", "p-1")).isFalse();
    assertThat(holds("p-1-a", "p-1")).isFalse();
    assertThat(holds("p-1_", "p-1")).isFalse();
  }

  @Test
  void shouldFindALaterWholeOccurrenceAfterAPartialOne() {
    assertThat(holds("p-10 p-1", "p-1")).isTrue();
  }

  @Test
  void shouldFindNothingInNullOrShortValues() {
    assertThat(holds(null, "p-1")).isFalse();
    assertThat(holds("p-", "p-1")).isFalse();
    assertThat(holds("", "p-1")).isFalse();
  }
}
