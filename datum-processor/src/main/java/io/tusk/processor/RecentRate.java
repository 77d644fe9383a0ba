package io.tusk.processor;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Events per second over the last few whole seconds: a ring of one-second buckets. The current,
 * unfinished second is left out so the rate does not dip at the start of every second. Thread-safe;
 * workers record once per transaction, so the lock is cheap.
 */
final class RecentRate {
  private final int seconds;
  private final LongSupplier nanoTime;
  private final long[] counts;
  private final long[] stamps;

  /**
   * @param seconds the window
   * @param nanoTime a monotonic clock ({@code System::nanoTime} outside tests)
   */
  RecentRate(int seconds, LongSupplier nanoTime) {
    if (seconds < 1) {
      throw new IllegalArgumentException("window must be at least one second");
    }
    this.seconds = seconds;
    this.nanoTime = nanoTime;
    this.counts = new long[seconds + 1];
    this.stamps = new long[seconds + 1];
    Arrays.fill(stamps, Long.MIN_VALUE);
  }

  /** Counts {@code events} now. */
  synchronized void record(long events) {
    long second = now();
    int slot = slot(second);
    if (stamps[slot] != second) {
      stamps[slot] = second;
      counts[slot] = 0;
    }
    counts[slot] += events;
  }

  /** Mean events per second over the last {@code seconds} whole seconds. */
  synchronized double perSecond() {
    long second = now();
    long total = 0;
    for (int i = 0; i < stamps.length; i++) {
      long age = second - stamps[i];
      if (age >= 1 && age <= seconds) {
        total += counts[i];
      }
    }
    return (double) total / seconds;
  }

  private long now() {
    return TimeUnit.NANOSECONDS.toSeconds(nanoTime.getAsLong());
  }

  private int slot(long second) {
    return (int) Math.floorMod(second, (long) stamps.length);
  }
}
