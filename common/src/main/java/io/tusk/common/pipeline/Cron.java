package io.tusk.common.pipeline;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Objects;
import java.util.Optional;

/**
 * A five-field cron schedule in UTC: {@code minute hour day-of-month month day-of-week}, each field
 * {@code *}, a number {@code a}, a range {@code a-b}, any of those three followed by a step {@code
 * /s} (for {@code a/s}: every s-th value from a on), or a comma-separated list of those. Day of
 * week runs 0-7 with 0 and 7 both Sunday. As in Vixie cron, when both day fields are restricted a
 * day matches if either does. A repo's trigger ({@link RepoSpecs}) is checked with it, and the
 * commit service seals on its schedule.
 */
public final class Cron {
  /** How far ahead {@link #next} looks: long enough for "29 February on a Monday". */
  private static final int SEARCH_YEARS = 30;

  private final String expression;
  private final BitSet minutes;
  private final BitSet hours;
  private final BitSet daysOfMonth;
  private final BitSet months;
  private final BitSet daysOfWeek;
  private final boolean anyDayOfMonth;
  private final boolean anyDayOfWeek;

  private Cron(String expression, String[] fields) {
    this.expression = expression;
    this.minutes = field("minute", fields[0], 0, 59);
    this.hours = field("hour", fields[1], 0, 23);
    this.daysOfMonth = field("day of month", fields[2], 1, 31);
    this.months = field("month", fields[3], 1, 12);
    BitSet week = field("day of week", fields[4], 0, 7);
    if (week.get(7)) {
      week.set(0);
    }
    this.daysOfWeek = week;
    this.anyDayOfMonth = fields[2].startsWith("*");
    this.anyDayOfWeek = fields[4].startsWith("*");
  }

  /**
   * Parses a schedule.
   *
   * @throws IllegalArgumentException saying which field is wrong, or that the schedule never fires
   */
  public static Cron parse(String expression) {
    Objects.requireNonNull(expression, "expression");
    String[] fields = expression.trim().split("\\s+");
    if (fields.length != 5) {
      throw new IllegalArgumentException(
          "must have 5 fields (minute hour day-of-month month day-of-week), got "
              + (expression.isBlank() ? 0 : fields.length));
    }
    Cron cron = new Cron(expression.trim(), fields);
    // A schedule such as "0 0 31 2 *" parses but would silently never seal.
    if (cron.next(ZonedDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)).isEmpty()) {
      throw new IllegalArgumentException("never fires (no such date)");
    }
    return cron;
  }

  /** True if the schedule fires in the minute of {@code time} (taken in UTC). */
  public boolean matches(ZonedDateTime time) {
    ZonedDateTime utc = time.withZoneSameInstant(ZoneOffset.UTC);
    return minutes.get(utc.getMinute())
        && hours.get(utc.getHour())
        && months.get(utc.getMonthValue())
        && dayMatches(utc.toLocalDate());
  }

  /** The first minute strictly after {@code after} in which the schedule fires. */
  public Optional<ZonedDateTime> next(ZonedDateTime after) {
    LocalDateTime time =
        after
            .withZoneSameInstant(ZoneOffset.UTC)
            .toLocalDateTime()
            .truncatedTo(ChronoUnit.MINUTES)
            .plusMinutes(1);
    LocalDateTime limit = time.plusYears(SEARCH_YEARS);
    // Skip whole months, days and hours that cannot match, so a search takes few steps.
    while (time.isBefore(limit)) {
      if (!months.get(time.getMonthValue())) {
        time = time.withDayOfMonth(1).truncatedTo(ChronoUnit.DAYS).plusMonths(1);
      } else if (!dayMatches(time.toLocalDate())) {
        time = time.truncatedTo(ChronoUnit.DAYS).plusDays(1);
      } else if (!hours.get(time.getHour())) {
        time = time.truncatedTo(ChronoUnit.HOURS).plusHours(1);
      } else if (!minutes.get(time.getMinute())) {
        time = time.plusMinutes(1);
      } else {
        return Optional.of(time.atZone(ZoneOffset.UTC));
      }
    }
    return Optional.empty();
  }

  private boolean dayMatches(LocalDate date) {
    boolean dayOfMonth = daysOfMonth.get(date.getDayOfMonth());
    boolean dayOfWeek = daysOfWeek.get(date.getDayOfWeek().getValue() % 7);
    if (anyDayOfMonth || anyDayOfWeek) {
      return dayOfMonth && dayOfWeek;
    }
    return dayOfMonth || dayOfWeek;
  }

  /** The values of one field as bits {@code min..max}. */
  private static BitSet field(String name, String text, int min, int max) {
    BitSet values = new BitSet(max + 1);
    for (String part : text.split(",", -1)) {
      try {
        addPart(values, part, min, max);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            name
                + " field '"
                + text
                + "': "
                + e.getMessage()
                + " (allowed "
                + min
                + "-"
                + max
                + ")",
            e);
      }
    }
    return values;
  }

  private static void addPart(BitSet values, String part, int min, int max) {
    int slash = part.indexOf('/');
    String range = slash < 0 ? part : part.substring(0, slash);
    int step = slash < 0 ? 1 : number(part.substring(slash + 1), 1, max);
    int from;
    int to;
    if (range.equals("*")) {
      from = min;
      to = max;
    } else if (range.contains("-")) {
      int dash = range.indexOf('-');
      from = number(range.substring(0, dash), min, max);
      to = number(range.substring(dash + 1), min, max);
      if (from > to) {
        throw new IllegalArgumentException("range " + range + " runs backwards");
      }
    } else {
      from = number(range, min, max);
      // "a/s" means every s-th value from a on; a plain "a" is that value alone.
      to = slash < 0 ? from : max;
    }
    for (int value = from; value <= to; value += step) {
      values.set(value);
    }
  }

  private static int number(String text, int min, int max) {
    if (text.isEmpty() || !text.chars().allMatch(Character::isDigit) || text.length() > 4) {
      throw new IllegalArgumentException("'" + text + "' is not a number");
    }
    int value = Integer.parseInt(text);
    if (value < min || value > max) {
      throw new IllegalArgumentException(value + " is out of range");
    }
    return value;
  }

  @Override
  public String toString() {
    return expression;
  }
}
