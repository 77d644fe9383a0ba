package io.tusk.cli.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The pipeline side of the soak's reference model: which datums a job runs and what it leaves. */
class PipelineModelTest {

  @Test
  void shouldProcessOnlyMembersWhoseContentChangedAndSkipTheRest() {
    // Given a first job over m1 and m2
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    pipeline.run(
        "j1", "c1", inputs("m1", "x", false, "m2", "y", false), PipelineModel.Mode.CHANGED);

    // When only m2 changes
    ExpectedJob job =
        pipeline.run(
            "j2", "c2", inputs("m1", "x", false, "m2", "z", false), PipelineModel.Mode.CHANGED);

    // Then only m2 is processed, m1 skipped
    assertThat(job.datums()).containsExactly(Map.entry("m2", PipelineModel.SUCCESS));
    assertThat(job.skipped()).isEqualTo(1);
    assertThat(pipeline.currentData()).containsEntry("m2", "a:z");
  }

  @Test
  void shouldRetryAFailedMemberAndKeepItsPreviousOutputUntilItSucceeds() {
    // Given m1's output, then a change that fails
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    pipeline.run("j1", "c1", inputs("m1", "x", false), PipelineModel.Mode.CHANGED);
    ExpectedJob failing =
        pipeline.run("j2", "c2", inputs("m1", "y", true), PipelineModel.Mode.CHANGED);

    // When the next job sees m1 unchanged
    ExpectedJob retry =
        pipeline.run("j3", "c3", inputs("m1", "y", true), PipelineModel.Mode.CHANGED);

    // Then it is retried, and the old output stays
    assertThat(failing.state()).isEqualTo("FAILURE");
    assertThat(retry.datums()).containsExactly(Map.entry("m1", PipelineModel.FAILED));
    assertThat(pipeline.currentData()).containsExactly(Map.entry("m1", "a:x"));
  }

  @Test
  void shouldRemoveTheOutputOfAnAbsentMemberWithARemovalDatum() {
    // Given outputs of m1 and m2
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    pipeline.run(
        "j1", "c1", inputs("m1", "x", false, "m2", "y", false), PipelineModel.Mode.CHANGED);

    // When m2 is absent at the next commit (e.g. a rewind)
    ExpectedJob job =
        pipeline.run("j2", "c0", inputs("m1", "x", false), PipelineModel.Mode.CHANGED);

    // Then a removal datum runs for m2, counted in the total, and its output is gone
    assertThat(job.datums()).containsExactly(Map.entry("m2", PipelineModel.SUCCESS));
    assertThat(job.total()).isEqualTo(2);
    assertThat(pipeline.currentData()).containsOnlyKeys("m1");
  }

  @Test
  void shouldRemoveTheOutputOfARecoveredDatumAndNotRunItAgainUnchanged() {
    // Given an error command and m1 whose content fails
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", true);
    pipeline.run("j1", "c1", inputs("m1", "x", false), PipelineModel.Mode.CHANGED);
    ExpectedJob recovered =
        pipeline.run("j2", "c2", inputs("m1", "y", true), PipelineModel.Mode.CHANGED);

    // When the next job sees m1 unchanged
    ExpectedJob next =
        pipeline.run("j3", "c3", inputs("m1", "y", true), PipelineModel.Mode.CHANGED);

    // Then the datum was RECOVERED, its output removed, and it is not run again
    assertThat(recovered.datums()).containsExactly(Map.entry("m1", PipelineModel.RECOVERED));
    assertThat(recovered.state()).isEqualTo("SUCCESS");
    assertThat(pipeline.currentData()).isEmpty();
    assertThat(next.datums()).isEmpty();
  }

  @Test
  void shouldReprocessEveryMemberAfterAnUpdateUnlessOutputsAreKept() {
    // Given outputs of m1 and m2 under variant a
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    pipeline.run(
        "j1", "c1", inputs("m1", "x", false, "m2", "y", false), PipelineModel.Mode.CHANGED);

    // When it is updated to b without keeping outputs
    pipeline.update("b", false, false);
    ExpectedJob full =
        pipeline.run(
            "j2", "c1", inputs("m1", "x", false, "m2", "y", false), PipelineModel.Mode.CHANGED);

    // Then every member runs under b
    assertThat(full.datums()).containsOnlyKeys("m1", "m2");
    assertThat(pipeline.currentData()).containsEntry("m1", "b:x").containsEntry("m2", "b:y");
  }

  @Test
  void shouldRunOnlyChangedMembersAfterAnUpdateThatKeepsOutputs() {
    // Given outputs of m1 and m2 under variant b
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "b", false);
    pipeline.run(
        "j1", "c1", inputs("m1", "x", false, "m2", "y", false), PipelineModel.Mode.CHANGED);

    // When it is updated to a keeping outputs, and a job sees m2 changed
    pipeline.update("a", false, true);
    ExpectedJob kept =
        pipeline.run(
            "j2", "c2", inputs("m1", "x", false, "m2", "z", false), PipelineModel.Mode.CHANGED);
    // And then updated back to b without keeping outputs
    pipeline.update("b", false, false);
    ExpectedJob back =
        pipeline.run(
            "j3", "c2", inputs("m1", "x", false, "m2", "z", false), PipelineModel.Mode.CHANGED);

