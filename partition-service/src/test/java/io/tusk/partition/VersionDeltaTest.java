package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.claim;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.schemas.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A member version's delta gives back exactly the rows it was made from, whatever they are. */
class VersionDeltaTest {
  private static final long SEED = 20261206L;

  private static Row row(int n) {
    return claim(n % 3, n, "M", "claim-" + n, Integer.toString(n % 7));
  }

  private static List<Row> rows(int... ns) {
    List<Row> rows = new ArrayList<>();
    for (int n : ns) {
      rows.add(row(n));
    }
    return rows;
  }

  private static List<Row> roundTrip(List<Row> before, List<Row> after) {
    VersionDelta.Diff diff = VersionDelta.diff(before, after);
    VersionDelta stored = new VersionDelta(7, 3, 1234, diff.removed(), diff.inserted(), 0);
    byte[] bytes = VersionDelta.SERDE.serializer().serialize("t", stored);
    VersionDelta read = VersionDelta.SERDE.deserializer().deserialize("t", bytes);
    assertThat(List.of(read.base(), read.depth(), read.chainBytes(), read.addedParts()))
        .isEqualTo(List.of(7L, 3, 1234L, 0));
    return read.apply(before, diff.added(), after.size());
  }

  @Test
  void shouldStoreOnlyTheRowsThatChanged() {
    // Given a member of 5 rows that gets one row replaced and one added
    List<Row> before = rows(1, 2, 3, 4, 5);
    List<Row> after = rows(1, 2, 30, 4, 5, 6);

    // When the delta is taken
    VersionDelta.Diff diff = VersionDelta.diff(before, after);

    // Then it holds the two new rows, where they go, and which row left
    assertThat(diff.added()).containsExactly(row(30), row(6));
    assertThat(diff.inserted()).containsExactly(2, 5);
    assertThat(diff.removed()).containsExactly(2);
    assertThat(roundTrip(before, after)).isEqualTo(after);
  }

  @Test
  void shouldGiveBackEveryRandomChangeExactly() {
    // Given random pairs of row lists: duplicates, reorders, empty sides (seed printed)
    System.out.println("VersionDeltaTest seed " + SEED);
    Random random = new Random(SEED);
    for (int round = 0; round < 2_000; round++) {
      List<Row> before = new ArrayList<>();
      int size = random.nextInt(40);
      for (int i = 0; i < size; i++) {
        before.add(row(random.nextInt(25)));
      }
      List<Row> after = new ArrayList<>(before);
      int edits = random.nextInt(8);
      for (int e = 0; e < edits; e++) {
        int op = random.nextInt(4);
        if (op == 0 || after.isEmpty()) {
          after.add(random.nextInt(after.size() + 1), row(random.nextInt(50)));
        } else if (op == 1) {
          after.remove(random.nextInt(after.size()));
        } else if (op == 2) {
          after.set(random.nextInt(after.size()), row(random.nextInt(50)));
        } else {
          after.add(after.remove(random.nextInt(after.size())));
        }
      }

      // Then the delta applied to the first gives the second, row for row
      assertThat(roundTrip(before, after)).as("round %d", round).isEqualTo(after);
    }
  }

  @Test
  void shouldRefuseADeltaThatDoesNotFitItsBase() {
    // Given the delta of a 3-row member that removed one row
    VersionDelta.Diff diff = VersionDelta.diff(rows(1, 2, 3), rows(1, 3));
    VersionDelta delta = new VersionDelta(4, 1, 0, diff.removed(), diff.inserted(), 0);

    // Then applying it to another base fails, naming the base version
    assertThatThrownBy(() -> delta.apply(rows(1, 2, 3, 4), diff.added(), 2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("base version 4");
  }
}
