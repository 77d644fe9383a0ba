package io.tusk.cli.soak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The soak's checks of the repo's history, apart from the jobs: members and diffs as of retained
 * commits (sampled), that the commits beyond the history floor are refused with 410, and that an
 * erased member's history is gone.
 */
final class HistoryChecks {
  /**
   * How long an erased member's older versions may still be read: they are purged once the erasure
   * commit's jobs have done their removal datums, a little after those jobs end.
   */
  static final Duration PURGE_WAIT = Duration.ofSeconds(30);

  private final SoakState state;
  private final SoakDriver driver;
  private final Random sampling;

  HistoryChecks(SoakState state, SoakDriver driver, Random sampling) {
    this.state = state;
    this.driver = driver;
    this.sampling = sampling;
  }

  /** A member query and a branch creation beyond the floor: both 410. */
  List<String> probeFloor(Op.ProbeFloor probe, String branchName) {
    RepoModel.CommitInfo old = state.repo.commitAt(probe.sequence());
    List<String> problems = new ArrayList<>();
    int member = driver.member(state.repo.name(), probe.member(), old.id()).status();
    if (member != 410) {
      problems.add(
          "member "
              + probe.member()
              + " as of commit #"
              + probe.sequence()
              + " (beyond the history floor): expected 410, actual "
              + member);
    }
    int branch =
        SoakDriver.statusOf(() -> driver.createBranch(state.repo.name(), branchName, old.id()));
    if (branch != 410) {
      problems.add(
          "branch created at commit #"
              + probe.sequence()
              + " (beyond the history floor): expected 410, actual "
              + branch);
    }
    if (branch / 100 == 2) {
      driver.deleteBranch(state.repo.name(), branchName);
    }
    return problems;
  }

  /** A few members as of a retained commit, and the diff of two retained commits. */
  List<String> sample() {
    List<RepoModel.CommitInfo> retained =
        state.repo.commits().stream().filter(state.repo::retained).toList();
    List<String> problems = new ArrayList<>();
    if (retained.isEmpty()) {
      return problems;
    }
    for (int i = 0; i < 2; i++) {
      RepoModel.CommitInfo at = retained.get(sampling.nextInt(retained.size()));
      String member = OpGenerator.MEMBERS.get(sampling.nextInt(OpGenerator.MEMBERS.size()));
      problems.addAll(
          SoakChecks.member(
              state.repo, at, member, driver.member(state.repo.name(), member, at.id())));
    }
    if (retained.size() >= 2) {
      int a = sampling.nextInt(retained.size());
      int b = sampling.nextInt(retained.size());
      if (a != b) {
        RepoModel.CommitInfo from = retained.get(Math.min(a, b));
        RepoModel.CommitInfo to = retained.get(Math.max(a, b));
        problems.addAll(
            SoakChecks.diff(
                state.repo, from, to, driver.diff(state.repo.name(), from.id(), to.id())));
      }
    }
    return problems;
  }

  /**
   * Every member as of every retained commit after an erasure, once the erased member's history has
   * been purged: the erased member is absent before the erasure commit (410 "erased") and as the
   * model says after it, every other member exactly as before; and the diffs across the erasure
   * commit. The erased member's reads are repeated until they match or {@link #PURGE_WAIT} has
   * passed.
   */
  List<String> afterErasure(String erased, RepoModel.CommitInfo erasure, List<String> members) {
    long deadline = System.nanoTime() + PURGE_WAIT.toNanos();
    List<String> problems = new ArrayList<>();
    for (RepoModel.CommitInfo at : state.repo.commits()) {
      if (!state.repo.retained(at)) {
        continue;
      }
      for (String member : members) {
        List<String> differences;
        while (true) {
          differences =
              SoakChecks.member(
                  state.repo, at, member, driver.member(state.repo.name(), member, at.id()));
          if (differences.isEmpty() || !member.equals(erased) || System.nanoTime() > deadline) {
            break;
          }
          pause();
        }
        problems.addAll(differences);
      }
    }
    // Then the diffs across the erasure commit, from its parent and from the oldest retained
    // commit: the erased member's removed versions are not there.
    List<RepoModel.CommitInfo> before =
        state.repo.commits().stream()
            .filter(c -> c.sequence() < erasure.sequence() && state.repo.retained(c))
            .toList();
    if (!before.isEmpty()) {
      RepoModel.CommitInfo parent = before.get(before.size() - 1);
      problems.addAll(
          SoakChecks.diff(
              state.repo,
              parent,
              erasure,
              driver.diff(state.repo.name(), parent.id(), erasure.id())));
      RepoModel.CommitInfo oldest = before.get(0);
      if (oldest != parent) {
        problems.addAll(
            SoakChecks.diff(
                state.repo,
                oldest,
                erasure,
                driver.diff(state.repo.name(), oldest.id(), erasure.id())));
      }
    }
    return problems;
  }

  private static void pause() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
