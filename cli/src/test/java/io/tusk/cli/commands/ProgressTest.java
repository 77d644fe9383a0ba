package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private final AtomicLong clock = new AtomicLong();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Test
  void shouldShowRowsRateShareAndTimeLeftWhenAQuarterIsRead() {
    // Given a 1000-byte file, a quarter read in 2 s with 500 rows
    Progress progress = new Progress(new PrintStream(err), 1000, true, clock::get);
    clock.set(2_000_000_000L);

    // Then the line says so, with 6 s left at that pace
    assertThat(progress.text(500, 250, clock.get()))
        .isEqualTo(String.format("%,d rows  %,d rows/s   25%%  ETA 0:06", 500, 250));
  }

  @Test
  void shouldRedrawInPlaceAtMostFiveTimesASecondOnATerminal() {
    // Given a terminal progress line
    Progress progress = new Progress(new PrintStream(err), 100, true, clock::get);

    // When rows arrive 10 ms apart for half a second, then the load finishes
    for (int i = 1; i <= 50; i++) {
      clock.addAndGet(10_000_000L);
      progress.progress(i, i);
    }
    progress.finish(50, 100);

    // Then it drew twice while loading and once at the end, which ends the line
    String text = err.toString(StandardCharsets.UTF_8);
    assertThat(text.chars().filter(c -> c == '\r').count()).isEqualTo(3);
    assertThat(text).endsWith(System.lineSeparator());
  }
}
