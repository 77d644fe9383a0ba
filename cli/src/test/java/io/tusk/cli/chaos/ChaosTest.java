package io.tusk.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A chaos round acts as a supervisor until it stops: a victim that exited, or exits while it
 * recovers, is started again after a back-off, until its recovery time has passed. The victims here
 * are in-memory stand-ins whose exits are scripted; the processes themselves are covered by {@code
 * KillRestartIT}.
 */
class ChaosTest {

  @Test
  void shouldStartAgainAVictimThatExitedOrExitsWhileRecovering() throws Exception {
    // Given one victim that had exited, one that exits once while it recovers, one that is fine
    ScriptedVictim exited = new ScriptedVictim("exited", 0);
    exited.alive = false;
    ScriptedVictim flaky = new ScriptedVictim("flaky", 1);
    ScriptedVictim fine = new ScriptedVictim("fine", 0);
    Chaos chaos = chaos(List.of(exited, flaky, fine));

    // When the round's end waits for them
    chaos.recoverAll(List.of(exited, flaky, fine));

    // Then each was started as often as it needed and the events say so
    assertThat(exited.starts).isEqualTo(1);
    assertThat(flaky.starts).isEqualTo(1);
    assertThat(fine.starts).isZero();
    assertThat(chaos.events())
        .containsExactly(
            "exited had exited on its own; started again",
            "flaky exited while recovering; started again");
  }

  @Test
  void shouldGiveUpOnAVictimThatKeepsExitingOnlyWhenItsRecoveryTimeHasPassed() {
    // Given a victim that exits every time it is started, and two seconds to recover
    ScriptedVictim broken = new ScriptedVictim("broken", Integer.MAX_VALUE);
    Chaos chaos =
        new Chaos(List.of(broken), List.of(), new Random(1), 0, null, Duration.ofSeconds(2));

    // When the round's end waits for it / Then it fails once the two seconds have passed, having
    // been started again after each exit with a doubling back-off (0.1, 0.2, 0.4, 0.8 s)
    long start = System.nanoTime();
    assertThatThrownBy(() -> chaos.recoverAll(List.of(broken)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broken did not recover within PT2S after the round");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(broken.starts).isBetween(3, 6);
  }

  @Test
  void shouldStartAgainAVictimThatExitsAfterTheLastKillUntilTheRoundStops() throws Exception {
    // Given a schedule with no kills left, running (CI once lost a lineage service this way: it
    // exited after the last kill, nothing started it again, and the demo waited on it in vain)
    ScriptedVictim lineage = new ScriptedVictim("lineage-0", 0);
    Chaos chaos = chaos(List.of(lineage));
    Thread schedule = new Thread(chaos, "chaos-test");
    schedule.start();
    try {
      // When the victim exits on its own
      lineage.alive = false;

      // Then the schedule starts it again within its supervision period
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (lineage.starts == 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(lineage.starts).isEqualTo(1);
      assertThat(lineage.alive).isTrue();
    } finally {
      chaos.stop();
      schedule.join(Duration.ofSeconds(10).toMillis());
    }
    // And it stops supervising once stopped, saying what it did
    assertThat(schedule.isAlive()).isFalse();
    assertThat(chaos.events()).containsExactly("lineage-0 had exited on its own; started again");
  }

  private static Chaos chaos(List<Victim> victims) {
    return new Chaos(victims, List.of(), new Random(1), 0, null);
  }

  /** A victim that exits during its next {@code exitsLeft} recoveries. */
  private static final class ScriptedVictim implements Victim {
    private final String name;
    private volatile int exitsLeft;
    private volatile boolean alive = true;
    private volatile int starts;

    ScriptedVictim(String name, int exitsLeft) {
      this.name = name;
      this.exitsLeft = exitsLeft;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public void kill() {
      alive = false;
    }

    @Override
    public void start() {
      alive = true;
      starts++;
    }

    @Override
    public boolean alive() {
      return alive;
    }

    @Override
    public void awaitRecovered(Duration deadline) {
      if (exitsLeft > 0) {
        exitsLeft--;
        alive = false;
        throw new IllegalStateException(name + " exited");
      }
    }
  }
}
