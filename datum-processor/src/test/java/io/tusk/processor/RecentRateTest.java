package io.tusk.processor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentRateTest {
  private final AtomicLong nanos = new AtomicLong(TimeUnit.SECONDS.toNanos(1000));
  private final RecentRate rate = new RecentRate(10, nanos::get);

  private void advanceSeconds(long seconds) {
    nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
  }

  @Test
  void shouldAverageWholeSecondsOfTheWindowWhenEventsKeepComing() {
    // Given 50 events in each of 10 seconds
    for (int i = 0; i < 10; i++) {
      rate.record(50);
      advanceSeconds(1);
    }

    // When the rate is read
    double perSecond = rate.perSecond();

    // Then it is 50 per second
    assertThat(perSecond).isEqualTo(50.0);
  }

  @Test
  void shouldLeaveOutTheCurrentSecondAndForgetOldOnesWhenTimePasses() {
    // Given 100 events now
    rate.record(100);

    // When read in the same second, one second later, and long after
    double sameSecond = rate.perSecond();
    advanceSeconds(1);
    double nextSecond = rate.perSecond();
    advanceSeconds(20);
    double later = rate.perSecond();

    // Then the unfinished second does not count, then it does, then it has expired
    assertThat(sameSecond).isZero();
    assertThat(nextSecond).isEqualTo(10.0);
    assertThat(later).isZero();
  }
}
