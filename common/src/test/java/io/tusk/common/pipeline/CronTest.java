package io.tusk.common.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class CronTest {
  private static ZonedDateTime utc(int year, int month, int day, int hour, int minute) {
    return ZonedDateTime.of(year, month, day, hour, minute, 0, 0, ZoneOffset.UTC);
  }

  @Test
  void shouldFireEveryFiveMinutesWhenTheMinuteFieldHasAStep() {
    // Given a schedule every 5 minutes
    Cron cron = Cron.parse("*/5 * * * *");

    // Then it matches minutes 0, 5, ... and the next firing after 10:07:30 is 10:10
    assertThat(cron.matches(utc(2026, 3, 1, 10, 0))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 1, 10, 55))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 1, 10, 7))).isFalse();
    assertThat(cron.next(utc(2026, 3, 1, 10, 7).plusSeconds(30))).contains(utc(2026, 3, 1, 10, 10));
    // And the next firing is strictly after a matching minute
    assertThat(cron.next(utc(2026, 3, 1, 10, 10))).contains(utc(2026, 3, 1, 10, 15));
  }

  @Test
  void shouldCombineListsRangesAndStepsWhenFieldsMixThem() {
    // Given minutes 0 and 30, hours 9 to 17 every 2, weekdays
    Cron cron = Cron.parse("0,30 9-17/2 * * 1-5");

    // Then 2026-03-02 (a Monday) 11:30 matches, 12:30 (odd step) and Saturday do not
    assertThat(cron.matches(utc(2026, 3, 2, 11, 30))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 2, 17, 0))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 2, 12, 30))).isFalse();
    assertThat(cron.matches(utc(2026, 3, 7, 11, 30))).isFalse();
    // And after Friday 17:30 the next firing is Monday 9:00
    assertThat(cron.next(utc(2026, 3, 6, 17, 30))).contains(utc(2026, 3, 9, 9, 0));
  }

  @Test
  void shouldReadTimesInUtcWhenGivenAnotherZone() {
    // Given a schedule at 12:00 UTC
    Cron cron = Cron.parse("0 12 * * *");

    // Then 13:00 in Paris in winter (12:00 UTC) matches
    assertThat(cron.matches(ZonedDateTime.of(2026, 1, 15, 13, 0, 0, 0, ZoneId.of("Europe/Paris"))))
        .isTrue();
  }

  @Test
  void shouldMatchEitherDayFieldWhenBothAreRestricted() {
    // Given "the 1st of the month, and every Sunday" (day fields combine with OR, as in cron)
    Cron cron = Cron.parse("0 0 1 * 0");

    // Then Sunday 2026-03-08 and Wednesday 2026-04-01 both match, Monday 2026-03-09 does not
    assertThat(cron.matches(utc(2026, 3, 8, 0, 0))).isTrue();
    assertThat(cron.matches(utc(2026, 4, 1, 0, 0))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 9, 0, 0))).isFalse();
  }

  @Test
  void shouldTreatSevenAsSundayWhenInTheDayOfWeekField() {
    // Given Sundays written as 7
    Cron cron = Cron.parse("0 0 * * 7");

    // Then Sunday 2026-03-08 matches
    assertThat(cron.matches(utc(2026, 3, 8, 0, 0))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 7, 0, 0))).isFalse();
  }

  @Test
  void shouldFindRareDatesWhenTheScheduleNamesLeapDays() {
    // Given 29 February at 06:15
    Cron cron = Cron.parse("15 6 29 2 *");

    // Then after March 2026 the next firing is in 2028
    assertThat(cron.next(utc(2026, 3, 1, 0, 0))).contains(utc(2028, 2, 29, 6, 15));
  }

  @Test
  void shouldStepFromTheStartWhenAStepFollowsANumber() {
    // Given minute "10/20": 10, 30, 50
    Cron cron = Cron.parse("10/20 * * * *");

    // Then those minutes match and others do not
    assertThat(cron.matches(utc(2026, 3, 1, 0, 10))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 1, 0, 30))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 1, 0, 50))).isTrue();
    assertThat(cron.matches(utc(2026, 3, 1, 0, 20))).isFalse();
  }

  @Test
  void shouldNameTheFieldWhenAScheduleIsInvalid() {
    assertThatThrownBy(() -> Cron.parse("* * * *")).hasMessageContaining("5 fields");
    assertThatThrownBy(() -> Cron.parse("")).hasMessageContaining("got 0");
    assertThatThrownBy(() -> Cron.parse("60 * * * *")).hasMessageContaining("minute field '60'");
    assertThatThrownBy(() -> Cron.parse("* 24 * * *")).hasMessageContaining("hour field");
    assertThatThrownBy(() -> Cron.parse("* * 0 * *")).hasMessageContaining("day of month");
    assertThatThrownBy(() -> Cron.parse("* * * 13 *")).hasMessageContaining("month field");
    assertThatThrownBy(() -> Cron.parse("* * * * 8")).hasMessageContaining("day of week");
    assertThatThrownBy(() -> Cron.parse("5-1 * * * *")).hasMessageContaining("backwards");
    assertThatThrownBy(() -> Cron.parse("*/0 * * * *")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> Cron.parse("a * * * *")).hasMessageContaining("'a' is not a number");
    assertThatThrownBy(() -> Cron.parse("1,,2 * * * *")).hasMessageContaining("minute field");
  }

  @Test
  void shouldRefuseAScheduleWhenItNeverFires() {
    assertThatThrownBy(() -> Cron.parse("0 0 31 2 *")).hasMessageContaining("never fires");
  }
}
