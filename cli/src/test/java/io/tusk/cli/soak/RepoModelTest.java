package io.tusk.cli.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The repo side of the soak's reference model: member objects as of commits, diffs, rejects. */
class RepoModelTest {
  private RepoModel repo;
  private final long[] nextOffset = new long[3];

  @BeforeEach
  void newRepo() {
    repo = new RepoModel("r", 5);
  }

  @Test
  void shouldReplaceAKeyedRowAndMoveItWhenItsMemberChanges() {
    // Given e1 for m1, then a correction, then the same key under m2 in a later commit
    event(0, "e1", "m1", "A", null);
    event(0, "e1", "m1", "B", null);
    RepoModel.CommitInfo first = seal();
    event(1, "e1", "m2", "B", null);
    RepoModel.CommitInfo second = seal();

    // Then m1 holds the corrected row at commit 1, and at commit 2 the row moved to m2
    assertThat(texts(first)).containsExactly(Map.entry("m1", List.of("EVENT|e1|m1|B|1|~")));
    assertThat(texts(second)).containsExactly(Map.entry("m2", List.of("EVENT|e1|m2|B|1|~")));
    assertThat(repo.diff(first, second))
        .containsExactly(Map.entry("m1", "removed"), Map.entry("m2", "added"));
  }

  @Test
  void shouldDeleteAKeyedRowWhateverMemberTheDeleteNames() {
    // Given e1 of m1 and a delete of e1 naming m3, with spaces and lower case around the op
    event(0, "e1", "m1", "A", null);
    event(2, "e2", "m1", "A", null);
    RepoModel.CommitInfo first = seal();
    event(1, "e1", "m3", "A", " d ");
    RepoModel.CommitInfo second = seal();

    // Then e1 is gone from m1, and m3 never appears
    assertThat(texts(second)).containsExactly(Map.entry("m1", List.of("EVENT|e2|m1|A|1|~")));
    assertThat(repo.diff(first, second)).containsExactly(Map.entry("m1", "changed"));
  }

  @Test
  void shouldLetTheHigherPartitionWinWithinACommitAndTheLaterCommitAcrossCommits() {
    // Given two versions of e1 in one commit, the one in the higher partition sent first
    event(1, "e1", "m1", "B", null);
    event(0, "e1", "m1", "A", null);
    RepoModel.CommitInfo first = seal();
    // And in the next commit a version in the lower partition
    event(0, "e1", "m1", "C", null);
    RepoModel.CommitInfo second = seal();

    // Then partition 1's version wins within the first commit, the later commit's after it
    assertThat(texts(first).get("m1")).containsExactly("EVENT|e1|m1|B|1|~");
    assertThat(texts(second).get("m1")).containsExactly("EVENT|e1|m1|C|1|~");
  }

  @Test
  void shouldAppendUnkeyedRowsAndCountMalformedRecordsAsRejected() {
    // Given two notes of m1, one malformed record and a re-sent identical event
    note(0, "m1", "n1");
    note(1, "m1", "n2");
    event(0, "e1", "m1", "A", null);
    repo.sent(new SentRow(2, nextOffset[2]++, SoakTables.EVENT, null, "json"));
    RepoModel.CommitInfo first = seal();
    event(2, "e1", "m1", "A", null);
    RepoModel.CommitInfo second = seal();

    // Then both notes stay, the malformed record is one reject of commit 1, and the re-send
    // changes nothing
    assertThat(texts(first).get("m1"))
        .containsExactly("EVENT|e1|m1|A|1|~", "NOTE|m1|n1", "NOTE|m1|n2");
    assertThat(repo.rejectedIn(first)).isEqualTo(1);
    assertThat(repo.recordsOf(first)).hasSize(4);
    assertThat(repo.diff(first, second)).isEmpty();
  }

  @Test
  void shouldKeepOnlyCommitsWithinTheRetentionAwayFromTheFloor() {
    // Given eight commits with a retention of five
    for (int i = 0; i < 8; i++) {
      seal();
    }

    // Then commits 4..8 are safely retained, 1 is safely beyond the floor, 2 and 3 are neither
    assertThat(repo.commits().stream().filter(repo::retained).map(RepoModel.CommitInfo::sequence))
        .containsExactly(4L, 5L, 6L, 7L, 8L);
    assertThat(
            repo.commits().stream().filter(repo::beyondFloor).map(RepoModel.CommitInfo::sequence))
        .containsExactly(1L);
  }

  private void event(int partition, String id, String member, String code, String op) {
    repo.sent(
        new SentRow(
            partition,
            nextOffset[partition]++,
            SoakTables.EVENT,
            Arrays.asList(id, member, code, "1", op),
            "csv"));
  }

  private void note(int partition, String member, String text) {
    repo.sent(
        new SentRow(
            partition, nextOffset[partition]++, SoakTables.NOTE, List.of(member, text), "json"));
  }

  private RepoModel.CommitInfo seal() {
    RepoModel.CommitInfo commit =
        new RepoModel.CommitInfo(
            "c" + (repo.commits().size() + 1),
            repo.commits().size() + 1,
            Map.of(0, nextOffset[0], 1, nextOffset[1], 2, nextOffset[2]));
    repo.sealed(commit, "master");
    return commit;
  }

  private Map<String, List<String>> texts(RepoModel.CommitInfo commit) {
    Map<String, List<String>> texts = new java.util.TreeMap<>();
    repo.membersAt(commit).forEach((member, rows) -> texts.put(member, RepoModel.content(rows)));
    return texts;
  }
}
