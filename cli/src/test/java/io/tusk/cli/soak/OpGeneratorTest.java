package io.tusk.cli.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The soak's operation generator: reproducible from its seed, and simple rows when asked. */
class OpGeneratorTest {
  private static final long SEED = 4242;

  @Test
  void shouldGenerateTheSameOperationsWhenGivenTheSameSeed() {
    // Given two generators with the same seed over fresh models
    List<String> first = describe(new OpGenerator(SEED, state(), false), 200);
    List<String> second = describe(new OpGenerator(SEED, state(), false), 200);

    // Then they generate the same operations
    assertThat(first).isEqualTo(second).hasSize(200);
  }

  @Test
  void shouldGiveEachKeyOneVersionBetweenSealsWhenRowsAreSimple() {
    // Given a generator of simple rows
    OpGenerator generator = new OpGenerator(SEED, state(), true);

    // When it generates many operations
    Set<String> sinceSeal = new HashSet<>();
    Map<String, Integer> repeated = new HashMap<>();
    int deletes = 0;
    for (int i = 0; i < 2000; i++) {
      Op op = generator.next();
      if (op instanceof Op.Seal) {
        sinceSeal.clear();
      } else if (op instanceof Op.Produce produce) {
        for (Op.RowToSend row : produce.rows()) {
          if (row.values() == null || !row.table().equals(SoakTables.EVENT)) {
            continue;
          }
          // Then every version of an event is keyed by its ID, at most one per key per commit
          assertThat(row.key()).isEqualTo(row.id());
          if (!sinceSeal.add(row.id())) {
            repeated.merge(row.id(), 1, Integer::sum);
          }
          String op2 = row.values().get(SoakTables.EVENT_OP);
          if (SoakTables.isDelete(op2)) {
            deletes++;
            // And deletes carry a plain op value
            assertThat(op2).isEqualTo(op2.trim());
          }
        }
      }
    }
    assertThat(repeated).isEmpty();
    assertThat(deletes).isPositive();
  }

  private static SoakState state() {
    return new SoakState(new RepoModel("r", 5));
  }

  private static List<String> describe(OpGenerator generator, int count) {
    List<String> ops = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ops.add(generator.next().describe());
    }
    return ops;
  }
}
