package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static io.tusk.partition.TopologyFixture.event;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Claim;
import io.tusk.schemas.Claims;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.TableSpec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Row moves between members: the member processor's claims and releases with the row-owner stage.
 * The driver is member partition 0; other partitions' claims and markers are written with their
 * partition numbers.
 */
class RowMovesTest {
  private TopologyFixture f;
  private TestOutputTopic<String, Datum> datums;
  private TestOutputTopic<String, CommitPart> parts;

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    datums = f.datums();
    parts = f.commitParts();
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  private Commit seal(long sequence, long start, long end, int memberPartitions) {
    Commit commit = commit(sequence, new long[] {start, 0, 0}, new long[] {end, 0, 0});
    f.seal(REPO, commit, memberPartitions);
    f.barriersAtEnd(commit);
    return commit;
  }

  private MemberObject latest(String member) {
    return f.latest(REPO, member);
  }

  private static List<String> claimIds(MemberObject object) {
    return object.getRows().stream().map(r -> r.getValues().get(1)).toList();
  }

  private static Claim foreignClaim(String member, String claimId, long sequence, int partition) {
    return foreignClaim(member, claimId, sequence, partition, 0, 0);
  }

  /** A claim from another member partition, of a row at a source position. */
  private static Claim foreignClaim(
      String member,
      String claimId,
      long sequence,
      int partition,
      int sourcePartition,
      long sourceOffset) {
    return Claim.newBuilder()
        .setTable("claims")
        .setRowKey(List.of(claimId))
        .setMember(member)
        .setSequence(sequence)
        .setMemberPartition(partition)
        .setSourcePartition(sourcePartition)
        .setSourceOffset(sourceOffset)
        .build();
  }

  @Test
  void shouldMoveTheRowToTheNewMemberWhenAnotherMemberSendsItsRowKey() {
    // Given commit 1: A with claims x1 and a1, B with b1, their datums processed
    f.row(claim(0, 0, "A", "x1", "5"));
    f.row(claim(0, 1, "A", "a1", "10"));
    f.row(claim(0, 2, "B", "b1", "20"));
    seal(1, 0, 3, 1);
    f.succeed(datums.readValuesToList());

    // When commit 2 gives claim x1 to B
    f.row(claim(0, 3, "B", "x1", "7"));
    Commit c2 = seal(2, 3, 4, 1);

    // Then x1 left A and belongs to B, both as of commit 2
    assertThat(claimIds(latest("A"))).containsExactly("a1");
    assertThat(latest("A").getSequence()).isEqualTo(2);
    assertThat(claimIds(latest("B"))).containsExactly("b1", "x1");

    // And both members' datums are emitted, and the part counts two changed members
    Map<String, Datum> second =
        datums.readValuesToList().stream()
            .collect(Collectors.toMap(d -> d.getMemberObject().getMember(), d -> d));
    assertThat(second).containsOnlyKeys("A", "B");
    assertThat(second.get("A").getCommitId()).isEqualTo(c2.getId());
    assertThat(claimIds(second.get("A").getMemberObject())).containsExactly("a1");
    CommitPart part = last(parts.readValuesToList());
    assertThat(part.getCommit().getId()).isEqualTo(c2.getId());
    assertThat(part.getChangedMembers()).isEqualTo(2);
    assertThat(part.getMembers()).isEqualTo(2);
  }

