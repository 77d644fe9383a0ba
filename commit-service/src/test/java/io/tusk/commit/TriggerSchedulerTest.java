package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Trigger;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TriggerSchedulerTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:07:30Z");

  private static Trigger trigger(Long rows, Long seconds, String cron) {
    return Trigger.newBuilder().setEveryRows(rows).setEverySeconds(seconds).setCron(cron).build();
  }

  @Test
  void shouldFireWhenEnoughRowsArrived() {
    // Given a trigger every 100 rows
    Trigger trigger = trigger(100L, null, null);
    TriggerScheduler.TriggerState state = new TriggerScheduler.TriggerState();

    // Then 99 new offsets do not fire, 100 do
    assertThat(TriggerScheduler.due(trigger, state, 99, 0, T0)).isNull();
    assertThat(TriggerScheduler.due(trigger, state, 100, 0, T0)).isEqualTo("everyRows 100");
  }

  @Test
  void shouldFireWhenTheIntervalPassedAndRowsArrived() {
    // Given a trigger every 60 seconds, the last commit 59 s ago
    Trigger trigger = trigger(null, 60L, null);
    TriggerScheduler.TriggerState state = new TriggerScheduler.TriggerState();
    long lastSeal = T0.toEpochMilli() - 59_000;

    // Then it waits one more second, and never fires without new offsets
    assertThat(TriggerScheduler.due(trigger, state, 5, lastSeal, T0)).isNull();
    assertThat(TriggerScheduler.due(trigger, state, 5, lastSeal, T0.plusSeconds(1)))
        .isEqualTo("everySeconds 60");
    assertThat(TriggerScheduler.due(trigger, state, 0, lastSeal, T0.plusSeconds(600))).isNull();
  }

  @Test
  void shouldPollWhenAnEverySecondsTriggerComesDueBeforeTheNextRegularPoll() {
    // Given a repo sealing every second, its last commit sealed 700 ms ago, polls every 500 ms
    long now = T0.toEpochMilli();
    TriggerScheduler.TriggerState everySecond = new TriggerScheduler.TriggerState();
    everySecond.sealedAt(trigger(null, 1L, null), now - 700);

    // Then the next poll comes when it is due, 300 ms from now, not at the regular 500 ms
    assertThat(TriggerScheduler.delayUntilNextPoll(500, now, List.of(everySecond))).isEqualTo(300);

    // And a trigger due after the regular poll, already past (its seal under way, or no rows
    // yet), or of another kind keeps the regular interval
    TriggerScheduler.TriggerState later = new TriggerScheduler.TriggerState();
    later.sealedAt(trigger(null, 60L, null), now);
    TriggerScheduler.TriggerState past = new TriggerScheduler.TriggerState();
    past.sealedAt(trigger(null, 1L, null), now - 5_000);
    TriggerScheduler.TriggerState rows = new TriggerScheduler.TriggerState();
    rows.sealedAt(trigger(100L, null, null), now);
    assertThat(
            TriggerScheduler.delayUntilNextPoll(
                500, now, List.of(later, past, rows, new TriggerScheduler.TriggerState())))
        .isEqualTo(500);
  }

  @Test
  void shouldFireAtTheScheduledMinuteWhenRowsArrived() {
    // Given a cron trigger every 5 minutes, first seen at 10:07:30
    Trigger trigger = trigger(null, null, "*/5 * * * *");
    TriggerScheduler.TriggerState state = new TriggerScheduler.TriggerState();
    assertThat(TriggerScheduler.due(trigger, state, 5, 0, T0)).isNull();

    // Then it does not fire before 10:10, fires at 10:10 with new offsets
    assertThat(TriggerScheduler.due(trigger, state, 5, 0, T0.plusSeconds(120))).isNull();
    assertThat(TriggerScheduler.due(trigger, state, 5, 0, T0.plusSeconds(150)))
        .isEqualTo("cron '*/5 * * * *'");

    // And the 10:15 minute passes without a commit when nothing arrived, and is not made up later
    assertThat(TriggerScheduler.due(trigger, state, 0, 0, T0.plusSeconds(450))).isNull();
    assertThat(TriggerScheduler.due(trigger, state, 5, 0, T0.plusSeconds(460))).isNull();
    assertThat(TriggerScheduler.due(trigger, state, 5, 0, T0.plusSeconds(750))).startsWith("cron");
  }

  @Test
  void shouldRestartTheScheduleWhenTheCronChanges() {
    // Given a schedule at minute 0 that is replaced by one at minute 30 at 10:07:30
    TriggerScheduler.TriggerState state = new TriggerScheduler.TriggerState();
    TriggerScheduler.due(trigger(null, null, "0 * * * *"), state, 5, 0, T0);
    Trigger changed = trigger(null, null, "30 * * * *");
    assertThat(TriggerScheduler.due(changed, state, 5, 0, T0)).isNull();

    // Then 11:00 does not fire, 10:30 does
    assertThat(TriggerScheduler.due(changed, state, 5, 0, T0.plusSeconds(22 * 60 + 30)))
        .startsWith("cron '30");
  }
}
