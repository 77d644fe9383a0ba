package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ColumnTypeTest {

  @Test
  void shouldAcceptTheTextsOfEachTypeWhenTheyParse() {
    // Given valid texts of each type, Then each is accepted
    assertThat(ColumnType.INT.accepts("-42")).isTrue();
    assertThat(ColumnType.LONG.accepts("9000000000")).isTrue();
    assertThat(ColumnType.DOUBLE.accepts("1.5e3")).isTrue();
    assertThat(ColumnType.DOUBLE.accepts("-.5")).isTrue();
    assertThat(ColumnType.BOOLEAN.accepts("TRUE")).isTrue();
    assertThat(ColumnType.DATE.accepts("2019-01-02")).isTrue();
    assertThat(ColumnType.TIMESTAMP.accepts("2019-01-02T03:04:05Z")).isTrue();
    assertThat(ColumnType.TIMESTAMP.accepts("2019-01-02T03:04:05.123+01:00")).isTrue();
    assertThat(ColumnType.TIMESTAMP.accepts("2019-01-02T03:04:05")).isTrue();
    assertThat(ColumnType.STRING.accepts("")).isTrue();
  }

  @Test
  void shouldRefuseTextsThatJavaWouldStretchToATypeWhenTheyAreNotPlainForms() {
    // Given texts Java's parsers take but a column type should not, Then each is refused
    assertThat(ColumnType.INT.accepts("9000000000")).isFalse();
    assertThat(ColumnType.INT.accepts("\u0664\u0662")).isFalse(); // Arabic-Indic digits
    assertThat(ColumnType.INT.accepts(" 42")).isFalse();
    assertThat(ColumnType.INT.accepts("")).isFalse();
    assertThat(ColumnType.DOUBLE.accepts("NaN")).isFalse();
    assertThat(ColumnType.DOUBLE.accepts("Infinity")).isFalse();
    assertThat(ColumnType.DOUBLE.accepts("1.5d")).isFalse();
    assertThat(ColumnType.DOUBLE.accepts("1e999")).isFalse();
    assertThat(ColumnType.BOOLEAN.accepts("yes")).isFalse();
    assertThat(ColumnType.DATE.accepts("2019-02-30")).isFalse();
    assertThat(ColumnType.DATE.accepts("02/01/2019")).isFalse();
    assertThat(ColumnType.TIMESTAMP.accepts("2019-01-02")).isFalse();
  }

  @Test
  void shouldFindTypesByTheirSpecNamesWhenCaseDiffers() {
    assertThat(ColumnType.named("Timestamp")).contains(ColumnType.TIMESTAMP);
    assertThat(ColumnType.named("integer")).isEmpty();
  }
}
