package io.tusk.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * How the benchmark counts what a commit adds to a compacted topic once compacted: a new key adds
 * its record, a replacement adds the difference, a tombstone takes its key's record away. The
 * records themselves come from a broker in {@code tusk bench}.
 */
class CompactedGrowthTest {
  private static byte[] key(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void shouldCountEachWrittenRecordLessTheOneOfItsKeyItReplaces() {
    // Given keys a and b written before the commit (a twice), and c on another partition
    CompactedGrowth.Tally tally = new CompactedGrowth.Tally();
    tally.add(0, key("a"), 100, false);
    tally.add(0, key("a"), 120, false);
    tally.add(0, key("b"), 50, false);
    tally.add(1, key("a"), 70, false);

    // When the commit replaces a with 150, adds d, deletes b, and writes a keyless record
    tally.add(0, key("a"), 150, true);
    tally.add(0, key("d"), 40, true);
    tally.add(0, key("b"), 0, true);
    tally.add(0, null, 999, true);

    // Then it adds 30 for a (150 over a's latest 120), 40 for d, and takes b's 50 away; a on the
    // other partition is another key
    assertThat(tally.added()).isEqualTo(30 + 40 - 50);

    // And a second write of d in the same commit counts only once, at its last size
    tally.add(0, key("d"), 60, true);
    assertThat(tally.added()).isEqualTo(30 + 60 - 50);

    // And compressed, it scales by what the brokers stored of the 250 keyed bytes written (150 +
    // 40 + 0 + 60): stored in 25 bytes, a tenth, the 40 added are 4
    assertThat(tally.compressed(25)).isEqualTo(4);
  }
}
