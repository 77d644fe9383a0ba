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
 * shuffle of all of them with SIGKILL (every third a broker, when there are brokers), starts it
 * again 1 to 3 seconds later and notes how long it took to recover. After the second kill it pauses
 * the leading commit service once ({@link LeaderPause}); after the fourth, when there are brokers,
 * a seeded one of them once ({@link BrokerVictim#pause}). As a supervisor would, it also starts
 * again any victim that exited on its own (a service that cannot do its job exits), and goes on
 * doing so after its last kill until the round {@link #stop stops}: a service that exits late in a
 * round is started again, not left down while the demo waits on it.
 */
final class Chaos implements Runnable {
  private static final Duration RECOVERY = Duration.ofMinutes(2);

  /** First wait before starting again a victim that exited while recovering; doubles each time. */
  private static final long FIRST_BACKOFF_MILLIS = 100;

  /** Longest such wait, as a supervisor's crash-loop back-off caps it. */
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  /** How often the supervisor looks for victims that exited, once the kills are done. */
  private static final long SUPERVISE_MILLIS = 1_000;

  /** Past the brokers' session with the controller (9 s), so the controller fences the node. */
  static final Duration BROKER_PAUSE = Duration.ofSeconds(16);

  private final List<Victim> victims;
  private final List<BrokerVictim> brokers;
  private final Random random;
  private final int maxKills;
  private final LeaderPause leaderPause;
  private final Duration recovery;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final List<String> events = new ArrayList<>();
  private final List<Long> recoveryMillis = new ArrayList<>();
  private String leaderPaused = "";
  private String brokerPaused = "";
  private int kills;

  /**
   * @param victims every service instance and broker that may be killed
   * @param brokers the brokers among them, one of which is paused once (none: no broker pause)
   */
  Chaos(
      List<Victim> victims,
      List<BrokerVictim> brokers,
      Random random,
      int maxKills,
      LeaderPause leaderPause) {
    this(victims, brokers, random, maxKills, leaderPause, RECOVERY);
  }

  /** As above, with how long a victim may take to recover (tests shorten it). */
  Chaos(
      List<Victim> victims,
      List<BrokerVictim> brokers,
      Random random,
      int maxKills,
      LeaderPause leaderPause,
      Duration recovery) {
    this.recovery = recovery;
    this.victims = order(victims, brokers, random);
    this.brokers = List.copyOf(brokers);
    this.random = random;
    this.maxKills = maxKills;
    this.leaderPause = leaderPause;
  }

  /**
   * A seeded shuffle of the services with a seeded shuffle of the brokers woven in as every third
   * victim, so a short round kills brokers and services alike.
   */
  private static List<Victim> order(
      List<Victim> victims, List<BrokerVictim> brokers, Random random) {
    List<Victim> services = new ArrayList<>(victims);
    services.removeAll(brokers);
    Collections.shuffle(services, random);
    List<Victim> nodes = new ArrayList<>(brokers);
    Collections.shuffle(nodes, random);
    List<Victim> order = new ArrayList<>();
    while (!services.isEmpty() || !nodes.isEmpty()) {
      boolean brokerTurn = order.size() % 3 == 1;
      List<Victim> from = (brokerTurn && !nodes.isEmpty()) || services.isEmpty() ? nodes : services;
      order.add(from.remove(0));
    }
    return order;
  }

  void stop() {
    stopped.set(true);
  }

  synchronized int kills() {
    return kills;
  }

  /** Per kill, from the restart to recovered. */
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

  /** What the broker's pause did; empty when it did not run. */
  synchronized String brokerPause() {
    return brokerPaused;
  }

  @Override
  public void run() {
    try {
      kill();
    } catch (Exception e) {
      note("the schedule stopped by " + e);
    }
    // The schedule is over; until the round ends, start again whatever exits, as a supervisor does
    try {
      while (!pause(SUPERVISE_MILLIS)) {
        restartExited();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The kills and the two pauses, each after a seeded wait. */
  private void kill() throws InterruptedException {
    while (!stopped.get() && kills() < maxKills) {
      if (pause(3_000 + random.nextInt(3_000))) {
        return;
      }
      restartExited();
      if (kills() == 2 && leaderPause().isEmpty()) {
        String paused = leaderPause.run();
        synchronized (this) {
          leaderPaused = paused;
        }
        note(paused);
        continue;
      }
      if (kills() == 4 && !brokers.isEmpty() && brokerPause().isEmpty()) {
        String paused = brokers.get(random.nextInt(brokers.size())).pause(BROKER_PAUSE);
        synchronized (this) {
          brokerPaused = paused;
        }
        note(paused);
        continue;
      }
      Victim victim = victims.get(kills() % victims.size());
      victim.kill();
      long down = 1_000 + random.nextInt(2_000);
      pause(down);
      long restarted = System.nanoTime();
      victim.start();
      boolean recovered = recover(victim);
      long took = (System.nanoTime() - restarted) / 1_000_000;
      synchronized (this) {
        kills++;
        if (recovered) {
          recoveryMillis.add(took);
        }
      }
      note(
          victim.name()
              + " down "
              + down
              + " ms, "
              + (recovered
                  ? "recovered " + took + " ms after start"
                  : "not recovered " + took + " ms after start; left to the supervisor"));
    }
  }

  /**
   * Waits until {@code victim} recovers, starting it again whenever it exits (a service that cannot
   * start in time exits: it fails loudly), after a back-off that doubles, as a supervisor would;
   * false when {@link #recovery} passes first.
   */
  private boolean recover(Victim victim) throws InterruptedException {
    long end = System.nanoTime() + recovery.toNanos();
    long backoff = FIRST_BACKOFF_MILLIS;
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      try {
        victim.awaitRecovered(Duration.ofNanos(left));
        return true;
      } catch (IllegalStateException e) {
        if (victim.alive()) {
          return false;
        }
        TimeUnit.MILLISECONDS.sleep(Math.min(backoff, Math.max(1, left / 1_000_000)));
        backoff = Math.min(2 * backoff, MAX_BACKOFF_MILLIS);
        victim.start();
        note(victim.name() + " exited while recovering; started again");
      }
    }
  }

  /**
   * After the round: starts any victim that exited, then waits until each of {@code which}
   * recovers, starting again one that exits meanwhile (as during the round).
   *
   * @throws IllegalStateException naming the first that did not recover within two minutes
   */
  void recoverAll(List<? extends Victim> which) throws InterruptedException {
    restartExited();
    for (Victim victim : which) {
      if (!recover(victim)) {
        throw new IllegalStateException(
            victim.name() + " did not recover within " + recovery + " after the round");
      }
    }
  }

  /** Starts any victim that exited on its own, as a supervisor does, and notes it. */
  private void restartExited() {
    for (Victim victim : victims) {
      if (!victim.alive()) {
        victim.start();
        note(victim.name() + " had exited on its own; started again");
      }
    }
  }

  private synchronized void note(String event) {
    events.add(event);
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