  @Test
  void shouldWaitForEveryPartitionsMarkersAndApplyTheirReleasesWhenTheRepoHasTwoPartitions() {
    // Given commit 1 (two member partitions) where A, in this partition, has claim x1 only
    f.row(claim(0, 0, "A", "x1", "5"));
    seal(1, 0, 1, 2);
    f.otherClaimsDone(REPO, 1, 2);
    f.otherReleasesDone(REPO, 1, 2);
    assertThat(last(parts.readValuesToList()).getMembers()).isEqualTo(1);

    // When commit 2 is ready here while member partition 1 has sent its claim of x1 (for member
    // Z) but not its claims-done marker
    f.claim(REPO, foreignClaim("Z", "x1", 2, 1));
    Commit c2 = seal(2, 1, 1, 2);

    // Then the commit waits
    assertThat(parts.isEmpty()).isTrue();

    // When partition 1's claims-done marker arrives, and row-owner partition 1's releases-done
    f.otherClaimsDone(REPO, 2, 2);
    assertThat(parts.isEmpty()).isTrue();
    f.otherReleasesDone(REPO, 2, 2);

    // Then A lost its only claim: it is removed as of commit 2, and the part counts it
    CommitPart part = last(parts.readValuesToList());
    assertThat(part.getCommit().getId()).isEqualTo(c2.getId());
    assertThat(part.getChangedMembers()).isEqualTo(1);
    assertThat(part.getMembers()).isZero();
    assertThat(latest("A").getRows()).isEmpty();
    assertThat(latest("A").getSequence()).isEqualTo(2);
  }

  @ParameterizedTest(name = "M2''s row at partition {0} offset {1}: {2} keeps k1")
  @CsvSource({"0, 5, M2", "1, 0, M2", "0, 0, M1"})
  void shouldLetTheLatestRowWinWhenTwoMembersClaimOneKeyInOneCommit(
      int sourcePartition, long sourceOffset, String winner) {
    // Given member partition 1's claim of k1 for M2 in commit 1, sent before this partition's,
    // and M1's row of k1 at partition 0 offset 1 (offsets 0 and 1 of partition 0 are M1's rows)
    f.claim(REPO, foreignClaim("M2", "k1", 1, 1, sourcePartition, sourceOffset));
    f.row(claim(0, 0, "M1", "m1", "6"));
    f.row(claim(0, 1, "M1", "k1", "5"));

    // When commit 1 completes here
    seal(1, 0, 2, 2);
    f.otherClaimsDone(REPO, 1, 2);
    f.otherReleasesDone(REPO, 1, 2);

    // Then the latest row of k1 decides, whatever the order the claims came in: a later offset of
    // the same source partition, else the higher source partition
    KeyValueStore<Bytes, RowOwnerProcessor.Owner> owners =
        f.driver.getKeyValueStore(PartitionStores.ROW_OWNERS);
    assertThat(owners.get(StoreKeys.owner(REPO, "claims", List.of("k1"))).member())
        .isEqualTo(winner);
    assertThat(claimIds(latest("M1")))
        .containsExactlyElementsOf(winner.equals("M1") ? List.of("k1", "m1") : List.of("m1"));
  }

  @Test
  void shouldSkipTheRowOwnerRoundWhenTheRepoHasNoRowKeys() {
    // Given a repo whose tables have no row keys
    RepoSpec plain = TopologyFixture.spec(REPO);
    f.specs.put(
        REPO,
        RepoSpec.newBuilder(plain)
            .setTables(
                plain.getTables().stream()
                    .map(t -> TableSpec.newBuilder(t).setRowKey(List.of()).build())
                    .toList())
            .build());
    TestOutputTopic<String, RowOwnerEvent> owners =
        f.driver.createOutputTopic(
            TopicNames.rowOwners(REPO),
            f.topics.keySerde().deserializer(),
            f.topics.rowOwnerEventSerde().deserializer());

    // When a commit of two partitions completes here
    f.row(event(0, 0, "A", "E1"));
    seal(1, 0, 1, 2);

    // Then no claim or marker is written and the commit completes without other partitions
    assertThat(owners.isEmpty()).isTrue();
    assertThat(last(parts.readValuesToList()).getRows()).isEqualTo(1);
  }

