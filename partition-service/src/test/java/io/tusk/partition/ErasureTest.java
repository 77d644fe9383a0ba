package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static io.tusk.partition.TopologyFixture.event;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.Hashing;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Erase;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Erasure on the member side (issue 10): an erased member is removed at the erasure commit, every
 * version of it goes at once, its removal datums carry the request, and once they are done no store
 * of the topology holds its key; other members stay byte-identical to a run that never had it.
 */
class ErasureTest {
  private static final long SEED = 20261204L;

  /** Distinctive enough that finding its bytes anywhere means the member was kept. */
  private static final String ERASED = "ERASED-7f3a9c";

  private static final String REQUEST = "erasure-request-1";

  /** The stores whose content must not depend on whether the erased member ever existed. */
  private static final List<String> MEMBER_STORES =
      List.of(
          PartitionStores.MEMBER_VERSIONS,
          PartitionStores.MEMBER_CHUNKS,
          PartitionStores.MEMBER_DELTAS,
          PartitionStores.CHANGED_MEMBERS,
          PartitionStores.DATUM_STATES,
          PartitionStores.FAILED_DATUMS,
          PartitionStores.ROW_OWNERS,
          PartitionStores.PENDING_ERASURES,
          PartitionStores.MEMBER_ERASURES,
          // Commit marks count the members present as of each commit (a re-run's total).
          PartitionStores.COMMIT_INDEX);

  private final List<Run> runs = new ArrayList<>();

  @AfterEach
  void tearDown() {
    runs.forEach(r -> r.f.close());
  }

  /** One topology: commits sealed with rows of source partitions 0 (others) and 1 (erased). */
  private final class Run {
    final TopologyFixture f = new TopologyFixture();
    final TestOutputTopic<String, Datum> datums = f.datums();
    final TestOutputTopic<String, MemberObject> members = f.members(REPO);
    final StoreScan scan = new StoreScan(f.topics);
    final long[] offsets = new long[3];

    /** Whether commits start a job of the pipeline. */
    boolean withJobs = true;

    /** The end offsets of the last commit sealed: the next one starts there. */
    long[] sealed = new long[3];

    Run() {
      runs.add(this);
    }

    /**
     * Sends the rows, then seals commit {@code sequence} over them (an erasure commit if asked).
     */
    Commit seal(long sequence, String erasure, Row... rows) {
      long[] start = sealed;
      for (Row row : rows) {
        Row placed =
            new Row(
                row.getTable(),
                row.getValues(),
                row.getSourcePartition(),
                offsets[row.getSourcePartition()]++);
        f.row(placed);
      }
      sealed = offsets.clone();
      Commit.Builder commit =
          Commit.newBuilder(commit(sequence, start, sealed)).setErasure(erasure);
      if (!withJobs) {
        commit.setJobs(List.of());
      }
      return seal(commit.build());
    }

    private Commit seal(Commit commit) {
      f.seal(commit);
      f.barriersAtEnd(commit);
      return commit;
    }

    /**
     * Writes the Erase of {@code member} at commit {@code sequence}, as the commit service does.
     */
    void erase(String member, long sequence) {
      f.event(REPO, member, Erase.newBuilder().setRequest(REQUEST).setSequence(sequence).build());
    }

    /** The datums emitted since the last call, by member. */
    Map<String, Datum> emitted() {
      Map<String, Datum> byMember = new LinkedHashMap<>();
      for (KeyValue<String, Datum> kv : datums.readKeyValuesToList()) {
        byMember.put(kv.key, kv.value);
      }
      return byMember;
    }

    /** Every datum emitted since the last call succeeds. */
    Map<String, Datum> succeedAll() {
      Map<String, Datum> emitted = emitted();
      f.succeed(List.copyOf(emitted.values()));
      return emitted;
    }

    MemberVersions versions() {
      return f.versions();
    }

    List<String> storesHolding(String text) {
      return scan.holding(f.driver, text);
    }

    Map<String, Map<String, String>> memberStores() {
      Map<String, Map<String, String>> stores = new LinkedHashMap<>();
      MEMBER_STORES.forEach(name -> stores.put(name, scan.store(f.driver, name)));
      return stores;
    }
  }

  private static Row erasedClaim(String claimId, String amount) {
    return claim(1, 0, ERASED, claimId, amount);
  }

