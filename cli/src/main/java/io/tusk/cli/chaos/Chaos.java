package io.tusk.cli.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The schedule of one round: every 3 to 6 seconds (seeded) it kills the next victim of a seeded
 * shuffle of all of them with SIGKILL (so each kind dies early, and in turn), starts it again 1 to
 * 3 seconds later and notes how long it took to answer {@code /health} again. After the second kill
 * it pauses the leading commit service once ({@link LeaderPause}).
 */
final class Chaos implements Runnable {
  private static final Duration HEALTHY = Duration.ofMinutes(2);

  private final List<ServiceProcess> victims;
  private final Random random;
  private final int maxKills;
  private final LeaderPause leaderPause;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final List<String> events = new ArrayList<>();
  private final List<Long> recoveryMillis = new ArrayList<>();
  private String leaderPaused = "";
  private int kills;

  Chaos(List<ServiceProcess> victims, Random random, int maxKills, LeaderPause leaderPause) {
    this.victims = new ArrayList<>(victims);
    Collections.shuffle(this.victims, random);
    this.random = random;
    this.maxKills = maxKills;
    this.leaderPause = leaderPause;
  }

  void stop() {
    stopped.set(true);
  }

  synchronized int kills() {
    return kills;
  }

  /** Per kill, from the restart to a healthy {@code /health}. */
  synchronized List<Long> recoveryMillis() {
    return List.copyOf(recoveryMillis);
  }

  /** What was killed and paused, in order. */
  synchronized List<String> events() {
    return List.copyOf(events);
  }

  /** What the leader's pause did; empty when it did not run. */
  synchronized String leaderPause() {
    return leaderPaused;
  }

  @Override
  public void run() {
    try {
      while (!stopped.get() && kills() < maxKills) {
        if (pause(3_000 + random.nextInt(3_000))) {
          return;
        }
        if (kills() == 2 && leaderPause().isEmpty()) {
          String paused = leaderPause.run();
          synchronized (this) {
            leaderPaused = paused;
            events.add(paused);
          }
          continue;
        }
        ServiceProcess victim = victims.get(kills() % victims.size());
        victim.kill();
        long down = 1_000 + random.nextInt(2_000);
        pause(down);
        long restarted = System.nanoTime();
        victim.start();
        victim.awaitHealthy(HEALTHY);
        long recovered = (System.nanoTime() - restarted) / 1_000_000;
        synchronized (this) {
          kills++;
          recoveryMillis.add(recovered);
          events.add(
              victim.name() + " down " + down + " ms, healthy " + recovered + " ms after start");
        }
      }
    } catch (Exception e) {
      synchronized (this) {
        events.add("chaos stopped by " + e);
      }
    }
  }

  /** Waits, or returns true at once when stopped. */
  private boolean pause(long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      if (stopped.get()) {
        return true;
      }
      TimeUnit.MILLISECONDS.sleep(Math.min(100, end - System.currentTimeMillis() + 1));
    }
    return false;
  }
}
