package io.tusk.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TargetsTest {
  @Test
  void printsTheFigureItsTargetAndTheVerdict() {
    assertEquals(
        "target    partition stage / bare Streams: 0.17x (target >= 0.6x): MISSED",
        Targets.line("partition stage / bare Streams", "0.17x", ">= 0.6x", false));
    assertEquals(
        "target    bytes: 2.9x (target <= 3x): met", Targets.line("bytes", "2.9x", "<= 3x", true));
  }
}