  /**
   * Commits 1-3 change the erased member each time (3 versions) and others alongside; commit 4 is
   * the erasure commit (with a row of another member). With {@code withErased} false the erased
   * member's rows and its Erase are left out: everything else is the same.
   */
  private static Map<String, Datum> threeVersionsThenErase(Run run, boolean withErased) {
    Random random = new Random(SEED);
    List<List<Row>> others =
        List.of(
            List.of(
                claim(0, 0, "O1", "o1-a", amount(random)),
                claim(0, 0, "O2", "o2-a", amount(random))),
            List.of(claim(0, 0, "O1", "o1-b", amount(random))),
            List.of(claim(0, 0, "O2", "o2-a", amount(random)), event(0, 0, "O1", "E11")));
    List<List<Row>> erased =
        List.of(
            List.of(erasedClaim("m-1", amount(random)), event(1, 0, ERASED, "Z99")),
            List.of(erasedClaim("m-2", amount(random))),
            List.of(erasedClaim("m-1", amount(random))));
    for (int i = 0; i < 3; i++) {
      List<Row> rows = new ArrayList<>(others.get(i));
      if (withErased) {
        rows.addAll(erased.get(i));
      }
      run.seal(i + 1, null, rows.toArray(Row[]::new));
      run.succeedAll();
    }
    if (withErased) {
      run.erase(ERASED, 4);
    }
    run.seal(4, REQUEST, claim(0, 0, "O1", "o1-c", amount(random)));
    return run.emitted();
  }

  private static String amount(Random random) {
    return Integer.toString(random.nextInt(10_000));
  }

  @Test
  void shouldForgetEveryVersionAndStateOfAnErasedMemberAndLeaveOthersAsIfItNeverWas() {
    System.out.println("ErasureTest seed " + SEED);
    // Given a member with 3 versions, processed, and an erasure commit
    Run run = new Run();
    Map<String, Datum> erasureJob = threeVersionsThenErase(run, true);

    // Then its job removes the member's output with a removal datum that carries the request
    assertThat(erasureJob).containsOnlyKeys(ERASED, "O1");
    Datum removal = erasureJob.get(ERASED);
    assertThat(removal.getErasure()).isEqualTo(REQUEST);
    assertThat(removal.getMemberObject().getRows()).isEmpty();
    assertThat(removal.getDatumHash()).isEqualTo(Hashing.datumHash(TopologyFixture.SPEC_HASH, ""));
    assertThat(erasureJob.get("O1").getErasure()).isNull();

    // And <repo>.members has the member's tombstone last
    List<KeyValue<String, MemberObject>> written =
        run.members.readKeyValuesToList().stream().filter(kv -> kv.key.equals(ERASED)).toList();
    assertThat(written).hasSize(4);
    assertThat(written.get(3).value).isNull();

    // And as-of reads at every commit find nothing, already before the removal datum is done
    MemberVersions versions = run.versions();
    for (long s = 1; s <= 4; s++) {
      assertThat(MemberVersions.present(versions.asOf(REPO, ERASED, s))).isFalse();
    }
    assertThat(versions.asOf(REPO, ERASED, 3)).isNull();

    // When the removal datum is done
    run.f.succeed(List.copyOf(erasureJob.values()));

    // Then no entry of any store holds the member's key
    assertThat(run.storesHolding(ERASED)).isEmpty();
    assertThat(run.storesHolding("m-1")).isEmpty();
    for (long s = 1; s <= 4; s++) {
      assertThat(versions.asOf(REPO, ERASED, s)).isNull();
    }

    // And the other members' versions, changed sets and datum states are byte-identical to a run
    // that never had the erased member
    Run without = new Run();
    without.f.succeed(List.copyOf(threeVersionsThenErase(without, false).values()));
    Map<String, Map<String, String>> expected = without.memberStores();
    assertThat(expected.get(PartitionStores.MEMBER_VERSIONS)).isNotEmpty();
    assertThat(expected.get(PartitionStores.DATUM_STATES)).isNotEmpty();
    assertThat(expected.get(PartitionStores.ROW_OWNERS)).isNotEmpty();
    Map<String, Map<String, String>> actual = run.memberStores();
    for (String store : MEMBER_STORES) {
      assertThat(actual.get(store)).as(store).isEqualTo(expected.get(store));
    }
  }

  @Test
  void shouldEraseALargeChunkedMember() {
    // Given a member of 6,000 rows (its versions in chunks) changed in two commits
    Run run = new Run();
    int rows = 6_000;
    List<Row> first = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      first.add(erasedClaim(String.format("big-%05d", i), "1" + "x".repeat(80)));
    }
    run.seal(1, null, first.toArray(Row[]::new));
    run.succeedAll();
    run.seal(2, null, erasedClaim("big-00001", "2" + "x".repeat(80)));
    run.succeedAll();
    assertThat(run.scan.store(run.f.driver, PartitionStores.MEMBER_CHUNKS).size()).isGreaterThan(2);

