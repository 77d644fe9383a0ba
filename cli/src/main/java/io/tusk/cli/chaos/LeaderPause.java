package io.tusk.cli.chaos;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Pauses the leading commit service with SIGSTOP (as a long GC pause or a frozen VM does) until the
 * other instance has taken the lead, which takes at least its group session (10 s), at most {@link
 * #MAX_PAUSE}; resumes it, and checks that exactly one instance leads afterwards: the paused one
 * finds its session gone and stands down, having written nothing (its sealer was fenced).
 */
final class LeaderPause {
  /** Longest pause: the session (10 s), the rebalance and the takeover, on a loaded machine. */
  static final Duration MAX_PAUSE = Duration.ofSeconds(60);

  private static final Duration SETTLE = Duration.ofMinutes(2);

  private final List<ServiceProcess> commits;
  private final String token;

  LeaderPause(List<ServiceProcess> commits, String token) {
    this.commits = List.copyOf(commits);
    this.token = token;
  }

  /** The commit service that leads, waiting up to two minutes for one; empty if none did. */
  Optional<ServiceProcess> awaitLeader() throws InterruptedException {
    Optional<ServiceProcess> found = Optional.empty();
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (found.isEmpty() && System.nanoTime() < deadline) {
      for (ServiceProcess commit : commits) {
        if (found.isEmpty() && leading(commit) == Boolean.TRUE) {
          found = Optional.of(commit);
        }
      }
      if (found.isEmpty()) {
        TimeUnit.MILLISECONDS.sleep(250);
      }
    }
    return found;
  }

  /** What happened, for the summary; it says "the other led" when the lead moved. */
  String run() throws InterruptedException {
    Optional<ServiceProcess> found = awaitLeader();
    if (found.isEmpty()) {
      return "no commit service led within " + SETTLE;
    }
    ServiceProcess leader = found.get();
    ServiceProcess other = commits.get(commits.indexOf(leader) == 0 ? 1 : 0);
    long paused = System.nanoTime();
    leader.pause();
    Long otherLed = null;
    try {
      while (otherLed == null && System.nanoTime() - paused < MAX_PAUSE.toNanos()) {
        if (leading(other) == Boolean.TRUE) {
          otherLed = (System.nanoTime() - paused) / 1_000_000;
        } else {
          TimeUnit.MILLISECONDS.sleep(250);
        }
      }
    } finally {
      leader.resume();
    }
    if (otherLed == null) {
      return leader.name() + " paused " + MAX_PAUSE.toSeconds() + " s; the other never led";
    }
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (!(leading(leader) == Boolean.FALSE && leading(other) == Boolean.TRUE)) {
      if (System.nanoTime() > deadline) {
        return leader.name() + " resumed, but the two did not settle on one leader";
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    return leader.name()
        + " paused; the other led "
        + otherLed
        + " ms after the pause began, and still leads after the resume";
  }

  /** Whether {@code commit} says it leads; null when it does not answer. */
  private Boolean leading(ServiceProcess commit) throws InterruptedException {
    return commit
        .get("/leader", token, Duration.ofSeconds(2))
        .filter(answer -> answer.statusCode() == 200)
        .map(answer -> new JsonObject(answer.body()).getBoolean("leading"))
        .orElse(null);
  }
}
