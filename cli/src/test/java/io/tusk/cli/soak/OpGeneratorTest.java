package io.tusk.cli.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The soak's operation generator: reproducible from its seed, simple rows when asked, and rare
 * erasures of known and unknown members.
 */
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
      // An erasure on master is a commit too (no pipeline here, so none is refused)
      if (op instanceof Op.Seal || op instanceof Op.Erase) {
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

  @Test
  void shouldEraseRarelyMostlyMembersRowsNamedAndSometimesOthers() {
    // Given a generator over a repo no pipeline reads
    OpGenerator generator = new OpGenerator(SEED, state(), false);

    // When it generates many operations
    int count = 5000;
    Set<String> named = new HashSet<>();
    List<Op.Erase> erasures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Op op = generator.next();
      if (op instanceof Op.Produce produce) {
        for (Op.RowToSend row : produce.rows()) {
          if (row.values() != null
              && !(row.table().equals(SoakTables.EVENT)
                  && SoakTables.isDelete(row.values().get(SoakTables.EVENT_OP)))) {
            named.add(row.values().get(SoakTables.memberIndex(row.table())));
          }
        }
      } else if (op instanceof Op.Erase erase) {
        // Then a known member is one some row named before; an unknown one, one none named
        assertThat(named.contains(erase.member())).as(erase.describe()).isEqualTo(erase.known());
        erasures.add(erase);
      }
    }

    // And erasures come at about the tunable rate, all on master, both kinds among them
    double expected = OpGenerator.ERASE_PROBABILITY * count;
    assertThat((double) erasures.size()).isBetween(expected * 0.6, expected * 1.4);
    assertThat(erasures).allMatch(e -> e.branch().equals("master"));
    assertThat(erasures).anyMatch(Op.Erase::known).anyMatch(e -> !e.known());
  }

  @Test
  void shouldEraseOnAnotherBranchOnlyWhileAPipelineFollowsMaster() {
    // Given a repo with a commit, a second branch, and the first stage following master
    SoakState state = state();
    state.repo.sealed(new RepoModel.CommitInfo("c1", 1, Map.of()), "master");
    state.repo.moveBranch("dev1", "c1");
    state.rows = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    OpGenerator generator = new OpGenerator(SEED, state, false);

    // When it generates many operations
    List<Op.Erase> erasures = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      if (generator.next() instanceof Op.Erase erase) {
        erasures.add(erase);
      }
    }

    // Then some erasures are on dev1, which the model refuses, and the others on master
    assertThat(erasures).anyMatch(e -> e.branch().equals("dev1"));
    assertThat(erasures).anyMatch(e -> e.branch().equals("master"));
    assertThat(erasures)
        .allMatch(e -> state.erasureRefused(e.branch()) == !e.branch().equals("master"));
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