    // When it is erased and its removal datum done
    run.erase(ERASED, 3);
    run.seal(3, REQUEST);
    Map<String, Datum> erasureJob = run.succeedAll();

    // Then the removal carried the request and nothing of the member is left, chunks included
    assertThat(erasureJob.get(ERASED).getErasure()).isEqualTo(REQUEST);
    assertThat(run.scan.store(run.f.driver, PartitionStores.MEMBER_CHUNKS)).isEmpty();
    assertThat(run.storesHolding(ERASED)).isEmpty();
    assertThat(run.storesHolding("big-00001")).isEmpty();
  }

  @Test
  void shouldStartAFreshMemberWithNoHistoryWhenRowsComeAfterTheErasure() {
    // Given a member erased at commit 2, its removal done
    Run run = new Run();
    run.seal(1, null, erasedClaim("m-1", "10"), claim(0, 0, "O1", "o1-a", "1"));
    run.succeedAll();
    run.erase(ERASED, 2);
    run.seal(2, REQUEST);
    run.succeedAll();
    assertThat(run.storesHolding(ERASED)).isEmpty();

    // When the next commit has rows of the same member key
    run.seal(3, null, erasedClaim("m-9", "30"));

    // Then it is a new member: one version, added at commit 3, processed from its new rows only
    Map<String, Datum> third = run.succeedAll();
    assertThat(third).containsOnlyKeys(ERASED);
    assertThat(third.get(ERASED).getErasure()).isNull();
    assertThat(third.get(ERASED).getMemberObject().getRows())
        .extracting(r -> r.getValues().get(1))
        .containsExactly("m-9");
    MemberVersions versions = run.versions();
    assertThat(versions.asOf(REPO, ERASED, 2)).isNull();
    assertThat(versions.asOf(REPO, ERASED, 3).getRows()).hasSize(1);
    assertThat(
            run.f
                .driver
                .<Bytes, Long>getKeyValueStore(PartitionStores.CHANGED_MEMBERS)
                .get(StoreKeys.changed(REPO, 3, ERASED)))
        .isEqualTo(MemberUpdates.ADDED);
  }

  @Test
  void shouldRemoveTheOutputAfterAnEarlierJobsPendingDatumOfTheMemberIsDone() {
    // Given commit 1's job with the member's datum still pending
    Run run = new Run();
    run.seal(1, null, erasedClaim("m-1", "10"), claim(0, 0, "O1", "o1-a", "1"));
    Map<String, Datum> first = run.emitted();
    run.f.done(first.get("O1"), DatumState.SUCCESS);

    // When the erasure commit completes meanwhile
    run.erase(ERASED, 2);
    run.seal(2, REQUEST);

    // Then the member's history is gone at once, but the next job waits for the pending datum
    assertThat(run.versions().asOf(REPO, ERASED, 1)).isNull();
    assertThat(run.emitted()).isEmpty();

    // When that datum succeeds (its output written) and its job ends
    run.f.done(first.get(ERASED), DatumState.SUCCESS);

    // Then the erasure job removes that output with the request, and once done nothing is left
    Map<String, Datum> erasureJob = run.succeedAll();
    assertThat(erasureJob).containsOnlyKeys(ERASED);
    assertThat(erasureJob.get(ERASED).getErasure()).isEqualTo(REQUEST);
    assertThat(run.storesHolding(ERASED)).isEmpty();
  }

  @Test
  void shouldClearAPipelineAtOnceWhenTheErasedMemberHasNoOutputThere() {
    // Given a member whose only datum failed (no output, a failed-datum record)
    Run run = new Run();
    run.seal(1, null, erasedClaim("m-1", "10"), claim(0, 0, "O1", "o1-a", "1"));
    Map<String, Datum> first = run.emitted();
    run.f.done(first.get(ERASED), DatumState.FAILED);
    run.f.done(first.get("O1"), DatumState.SUCCESS);

    // When it is erased
    run.erase(ERASED, 2);
    run.seal(2, REQUEST);

    // Then no removal datum is needed, and nothing of the member is left (the tracker's record of
    // its failure keeps a salted hash, not the key)
    assertThat(run.emitted()).isEmpty();
    assertThat(run.storesHolding(ERASED)).isEmpty();
  }

  /** A delete by row key from an upstream erasure tombstone, at source partition 2. */
  private static void erasureDelete(Run run, String claimId) {
    run.f.event(
        REPO,
        null,
        RowDelete.newBuilder()
            .setTable("claims")
            .setRowKey(List.of(claimId))
            .setSourcePartition(2)
            .setSourceOffset(run.offsets[2]++)
            .setErasure(REQUEST)
            .build());
  }

  @Test
  void shouldPurgeARowAnErasureDeletesFromEveryVersionOfTheMemberThatHeldIt() {
    // Given a member of a derived repo with a row in 2 versions (and another row added in the 2nd)
    Run run = new Run();
    run.seal(1, null, claim(0, 0, "C", "gone-1", "4711"), claim(0, 0, "O1", "o1-a", "1"));
    run.succeedAll();
    run.seal(2, null, claim(0, 0, "C", "kept-1", "5"));
    run.succeedAll();
    MemberVersions versions = run.versions();
    String hash1 = versions.asOf(REPO, "C", 1).getHash();
    String hash2 = versions.asOf(REPO, "C", 2).getHash();

    // When an erasure's delete of that row comes in commit 3
    erasureDelete(run, "gone-1");
    run.seal(3, null);

    // Then the row is gone at commit 3 and from every older version, which keep their hashes
    assertThat(versions.asOf(REPO, "C", 3).getRows())
        .extracting(r -> r.getValues().get(1))
        .containsExactly("kept-1");
    assertThat(versions.asOf(REPO, "C", 2).getRows())
        .extracting(r -> r.getValues().get(1))
        .containsExactly("kept-1");
    assertThat(versions.asOf(REPO, "C", 2).getHash()).isEqualTo(hash2);
    assertThat(versions.asOf(REPO, "C", 1).getRows()).isEmpty();
    assertThat(versions.asOf(REPO, "C", 1).getHash()).isEqualTo(hash1);
    assertThat(run.storesHolding("4711")).isEmpty();
    // (the row key is the erased upstream member's key: no row-owner entry may keep it)
    assertThat(run.storesHolding("gone-1")).isEmpty();
    // (every version is whole again: no delta's positions refer to the rows before the purge)
    assertThat(run.scan.store(run.f.driver, PartitionStores.MEMBER_DELTAS)).isEmpty();

    // And the member stays: its datum is an ordinary one, and no erasure is pending for it
    Map<String, Datum> third = run.succeedAll();
    assertThat(third).containsOnlyKeys("C");
    assertThat(third.get("C").getErasure()).isNull();
    assertThat(run.scan.store(run.f.driver, PartitionStores.MEMBER_ERASURES)).isEmpty();
  }

  @Test
  void shouldEraseAMemberLeftWithNoRowsByAnErasuresDelete() {
    // Given a derived member with one row over 2 versions
    Run run = new Run();
    run.seal(1, null, claim(0, 0, ERASED, "only-1", "10"), claim(0, 0, "O1", "o1-a", "1"));
    run.succeedAll();
    run.seal(2, null, claim(0, 0, ERASED, "only-1", "20"));
    run.succeedAll();

    // When an erasure's delete takes that row
    erasureDelete(run, "only-1");
    run.seal(3, null);

    // Then the member is erased with the same request: its removal carries it, and once done
    // nothing of it is left
    Map<String, Datum> third = run.succeedAll();
    assertThat(third).containsOnlyKeys(ERASED);
    assertThat(third.get(ERASED).getErasure()).isEqualTo(REQUEST);
    assertThat(run.storesHolding(ERASED)).isEmpty();
    assertThat(run.storesHolding("only-1")).isEmpty();
    for (long s = 1; s <= 3; s++) {
      assertThat(run.versions().asOf(REPO, ERASED, s)).isNull();
    }
  }

  @Test
  void shouldEraseAMemberOf20000RowsAnd52VersionsWellWithinATransactionTimeout() {
    // Given a member of 20,000 rows (about 2 MB, in chunks) with 52 versions, no pipeline
    Run run = new Run();
    run.withJobs = false;
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      rows.add(erasedClaim(String.format("h-%05d", i), "1" + "y".repeat(80)));
    }
    run.seal(1, null, rows.toArray(Row[]::new));
    for (int v = 2; v <= 52; v++) {
      run.seal(v, null, erasedClaim("h-00000", v + "y".repeat(80)));
    }
    assertThat(run.versions().asOf(REPO, ERASED, 52).getSequence()).isEqualTo(52);

    // When it is erased
    long started = System.nanoTime();
    run.erase(ERASED, 53);
    run.seal(53, REQUEST);
    long millis = (System.nanoTime() - started) / 1_000_000;
    System.out.println("Erasing 20,000 rows in 52 versions took " + millis + " ms");

    // Then the step took far less than Streams' default transaction timeout (60 s), and (no
    // pipeline to clear it) nothing of the member is left
    assertThat(millis).isLessThan(20_000);
    assertThat(run.emitted()).isEmpty();
    assertThat(run.scan.store(run.f.driver, PartitionStores.MEMBER_CHUNKS)).isEmpty();
    assertThat(run.storesHolding(ERASED)).isEmpty();
  }
}