    // Then the first job ran only m2 (under a; m1 keeps b's output), and the update back to b
    // ran only m2 again: m1's output was computed by b from the same content
    assertThat(kept.datums()).containsOnlyKeys("m2");
    assertThat(back.datums()).containsOnlyKeys("m2");
    assertThat(pipeline.currentData()).containsEntry("m1", "b:x").containsEntry("m2", "b:z");
  }

  @Test
  void shouldRecomputeEveryMemberAndWriteNothingWhenComparing() {
    // Given an output of m1 at commit 2
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    pipeline.run("j1", "c2", inputs("m1", "y", false), PipelineModel.Mode.CHANGED);

    // When a re-run compares against commit 1, where m2 also existed
    ExpectedJob compare =
        pipeline.run(
            "j2",
            "c1",
            inputs("m1", "x", false, "m2", "w", false),
            PipelineModel.Mode.COMPARE_ONLY);

    // Then both are recomputed, and the outputs and the commit they reflect stay
    assertThat(compare.datums()).containsOnlyKeys("m1", "m2");
    assertThat(compare.compareOnly()).isTrue();
    assertThat(pipeline.currentData()).containsExactly(Map.entry("m1", "a:y"));
    assertThat(pipeline.processedCommit()).isEqualTo("c2");
  }

  @Test
  void shouldRunOnlyTheFailedDatumsOfTheJobOnRestart() {
    // Given a job where m1 failed and m2 succeeded
    PipelineModel pipeline = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    pipeline.run("j1", "c1", inputs("m1", "x", true, "m2", "y", false), PipelineModel.Mode.CHANGED);

    // When it restarts with m1 no longer failing (the environment was fixed)
    ExpectedJob restarted = pipeline.restart(inputs("m1", "x", false, "m2", "y", false));

    // Then the same job now has both succeeded and m1 has an output
    assertThat(restarted.jobId()).isEqualTo("j1");
    assertThat(restarted.datums())
        .containsExactly(
            Map.entry("m1", PipelineModel.SUCCESS), Map.entry("m2", PipelineModel.SUCCESS));
    assertThat(pipeline.failed()).isEmpty();
    assertThat(pipeline.currentData()).containsEntry("m1", "a:x");
  }

  @Test
  void shouldRemoveTheErasedMembersOutputAndRecomputeItsGroupWithoutIt() {
    // Given m1 and m2 with one row each (one group), processed by both stages
    RepoModel repo = new RepoModel("r", 5);
    repo.sent(
        new SentRow(0, 0, SoakTables.EVENT, Arrays.asList("e1", "m1", "A", "1", null), "csv"));
    repo.sent(
        new SentRow(0, 1, SoakTables.EVENT, Arrays.asList("e2", "m2", "A", "1", null), "csv"));
    RepoModel.CommitInfo first = new RepoModel.CommitInfo("c1", 1, Map.of(0, 2L));
    repo.sealed(first, "master");
    PipelineModel rows = new PipelineModel("p", PipelineModel.Stage.ROWS, "a", false);
    PipelineModel groups = new PipelineModel("g", PipelineModel.Stage.GROUPS, "a", false);
    rows.run("j1", "c1", ModelInput.ofMembers(repo, first, true), PipelineModel.Mode.CHANGED);
    groups.run("k1", "o1", ModelInput.ofGroups(rows.currentData()), PipelineModel.Mode.CHANGED);
    String group = ModelInput.groupOf(rows.currentData().get("m1"));

    // When m1 is erased and the erasure commit's job runs, then the second stage's
    RepoModel.CommitInfo erasure = new RepoModel.CommitInfo("c2", 2, Map.of(0, 2L));
    repo.sealed(erasure, "master");
    repo.erased(erasure, "m1", "request-1");
    ExpectedJob removal =
        rows.run("j2", "c2", ModelInput.ofMembers(repo, erasure, true), PipelineModel.Mode.CHANGED);
    ExpectedJob regroup =
        groups.run("k2", "o2", ModelInput.ofGroups(rows.currentData()), PipelineModel.Mode.CHANGED);

    // Then m1's output goes by a removal datum, m2 is skipped
    assertThat(removal.datums()).containsExactly(Map.entry("m1", PipelineModel.SUCCESS));
    assertThat(removal.total()).isEqualTo(2);
    assertThat(rows.currentData()).containsOnlyKeys("m2");
    // And the group is recomputed from m2 alone
    assertThat(regroup.datums()).containsExactly(Map.entry(group, PipelineModel.SUCCESS));
    assertThat(groups.currentData().get(group)).contains("m2:").doesNotContain("m1");

    // When a re-run compares against the first commit
    ExpectedJob compare =
        rows.run(
            "j3", "c1", ModelInput.ofMembers(repo, first, true), PipelineModel.Mode.COMPARE_ONLY);

    // Then m1 is absent there too
    assertThat(compare.datums()).containsOnlyKeys("m2");
  }

  /** Inputs given as (member, content, fails) triples; the output is "variant:content". */
  private static Map<String, ModelInput> inputs(Object... triples) {
    Map<String, ModelInput> inputs = new TreeMap<>();
    for (int i = 0; i < triples.length; i += 3) {
      String content = (String) triples[i + 1];
      inputs.put(
          (String) triples[i],
          new ModelInput(content, (Boolean) triples[i + 2], variant -> variant + ":" + content));
    }
    return inputs;
  }
}