  @Test
  void shouldClaimEveryKeyedRowSoTheLatestRowDecidesTheOwner() {
    // Given A with claim x1 in commit 1
    TestOutputTopic<String, RowOwnerEvent> owners =
        f.driver.createOutputTopic(
            TopicNames.rowOwners(REPO),
            f.topics.keySerde().deserializer(),
            f.topics.rowOwnerEventSerde().deserializer());
    f.row(claim(0, 0, "A", "x1", "5"));
    seal(1, 0, 1, 1);
    List<KeyValue<String, RowOwnerEvent>> first = owners.readKeyValuesToList();
    assertThat(first).filteredOn(kv -> kv.value.getEvent() instanceof Claims).hasSize(1);
    assertThat(first.get(0).key).isEqualTo("claims/x1");

    // When commit 2 corrects x1 in A
    f.row(claim(0, 1, "A", "x1", "6"));
    seal(2, 1, 2, 1);

    // Then A claims x1 again with the correction's position (another member's row of x1 in the
    // same commit must not win if it came earlier), then the claims-done marker
    List<RowOwnerEvent> second = owners.readValuesToList();
    assertThat(second)
        .extracting(e -> e.getEvent().getClass().getSimpleName())
        .containsExactly("Claims", "ClaimsDone");
    Claim again = ((Claims) second.get(0).getEvent()).getClaims().get(0);
    assertThat(again.getMember()).isEqualTo("A");
    assertThat(again.getSourceOffset()).isEqualTo(1);
    assertThat(again.getDelete()).isFalse();
  }

