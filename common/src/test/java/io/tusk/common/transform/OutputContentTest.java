package io.tusk.common.transform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputContentTest {
  @Test
  void jsonIsWhatTheMediaTypeSays() {
    assertThat(OutputContent.isJson("application/json")).isTrue();
    assertThat(OutputContent.isJson("Application/JSON; charset=utf-8")).isTrue();
    assertThat(OutputContent.isJson("application/ld+json")).isTrue();
    assertThat(OutputContent.isJson("text/csv")).isFalse();
    assertThat(OutputContent.isJson("text/json+x")).isFalse();
    assertThat(OutputContent.isJson("application/octet-stream")).isFalse();
  }

  @Test
  void textOnlyWhenTheBytesAreValidUtf8() {
    assertThat(OutputContent.utf8("Zoë, 3 rows".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("Zoë, 3 rows");
    assertThat(OutputContent.utf8(new byte[] {(byte) 0xc3, 0x28})).isNull();
    assertThat(OutputContent.utf8(new byte[0])).isEmpty();
  }
}
