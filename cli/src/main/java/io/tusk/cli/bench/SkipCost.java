package io.tusk.cli.bench;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.MemberSkip;
import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The member side's skip decision's cost per unchanged member, in microseconds of CPU: applying a
 * re-sent row ({@code apply}) and hashing the result ({@code hash}), against the {@link
 * MemberSkip#unchanged} short-cut.
 */
record SkipCost(double apply, double hash, double shortCut) {
  private static final int ROUNDS = 15;
  private static final int WARM_UP_ROUNDS = 10;

  /** The decision by apply and hash. */
  double total() {
    return apply + hash;
  }

  /**
   * Measures the decision on every member: its stored rows with a re-sent copy of one of them
   * applied ({@link MemberObjects#apply}), then the member and datum hashes and the comparison with
   * the stored one; and the same decision by {@link MemberSkip#unchanged}. Timed in thread CPU
   * time, so other load on the machine does not count; the median of rounds over every member,
   * after warm-up rounds.
   *
   * @throws IllegalStateException if an unchanged member is taken for a change (skip is broken)
   */
  static SkipCost measure(List<MemberObject> members, RepoLayout layout) {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    double[] apply = new double[ROUNDS];
    double[] hash = new double[ROUNDS];
    double[] shortCut = new double[ROUNDS];
    for (int round = 0; round < ROUNDS + WARM_UP_ROUNDS; round++) {
      List<List<Row>> applied = new ArrayList<>(members.size());
      long start = cpu.getCurrentThreadCpuTime();
      for (MemberObject member : members) {
        List<Row> current = member.getRows();
        applied.add(MemberObjects.apply(current, List.of(current.get(0)), layout));
      }
      long middle = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < members.size(); i++) {
        String stored = Hashing.datumHash("spec", members.get(i).getHash());
        if (!Hashing.datumHash("spec", Hashing.memberHash(applied.get(i))).equals(stored)) {
          throw new IllegalStateException("an unchanged member hashed differently: skip is broken");
        }
      }
      long end = cpu.getCurrentThreadCpuTime();
      for (MemberObject member : members) {
        List<Row> current = member.getRows();
        if (!MemberSkip.unchanged(current, List.of(current.get(0)), layout)) {
          throw new IllegalStateException("a re-sent row was taken for a change: skip is broken");
        }
      }
      long last = cpu.getCurrentThreadCpuTime();
      if (round >= WARM_UP_ROUNDS) {
        apply[round - WARM_UP_ROUNDS] = (middle - start) / 1e3 / members.size();
        hash[round - WARM_UP_ROUNDS] = (end - middle) / 1e3 / members.size();
        shortCut[round - WARM_UP_ROUNDS] = (last - end) / 1e3 / members.size();
      }
    }
    Arrays.sort(apply);
    Arrays.sort(hash);
    Arrays.sort(shortCut);
    return new SkipCost(apply[ROUNDS / 2], hash[ROUNDS / 2], shortCut[ROUNDS / 2]);
  }
}
