package io.tusk.cli.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The repo side of the soak's reference model: member objects as of commits, diffs, rejects, and
 * erasures.
 */
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

  @Test
  void shouldRemoveEveryRowTheErasedMemberHoldsWithoutGivingKeysBackToEarlierHolders() {
    // Given m1 with keyed rows and a note, m2 and m4 with one keyed row each
    event(0, "e1", "m1", "A", null);
    event(1, "e2", "m2", "A", null);
    event(0, "e3", "m1", "A", null);
    event(2, "e5", "m4", "A", null);
    note(1, "m1", "n1");
    RepoModel.CommitInfo first = seal();
    // And rows not sealed yet: e2 moves from m2 to m1, e3 from m1 to m3, e5 from m4 to m1
    event(1, "e2", "m1", "B", null);
    event(2, "e3", "m3", "A", null);
    event(0, "e5", "m1", "A", null);

    // When m1 is erased: an erasure commit that also carries those rows
    RepoModel.CommitInfo erasure = erase("m1");

    // Then at the erasure commit m1 holds nothing; e2 and e5 stay gone instead of going back to
    // m2 and m4; e3 moved away in time and stays with m3
    assertThat(texts(erasure)).containsExactly(Map.entry("m3", List.of("EVENT|e3|m3|A|1|~")));
    // And before it m1 is absent while the others are as they were (m1 still held e3 there)
    assertThat(texts(first))
        .containsExactly(
            Map.entry("m2", List.of("EVENT|e2|m2|A|1|~")),
            Map.entry("m4", List.of("EVENT|e5|m4|A|1|~")));
    // And the diff across the erasure never names m1
    assertThat(repo.diff(first, erasure))
        .containsExactly(
            Map.entry("m2", "removed"), Map.entry("m3", "added"), Map.entry("m4", "removed"));
    // And the erasure commit counted m1's removal when it completed; the first commit, m1 too
    assertThat(repo.changedMembers(erasure)).isEqualTo(4);
    assertThat(repo.changedMembers(first)).isEqualTo(3);
    assertThat(repo.everErased("m1")).isTrue();
    assertThat(repo.everErased("m2")).isFalse();
  }

  @Test
  void shouldKeepKeyOwnershipOfOtherMembersInCommitsBeforeTheErasure() {
    // Given e1 of m2, then moved to m1 in the next commit (m2 has no row left there)
    event(0, "e1", "m2", "A", null);
    RepoModel.CommitInfo first = seal();
    event(1, "e1", "m1", "A", null);
    event(2, "e2", "m3", "A", null);
    RepoModel.CommitInfo second = seal();

    // When m1 is erased later
    RepoModel.CommitInfo erasure = erase("m1");

    // Then in the second commit m2 is still without e1 (m1 held it there) and m1 is absent
    assertThat(texts(second)).containsExactly(Map.entry("m3", List.of("EVENT|e2|m3|A|1|~")));
    assertThat(texts(first)).containsExactly(Map.entry("m2", List.of("EVENT|e1|m2|A|1|~")));
    // And the diffs between earlier commits leave m1 out
    assertThat(repo.diff(first, second))
        .containsExactly(Map.entry("m2", "removed"), Map.entry("m3", "added"));
    assertThat(repo.diff(second, erasure)).isEmpty();
  }

  @Test
  void shouldMakeAMemberWithRowsAfterTheErasureANewMemberWithoutHistory() {
    // Given m1 with e1 and a note, erased
    event(0, "e1", "m1", "A", null);
    note(1, "m1", "n1");
    RepoModel.CommitInfo first = seal();
    RepoModel.CommitInfo erasure = erase("m1");

    // When m1 gets new rows, a delete of its erased key changes nothing, and the key comes back
    // for m2
    event(0, "e4", "m1", "B", null);
    note(2, "m1", "n2");
    event(1, "e1", "m1", "A", "D");
    event(2, "e1", "m2", "C", null);
    RepoModel.CommitInfo after = seal();

    // Then m1 holds only its new rows, and was absent before
    assertThat(texts(after))
        .containsExactly(
            Map.entry("m1", List.of("EVENT|e4|m1|B|1|~", "NOTE|m1|n2")),
            Map.entry("m2", List.of("EVENT|e1|m2|C|1|~")));
    assertThat(texts(first)).isEmpty();
    assertThat(texts(erasure)).isEmpty();
    // And diffs across the erasure see m1 only as added after it
    assertThat(repo.diff(first, after))
        .containsExactly(Map.entry("m1", "added"), Map.entry("m2", "added"));
    assertThat(repo.diff(first, erasure)).isEmpty();
    assertThat(repo.changedMembers(erasure)).isEqualTo(1);

    // When m1 is erased again
    RepoModel.CommitInfo again = erase("m1");

    // Then its second life is gone from every earlier commit too, m2 stays
    assertThat(texts(after)).containsOnlyKeys("m2");
    assertThat(texts(again)).containsOnlyKeys("m2");
    assertThat(repo.diff(erasure, again)).containsExactly(Map.entry("m2", "added"));
    assertThat(repo.erasures())
        .extracting(RepoModel.Erasure::sequence)
        .containsExactly(erasure.sequence(), again.sequence());
  }

  @Test
  void shouldChangeNothingElseWhenErasingAMemberThatNeverExisted() {
    // Given m1's row, and a row of m2 not sealed yet
    event(0, "e1", "m1", "A", null);
    RepoModel.CommitInfo first = seal();
    event(1, "e2", "m2", "A", null);

    // When m9, which no row ever named, is erased
    RepoModel.CommitInfo erasure = erase("m9");

    // Then the erasure commit is an ordinary commit of the pending rows
    assertThat(texts(first)).containsOnlyKeys("m1");
    assertThat(texts(erasure)).containsOnlyKeys("m1", "m2");
    assertThat(repo.diff(first, erasure)).containsExactly(Map.entry("m2", "added"));
    assertThat(repo.changedMembers(erasure)).isEqualTo(1);
    assertThat(repo.recordsOf(erasure)).hasSize(1);
    // And m9 is named by the erasure log (reads of it answer 410)
    assertThat(repo.everErased("m9")).isTrue();
    assertThat(repo.erasureAt(erasure)).map(RepoModel.Erasure::member).contains("m9");
    assertThat(repo.erasureAt(first)).isEmpty();
  }

  @Test
  void shouldReadEachCommitWithItsLayoutAndChangeNoMemberByTheLayoutAlone() {
    // Given notes of m1 and m2 in commit 1, and NOTE gaining TAG from commit 2 on
    note(0, "m1", "a");
    note(0, "m2", "b");
    RepoModel.CommitInfo first = seal();
    repo.tagged(2);
    // When m1 gets a tagged note in commit 2 and nothing happens to m2
    repo.sent(new SentRow(0, nextOffset[0]++, SoakTables.NOTE, List.of("m1", "c", "t1"), "csv"));
    RepoModel.CommitInfo second = seal();

    // Then a member reads with the layout of the commit asked about
    assertThat(repo.fitted(repo.membersAt(first).get("m1"), first.sequence()))
        .containsExactly("NOTE|m1|a");
    assertThat(repo.fitted(repo.membersAt(second).get("m1"), second.sequence()))
        .containsExactly("NOTE|m1|a|t0", "NOTE|m1|c|t1");
    assertThat(repo.fitted(repo.membersAt(second).get("m2"), second.sequence()))
        .containsExactly("NOTE|m2|b|t0");
    // And m2 keeps the content stored at commit 1: the diff names m1 only
    assertThat(repo.storedContent("m2", second)).containsExactly("NOTE|m2|b");
    assertThat(repo.storedContent("m1", second)).containsExactly("NOTE|m1|a|t0", "NOTE|m1|c|t1");
    assertThat(repo.diff(first, second)).containsExactly(Map.entry("m1", "changed"));
    assertThat(repo.changedMembers(second)).isEqualTo(1);
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

  /** Seals the pending rows as the erasure commit of {@code member}. */
  private RepoModel.CommitInfo erase(String member) {
    RepoModel.CommitInfo commit = seal();
    repo.erased(commit, member, "request-" + commit.sequence());
    return commit;
  }

  private Map<String, List<String>> texts(RepoModel.CommitInfo commit) {
    Map<String, List<String>> texts = new java.util.TreeMap<>();
    repo.membersAt(commit).forEach((member, rows) -> texts.put(member, RepoModel.content(rows)));
    return texts;
  }
}