  @Test
  void shouldLetTheOwnerKeepItsRowWhenAnEarlierClaimOfAnotherMemberArrivesFirst() {
    // Given M1 holding k1 after commit 1
    f.row(claim(0, 0, "M1", "k1", "5"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {1, 0, 0});
    f.seal(REPO, c1, 2);
    f.barriersAtEnd(c1);
    f.otherClaimsDone(REPO, 1, 2);
    f.otherReleasesDone(REPO, 1, 2);

    // When commit 2 has M2's row of k1 in source partition 0 (its claim, from member partition 1,
    // arrives first) and M1's correction of k1 in partition 1, which comes later in source order
    f.claim(REPO, foreignClaim("M2", "k1", 2, 1, 0, 9));
    f.row(claim(1, 0, "M1", "k1", "6"));
    Commit c2 = commit(2, new long[] {1, 0, 0}, new long[] {1, 1, 0});
    f.seal(REPO, c2, 2);
    f.barriersAtEnd(c2);
    f.otherClaimsDone(REPO, 2, 2);
    f.otherReleasesDone(REPO, 2, 2);

    // Then M1 keeps k1 with its correction: no early release took it away
    MemberObject m1 = latest("M1");
    assertThat(claimIds(m1)).containsExactly("k1");
    assertThat(m1.getRows().get(0).getValues().get(2)).isEqualTo("6");
    KeyValueStore<Bytes, RowOwnerProcessor.Owner> owners =
        f.driver.getKeyValueStore(PartitionStores.ROW_OWNERS);
    assertThat(owners.get(StoreKeys.owner(REPO, "claims", List.of("k1"))).member()).isEqualTo("M1");
  }

  @Test
  void shouldDeleteTheRowWhateverMemberHoldsItWhenADeleteByRowKeyArrives() {
    // Given A with claims x1 and a1 in commit 1, processed
    f.row(claim(0, 0, "A", "x1", "5"));
    f.row(claim(0, 1, "A", "a1", "10"));
    seal(1, 0, 2, 1);
    f.succeed(datums.readValuesToList());

    // When commit 2 holds a delete of x1 that names no member (an upstream output tombstone)
    f.event(
        REPO,
        null,
        RowDelete.newBuilder()
            .setTable("claims")
            .setRowKey(List.of("x1"))
            .setSourcePartition(0)
            .setSourceOffset(2)
            .build());
    seal(2, 2, 3, 1);

    // Then A loses x1 in commit 2 and its datum runs
    assertThat(claimIds(latest("A"))).containsExactly("a1");
    assertThat(latest("A").getSequence()).isEqualTo(2);
    Map<String, Datum> second =
        datums.readKeyValuesToList().stream()
            .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
    assertThat(second).containsOnlyKeys("A");
    assertThat(claimIds(second.get("A").getMemberObject())).containsExactly("a1");
    assertThat(last(parts.readValuesToList()).getChangedMembers()).isEqualTo(1);
  }

  @Test
  void shouldDeleteAMovedRowWhenTheCommitMovesItAndThenDeletesIt() {
    // Given a claims table with an op column, and A holding x1 after commit 1
    RepoSpec spec = TopologyFixture.spec(REPO);
    f.specs.put(
        REPO,
        RepoSpec.newBuilder(spec)
            .setTables(
                List.of(
                    TableSpec.newBuilder(spec.getTables().get(0))
                        .setColumns(List.of("PERSON_ID", "CLAIM_ID", "AMOUNT", "OP"))
                        .setOpColumn("OP")
                        .build(),
                    spec.getTables().get(1)))
            .build());
    f.row(new Row("claims", Arrays.asList("A", "x1", "5", null), 0, 0L));
    f.row(new Row("claims", Arrays.asList("A", "a1", "6", null), 0, 1L));
    seal(1, 0, 2, 1);

    // When commit 2 moves x1 to B, then deletes it (the delete row names B)
    f.row(new Row("claims", Arrays.asList("B", "x1", "7", null), 0, 2L));
    f.row(new Row("claims", Arrays.asList("B", "x1", "7", " d "), 0, 3L));
    seal(2, 2, 4, 1);

    // Then x1 is gone from both: A lost it to the move, and the delete came last
    assertThat(claimIds(latest("A"))).containsExactly("a1");
    MemberObject b = latest("B");
    assertThat(b == null || b.getRows().isEmpty()).isTrue();
    KeyValueStore<Bytes, RowOwnerProcessor.Owner> owners =
        f.driver.getKeyValueStore(PartitionStores.ROW_OWNERS);
    assertThat(owners.get(StoreKeys.owner(REPO, "claims", List.of("x1"))).holds()).isFalse();
  }

  private static <T> T last(List<T> values) {
    assertThat(values).isNotEmpty();
    return values.get(values.size() - 1);
  }

  @Test
  void shouldBatchTheClaimsOfACommitPerRowOwnerPartitionAndSettleEachOfThem() {
    // Given 1,500 keyed rows of 300 members in one commit of a repo with 3 member partitions
    TestOutputTopic<String, RowOwnerEvent> owners = rowOwnersOutput();
    int rows = 1_500;
    for (int i = 0; i < rows; i++) {
      f.row(claim(0, i, "M" + (i % 300), "k" + i, "1"));
    }

    // When the commit completes here
    seal(1, 0, rows, 3);
    f.otherClaimsDone(REPO, 1, 3);
    f.otherReleasesDone(REPO, 1, 3);

    // Then the claims went out as batches of at most BATCH_CLAIMS claims, far fewer records than
    // keys, each keyed by its first claim and holding only keys of that key's partition
    List<KeyValue<String, RowOwnerEvent>> batches =
        owners.readKeyValuesToList().stream()
            .filter(kv -> kv.value.getEvent() instanceof Claims)
            .toList();
    assertThat(batches).hasSizeBetween(3, 30);
    int claimed = 0;
    for (KeyValue<String, RowOwnerEvent> batch : batches) {
      List<Claim> claims = ((Claims) batch.value.getEvent()).getClaims();
      assertThat(claims).hasSizeBetween(1, RowMoves.BATCH_CLAIMS);
      assertThat(batch.key).isEqualTo(ownerKey(claims.get(0)));
      int partition = RowMoves.rowOwnerPartition(batch.key, 3);
      assertThat(claims)
          .allSatisfy(
              c -> assertThat(RowMoves.rowOwnerPartition(ownerKey(c), 3)).isEqualTo(partition));
      claimed += claims.size();
    }
    assertThat(claimed).isEqualTo(rows);

    // And the row-owner stage recorded every key's owner, and the commit completed with every row
    KeyValueStore<Bytes, RowOwnerProcessor.Owner> owned =
        f.driver.getKeyValueStore(PartitionStores.ROW_OWNERS);
    for (int i = 0; i < rows; i++) {
      assertThat(owned.get(StoreKeys.owner(REPO, "claims", List.of("k" + i))).member())
          .isEqualTo("M" + (i % 300));
    }
    assertThat(last(parts.readValuesToList()).getRows()).isEqualTo(rows);
  }

  @Test
  void shouldKeepABatchOfLongRowKeysFarBelowKafkasRecordLimit() {
    // Given ten rows whose row keys are 100,000 characters long, in one commit
    TestOutputTopic<String, RowOwnerEvent> owners = rowOwnersOutput();
    for (int i = 0; i < 10; i++) {
      f.row(claim(0, i, "A", i + "x".repeat(100_000), "1"));
    }

    // When the commit completes here
    seal(1, 0, 10, 1);

    // Then no batch holds more than BATCH_CHARS of strings plus one claim (its record stays far
    // below Kafka's 1 MiB default), and every claim went out
    List<Claims> batches =
        owners.readValuesToList().stream()
            .map(RowOwnerEvent::getEvent)
            .filter(Claims.class::isInstance)
            .map(Claims.class::cast)
            .toList();
    assertThat(batches).hasSizeGreaterThan(1);
    assertThat(batches)
        .allSatisfy(b -> assertThat(b.getClaims()).hasSizeLessThanOrEqualTo(3))
        .flatExtracting(Claims::getClaims)
        .hasSize(10);
    assertThat(claimIds(latest("A"))).hasSize(10);
  }

  @Test
  void shouldSettleABatchOfAnotherPartitionAsItsClaimsOneByOne() {
    // Given M1 holding k1 and k2 after commit 1 of a repo with two member partitions
    f.row(claim(0, 0, "M1", "k1", "5"));
    f.row(claim(0, 1, "M1", "k2", "6"));
    seal(1, 0, 2, 2);
    f.otherClaimsDone(REPO, 1, 2);
    f.otherReleasesDone(REPO, 1, 2);

    // When member partition 1 claims both keys for M2 in commit 2, in one batch
    f.claims(
        REPO, List.of(foreignClaim("M2", "k1", 2, 1, 0, 7), foreignClaim("M2", "k2", 2, 1, 0, 8)));
    seal(2, 2, 2, 2);
    f.otherClaimsDone(REPO, 2, 2);
    f.otherReleasesDone(REPO, 2, 2);

    // Then both keys moved to M2: M1 lost both rows as of commit 2
    assertThat(latest("M1").getRows()).isEmpty();
    assertThat(latest("M1").getSequence()).isEqualTo(2);
    KeyValueStore<Bytes, RowOwnerProcessor.Owner> owned =
        f.driver.getKeyValueStore(PartitionStores.ROW_OWNERS);
    assertThat(owned.get(StoreKeys.owner(REPO, "claims", List.of("k1"))).member()).isEqualTo("M2");
    assertThat(owned.get(StoreKeys.owner(REPO, "claims", List.of("k2"))).member()).isEqualTo("M2");
  }

  @Test
  void shouldRouteByRowKeyAsKafkasDefaultPartitionerDoes() {
    for (int partitions = 1; partitions <= 12; partitions++) {
      for (int i = 0; i < 1_000; i++) {
        String key = "claims/k" + i + "/é" + i;
        assertThat(RowMoves.rowOwnerPartition(key, partitions))
            .isEqualTo(
                BuiltInPartitioner.partitionForKey(
                    key.getBytes(StandardCharsets.UTF_8), partitions));
      }
    }
  }

  private TestOutputTopic<String, RowOwnerEvent> rowOwnersOutput() {
    return f.driver.createOutputTopic(
        TopicNames.rowOwners(REPO),
        f.topics.keySerde().deserializer(),
        f.topics.rowOwnerEventSerde().deserializer());
  }

  private static String ownerKey(Claim claim) {
    return RowMoves.ownerKey(claim.getTable(), claim.getRowKey());
  }
}
