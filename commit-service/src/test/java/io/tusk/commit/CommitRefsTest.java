package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every form of commit reference resolves to the same commit as its full ID; errors are 400
 * (malformed, too short, another repo's commit), 404 (unknown, past the first commit) or 409
 * (ambiguous prefix, naming the candidates).
 */
class CommitRefsTest {
  private static final String REPO = "claims";

  private final CommitIndex index = new CommitIndex();
  private final Map<String, Branch> branches = new HashMap<>();
  private final CommitRefs refs =
      new CommitRefs(index, (repo, name) -> Optional.ofNullable(branches.get(repo + "/" + name)));

  /** master: c1 <- c2 <- c3 <- c4; dev at c2. */
  private final List<Commit> chain = new ArrayList<>();

  @BeforeEach
  void chainOfFourCommits() {
    String parent = null;
    for (int sequence = 1; sequence <= 4; sequence++) {
      // IDs differ in the 7th character: "abcdef" is a prefix of all four.
      Commit commit =
          CommitIndexTest.commit(REPO, "abcdef" + sequence + "0".repeat(25), sequence, null);
      commit = Commit.newBuilder(commit).setParent(parent).build();
      index.record(commit.getId(), commit);
      chain.add(commit);
      parent = commit.getId();
    }
    branch("master", chain.get(3));
    branch("dev", chain.get(1));
  }

  @Test
  void shouldResolveEveryReferenceFormToTheCommitItsFullIdNames() {
    Commit c4 = chain.get(3);
    Commit c3 = chain.get(2);
    Commit c1 = chain.get(0);
    String shortC3 = c3.getId().substring(0, 7);

    assertThat(resolve(c4.getId())).isEqualTo(c4);
    assertThat(resolve(shortC3)).isEqualTo(c3);
    assertThat(resolve("master")).isEqualTo(c4);
    assertThat(resolve("master^")).isEqualTo(c3);
    assertThat(resolve("master~1")).isEqualTo(c3);
    assertThat(resolve("master~")).isEqualTo(c3);
    assertThat(resolve("master~3")).isEqualTo(c1);
    assertThat(resolve("master^^~1")).isEqualTo(c1);
    assertThat(resolve("master~0")).isEqualTo(c4);
    assertThat(resolve("dev")).isEqualTo(chain.get(1));
    assertThat(resolve(shortC3 + "^")).isEqualTo(chain.get(1));
    assertThat(resolve(c4.getId() + "~2")).isEqualTo(chain.get(1));
    assertThat(refs.anyRepo("id", shortC3)).isEqualTo(c3);
    assertThat(refs.find(shortC3)).contains(c3);
  }

  @Test
  void shouldPreferABranchOverAPrefixOfTheSameCharacters() {
    // Given a branch named like a prefix of c1..c4
    branch("abcdef", chain.get(0));

    // Then the branch wins, as in git
    assertThat(resolve("abcdef")).isEqualTo(chain.get(0));
  }

  @Test
  void shouldAnswer409ListingTheCandidatesWhenAPrefixIsAmbiguous() {
    assertError("abcdef", 409)
        .hasMessageContaining("'abcdef' is ambiguous")
        .hasMessageContaining(chain.get(0).getId())
        .hasMessageContaining(chain.get(3).getId());
    assertThatThrownBy(() -> refs.anyRepo("id", "abcdef"))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("ambiguous");
    assertThat(refs.find("abcdef")).isEmpty();
  }

  @Test
  void shouldAnswerClearErrorsForReferencesThatNameNothing() {
    assertError("abcde", 400).hasMessageContaining("at least 6");
    assertError("", 400).hasMessageContaining("got nothing");
    assertError(null, 400).hasMessageContaining("got nothing");
    assertError("master~x", 400).hasMessageContaining("master~x");
    assertError("Master!", 400).hasMessageContaining("must be a commit reference");
    assertError("master~4", 404).hasMessageContaining("chain ends after 3");
    assertError("no-such-branch", 404).hasMessageContaining("no commit or branch");
    assertError("0123456789", 404).hasMessageContaining("starts with '0123456789'");
    assertError("master~99999999999999999999", 400);

    // And another repo's commit, by full ID, is named as such
    Commit other = CommitIndexTest.commit("other", "ffffff" + "0".repeat(26), 1, null);
    index.record(other.getId(), other);
    assertError(other.getId(), 400).hasMessageContaining("commit of repo 'other'");
    // while a prefix only looks at the repo's own commits
    assertError("ffffff", 404);
    assertThat(refs.anyRepo("id", "ffffff")).isEqualTo(other);
  }

  private Commit resolve(String ref) {
    return refs.resolve(REPO, "at", ref);
  }

  private AbstractThrowableAssert<?, ? extends Throwable> assertError(String ref, int status) {
    return assertThatThrownBy(() -> resolve(ref))
        .isInstanceOfSatisfying(
            ApiException.class, e -> assertThat(e.status()).as(e.getMessage()).isEqualTo(status));
  }

  private void branch(String name, Commit head) {
    branches.put(
        REPO + "/" + name,
        Branch.newBuilder()
            .setRepo(REPO)
            .setName(name)
            .setHead(head.getId())
            .setHeadSequence(head.getSequence())
            .setUpdatedAt(0)
            .build());
  }
}
