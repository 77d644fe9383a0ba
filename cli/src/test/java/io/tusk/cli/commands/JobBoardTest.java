package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JobBoardTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldShowEachJobsShareOfDatumsDoneWithItsCountsAndState() throws Exception {
    // A running job with 40 of 160 datums done, and an ended one
    JsonNode running = job("cohort", "RUNNING", 160, 30, 10, 900);
    JsonNode ended = job("risk", "SUCCESS", 0, 0, 0, 1000);

    assertThat(JobBoard.line(running))
        .startsWith("cohort ")
        .contains("[######------------------]  25% 40/160 datums, skipped 900, failed 10  RUNNING");
    assertThat(JobBoard.line(ended))
        .contains("[########################] 100%")
        .endsWith("SUCCESS");
  }

  @Test
  void shouldRedrawInPlaceOnATerminalAndWriteOnlyChangesEveryFewSecondsToALog() throws Exception {
    AtomicLong clock = new AtomicLong();
    ByteArrayOutputStream terminalOut = new ByteArrayOutputStream();
    JobBoard terminal = new JobBoard(print(terminalOut), true, clock::get);
    ByteArrayOutputStream logOut = new ByteArrayOutputStream();
    JobBoard log = new JobBoard(print(logOut), false, clock::get);

    // When the board changes three times within a second, and once more 6 s later
    for (int done = 0; done < 3; done++) {
      JsonNode global = global(job("cohort", "RUNNING", 10, done, 0, 0));
      terminal.draw(global);
      log.draw(global);
      clock.addAndGet(100_000_000L);
    }
    clock.addAndGet(6_000_000_000L);
    JsonNode last = global(job("cohort", "SUCCESS", 10, 10, 0, 0));
    terminal.draw(last);
    log.draw(last);
    terminal.draw(last); // unchanged: nothing written

    // Then the terminal got every change, each redraw moving the cursor up over the old lines
    String shown = terminalOut.toString(StandardCharsets.UTF_8);
    assertThat(shown.split("\033\\[1A", -1)).hasSize(4);
    assertThat(shown).endsWith("SUCCESS\n");
    // And the log only the first board and the one after the interval
    assertThat(logOut.toString(StandardCharsets.UTF_8).lines().toList())
        .hasSize(2)
        .satisfies(lines -> assertThat(lines.get(0)).contains("0/10"))
        .satisfies(lines -> assertThat(lines.get(1)).contains("10/10").endsWith("SUCCESS"));
  }

  private static PrintStream print(ByteArrayOutputStream out) {
    return new PrintStream(out, true, StandardCharsets.UTF_8);
  }

  private static JsonNode global(JsonNode... jobs) {
    var global = JSON.createObjectNode().put("state", "running");
    var array = global.putArray("jobs");
    for (JsonNode job : jobs) {
      array.add(job);
    }
    return global;
  }

  private static JsonNode job(
      String pipeline, String state, long toProcess, long processed, long failed, long skipped) {
    return JSON.createObjectNode()
        .put("id", "0123456789abcdef0123456789abcdef")
        .put("pipeline", pipeline)
        .put("state", state)
        .put("toProcess", toProcess)
        .put("processed", processed)
        .put("failed", failed)
        .put("skipped", skipped);
  }
}
