package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CsvLineTest {

  @Test
  void shouldSplitPlainFields() throws Exception {
    assertThat(CsvLine.parse("1,abc,2019-01-01")).containsExactly("1", "abc", "2019-01-01");
  }

  @Test
  void shouldTreatEmptyUnquotedFieldsAsNullAndQuotedEmptyAsEmpty() throws Exception {
    assertThat(CsvLine.parse("1,,\"\",")).isEqualTo(Arrays.asList("1", null, "", null));
  }

  @Test
  void shouldUnquoteCommasAndDoubledQuotes() throws Exception {
    assertThat(CsvLine.parse("\"Gastrointestinal hemorrhage, unspecified\",\"say \"\"hi\"\"\""))
        .containsExactly("Gastrointestinal hemorrhage, unspecified", "say \"hi\"");
  }

  @Test
  void shouldIgnoreTrailingLineBreak() throws Exception {
    assertThat(CsvLine.parse("a,b\r\n")).containsExactly("a", "b");
  }

  @Test
  void shouldRejectUnbalancedQuote() {
    assertThatThrownBy(() -> CsvLine.parse("1,\"abc"))
        .isInstanceOf(CsvLine.MalformedCsvException.class)
        .hasMessageContaining("unbalanced quote");
  }

  @Test
  void shouldRejectTextAfterClosingQuote() {
    assertThatThrownBy(() -> CsvLine.parse("\"a\"b,c"))
        .isInstanceOf(CsvLine.MalformedCsvException.class);
  }
}
