package io.tusk.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tusk bench lineage} end to end at a small size, as a smoke test of what the figures in the
 * README come from: its own stack, the lineage service in a JVM of its own, every output indexed,
 * both rounds of lookups answered without an error, and the index lag sampled.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class LineageBenchIT {
  private static final Pattern ROUND =
      Pattern.compile("provenance lookups: (\\d+) requests at \\d+/s, (\\d+) errors");

  @Test
  void shouldIndexEveryOutputAndAnswerEveryLookupFromALineageServiceOfItsOwn(@TempDir Path dir)
      throws Exception {
    // Given a bench of 300 members, looking up 40 a second for 3 s per round
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    Path home = dir.resolve("home");

    // When it runs
    new LineageBench(
            new PrintStream(printed, true, StandardCharsets.UTF_8),
            300,
            40,
            Duration.ofSeconds(3),
            home)
        .run();
    String report = printed.toString(StandardCharsets.UTF_8);

    // Then every output was indexed, and both rounds sent 120 lookups and got 120 answers
    assertThat(report).contains("indexed 300 outputs");
    Matcher rounds = ROUND.matcher(report);
    int found = 0;
    while (rounds.find()) {
      assertThat(rounds.group(1)).as(report).isEqualTo("120");
      assertThat(rounds.group(2)).as(report).isEqualTo("0");
      found++;
    }
    assertThat(found).as(report).isEqualTo(2);
    assertThat(report).contains("index lag");

    // And the lineage service ran as a process of its own, with its own log file
    assertThat(home.resolve("lineage-service.log")).isRegularFile();
  }
}
