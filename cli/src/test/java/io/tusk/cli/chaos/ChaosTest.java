package io.tusk.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The end of a chaos round acts as a supervisor: a victim that exited, or exits while it recovers,
 * is started again, a bounded number of times. The victims here are in-memory stand-ins whose exits
 * are scripted; the processes themselves are covered by {@code KillRestartIT}.
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
  void shouldGiveUpOnAVictimThatKeepsExiting() {
    // Given a victim that exits every time it is started
    ScriptedVictim broken = new ScriptedVictim("broken", Integer.MAX_VALUE);
    Chaos chaos = chaos(List.of(broken));

    // When the round's end waits for it / Then it fails after three starts in all
    assertThatThrownBy(() -> chaos.recoverAll(List.of(broken)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("broken exited");
    assertThat(broken.starts).isEqualTo(2);
  }

  private static Chaos chaos(List<Victim> victims) {
    return new Chaos(victims, List.of(), new Random(1), 0, null);
  }

  /** A victim that exits during its next {@code exitsLeft} recoveries. */
  private static final class ScriptedVictim implements Victim {
    private final String name;
    private int exitsLeft;
    private boolean alive = true;
    private int starts;

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
