package io.tusk.common.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class QueryParamsTest {

  @Test
  void shouldReadALimitInRangeAndDefaultWhenAbsent() {
    assertThat(QueryParams.limit(null, 50, 1000)).isEqualTo(50);
    assertThat(QueryParams.limit("1", 50, 1000)).isEqualTo(1);
    assertThat(QueryParams.limit(" 1000 ", 50, 1000)).isEqualTo(1000);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "-1",
        "0",
        "1001",
        "2147483648",
        "9223372036854775808",
        "1e9",
        "abc",
        "",
        "1.5",
        "0x10"
      })
  void shouldRefuseALimitOutOfRangeOrNotAWholeNumberWith400(String value) {
    ApiException error =
        catchThrowableOfType(ApiException.class, () -> QueryParams.limit(value, 50, 1000));

    assertThat(error.status()).isEqualTo(400);
    assertThat(error.getMessage()).startsWith("limit must be a whole number from 1 to 1000");
  }

  @Test
  void shouldQuoteOnlyAShortPrefixOfAHugeLimit() {
    String huge = "9".repeat(10_000);

    ApiException error =
        catchThrowableOfType(ApiException.class, () -> QueryParams.limit(huge, 50, 1000));

    assertThat(error.getMessage()).hasSizeLessThan(200).contains("9999...");
  }
}
