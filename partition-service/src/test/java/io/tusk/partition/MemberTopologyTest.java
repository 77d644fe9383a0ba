package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.PIPELINE;
import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.SPEC_HASH;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static io.tusk.partition.TopologyFixture.event;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.Hashing;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The member topology (step 3 of the commit protocol) on a {@code TopologyTestDriver}. */
class MemberTopologyTest {
  private TopologyFixture fixture;

  @AfterEach
  void tearDown() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private TopologyFixture fixture() {
    fixture = new TopologyFixture();
    return fixture;
  }

  @Test
  void shouldCompleteCommitOnlyWhenEveryPartitionsBarrierReachesItsEndOffset() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, Datum> datums = f.datums();
    // Given rows of four members from three source partitions (offset 1 of partition 2 is a
    // transaction marker) and commit 1 sealed at end offsets 2, 1, 3
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    f.row(claim(1, 0, "C", "c1", "30"));
    f.row(claim(2, 0, "A", "a2", "11"));
    f.row(claim(2, 2, "D", "d1", "5"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {2, 1, 3});
    f.seal(c1);

    // When partitions 0 and 1 reach their ends but partition 2 is one short
    f.barrier(0, 2);
    f.barrier(1, 1);
    f.barrier(2, 2);
    f.tick();

    // Then nothing is emitted
    assertThat(datums.isEmpty()).isTrue();
    assertThat(f.members(REPO).isEmpty()).isTrue();
    assertThat(f.commitParts().isEmpty()).isTrue();

    // When partition 2's barrier passes the marker
    f.barrier(2, 3);

    // Then exactly one datum per member, for the commit's job, with the datum hash of its object
    Map<String, Datum> byMember = byKey(datums.readKeyValuesToList());
    assertThat(byMember).containsOnlyKeys("A", "B", "C", "D");
    Datum a = byMember.get("A");
    assertThat(a.getPipeline()).isEqualTo(PIPELINE);
    assertThat(a.getJobId()).isEqualTo("job-" + c1.getId());
    assertThat(a.getCommitId()).isEqualTo(c1.getId());
    assertThat(a.getGlobalId()).isEqualTo(c1.getGlobalId());
    assertThat(a.getSpecHash()).isEqualTo(SPEC_HASH);
    assertThat(a.getDatumHash())
        .isEqualTo(Hashing.datumHash(SPEC_HASH, a.getMemberObject().getHash()));
    assertThat(claims(a.getMemberObject())).containsExactly("a1", "a2");
    assertThat(a.getMemberObject().getCommitId()).isEqualTo(c1.getId());
    assertThat(a.getMemberObject().getSequence()).isEqualTo(1);
    assertThat(byKey(f.members(REPO).readKeyValuesToList())).containsOnlyKeys("A", "B", "C", "D");
  }

  @Test
  void shouldWriteNothingToTheProgressChangelogWhileARepoIsIdle() {
    TopologyFixture f = fixture();
    TestOutputTopic<byte[], byte[]> progress =
        f.driver.createOutputTopic(
            "partition-topology-test-" + PartitionStores.PROGRESS + "-changelog",
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer());
    // Given a commit applied, its job done, and the progress it wrote read
    f.row(claim(0, 0, "A", "a1", "10"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {1, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    f.succeed(f.datums().readValuesToList());
    for (int i = 0; i < 10; i++) {
      f.tick();
    }
    assertThat(progress.readValuesToList()).as("the commit's progress").isNotEmpty();

    // When the punctuation runs a hundred more times with nothing to do
    for (int i = 0; i < 100; i++) {
      f.tick();
    }

    // Then it wrote no progress (it once rewrote the same value on every punctuation)
    assertThat(progress.isEmpty()).isTrue();
  }

  @Test
  void shouldKeepRowsOfALaterCommitOutWhenTheyArriveBeforeTheEarlierCommitCompletes() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, Datum> datums = f.datums();
    // Given a row of commit 1, a row of commit 2 that arrives before commit 1 completes, and a row
    // of member B in commit 1
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "A", "a2", "20"));
    f.row(claim(1, 0, "B", "b1", "30"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {1, 1, 0});

    // When commit 1 is sealed and the rekeyer's barriers are past both of A's rows
    f.seal(c1);
    f.barrier(0, 2);
    f.barrier(1, 1);
    f.barrier(2, 0);

    // Then commit 1 holds only the first of A's rows
    Map<String, Datum> first = byKey(datums.readKeyValuesToList());
    assertThat(first).containsOnlyKeys("A", "B");
    assertThat(claims(first.get("A").getMemberObject())).containsExactly("a1");
    f.succeed(List.copyOf(first.values()));

    // When commit 2 is sealed (its barriers are already in)
    Commit c2 = commit(2, new long[] {1, 1, 0}, new long[] {2, 1, 0});
    f.seal(c2);

    // Then only A changed, now with both rows
    Map<String, Datum> second = byKey(datums.readKeyValuesToList());
    assertThat(second).containsOnlyKeys("A");
    assertThat(second.get("A").getCommitId()).isEqualTo(c2.getId());
    assertThat(claims(second.get("A").getMemberObject())).containsExactly("a1", "a2");
  }

  @Test
  void shouldEmitOnlyMembersWhoseContentChangedWhenAnIdenticalRowIsResent() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, Datum> datums = f.datums();
    TestOutputTopic<String, CommitPart> parts = f.commitParts();
    // Given commit 1 with a claim of A and a claim of B
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {2, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    Map<String, Datum> first = byKey(datums.readKeyValuesToList());
    assertThat(first).containsOnlyKeys("A", "B");
    f.succeed(List.copyOf(first.values()));

    // When commit 2 re-sends A's claim unchanged and adds a new claim of B
    f.row(claim(0, 2, "A", "a1", "10"));
    f.row(claim(0, 3, "B", "b2", "5"));
    Commit c2 = commit(2, new long[] {2, 0, 0}, new long[] {4, 0, 0});
    f.seal(c2);
    f.barriersAtEnd(c2);

    // Then only B is emitted, and the part counts one changed member of two
    Map<String, Datum> second = byKey(datums.readKeyValuesToList());
    assertThat(second).containsOnlyKeys("B");
    assertThat(claims(second.get("B").getMemberObject())).containsExactly("b1", "b2");
    List<CommitPart> emitted = parts.readValuesToList();
    CommitPart last = emitted.get(emitted.size() - 1);
    assertThat(last.getCommit().getId()).isEqualTo(c2.getId());
    assertThat(last.getRows()).isEqualTo(2);
    assertThat(last.getChangedMembers()).isEqualTo(1);
    assertThat(last.getMembers()).isEqualTo(2);
  }

  @Test
  void shouldReplaceTheRowWithTheSameRowKeyWhenACorrectionArrives() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, MemberObject> members = f.members(REPO);
    // Given commit 1 with claim a1 of A for 10
    f.row(claim(0, 0, "A", "a1", "10"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {1, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    String firstHash = members.readValue().getHash();

    // When commit 2 corrects claim a1 to 15
    f.row(claim(1, 0, "A", "a1", "15"));
    Commit c2 = commit(2, new long[] {1, 0, 0}, new long[] {1, 1, 0});
    f.seal(c2);
    f.barriersAtEnd(c2);

    // Then A has one row, the corrected one, and a new hash
    MemberObject corrected = members.readValue();
    assertThat(corrected.getRows()).hasSize(1);
    assertThat(corrected.getRows().get(0).getValues()).containsExactly("A", "a1", "15");
    assertThat(corrected.getHash()).isNotEqualTo(firstHash);

    // When commit 3 sends the same correction again (from another partition)
    f.row(claim(2, 0, "A", "a1", "15"));
    Commit c3 = commit(3, new long[] {1, 1, 0}, new long[] {1, 1, 1});
    f.seal(c3);
    f.barriersAtEnd(c3);

    // Then A did not change: nothing is emitted and the part counts no change
    assertThat(members.isEmpty()).isTrue();
    assertThat(f.datums().readKeyValuesToList())
        .extracting(kv -> kv.value.getCommitId())
        .doesNotContain(c3.getId());
    CommitPart part = lastPart(f.commitParts());
    assertThat(part.getCommit().getId()).isEqualTo(c3.getId());
    assertThat(part.getRows()).isEqualTo(1);
    assertThat(part.getChangedMembers()).isZero();
  }

  @Test
  void shouldHashAMemberEquallyWhenItsRowsArriveInAnotherOrderAndPartition() {
    TopologyFixture f = fixture();
    f.specs.put("left", TopologyFixture.spec("left"));
    f.specs.put("right", TopologyFixture.spec("right"));
    // Given the same content for member A in two repos, in opposite orders and partitions
    f.row("left", event(0, 0, "A", "E1"));
    f.row("left", event(1, 0, "A", "E2"));
    f.row("left", claim(2, 0, "A", "a1", "10"));
    f.row("right", claim(0, 0, "A", "a1", "10"));
    f.row("right", event(0, 1, "A", "E2"));
    f.row("right", event(2, 0, "A", "E1"));
    Commit left = commit("left", 1, new long[] {0, 0, 0}, new long[] {1, 1, 1});
    Commit right = commit("right", 1, new long[] {0, 0, 0}, new long[] {2, 0, 1});

    // When both commits complete
    f.seal("left", left, 1);
    f.barriersAtEnd(left);
    f.seal("right", right, 1);
    f.barriersAtEnd(right);

    // Then A's objects have the same hash and the same rows in the same canonical order
    MemberObject l = f.members("left").readValue();
    MemberObject r = f.members("right").readValue();
    assertThat(l.getHash()).isEqualTo(r.getHash());
    assertThat(l.getRows())
        .extracting(Row::getValues)
        .isEqualTo(r.getRows().stream().map(Row::getValues).toList());
    assertThat(l.getRows())
        .extracting(Row::getSourcePartition)
        .isNotEqualTo(r.getRows().stream().map(Row::getSourcePartition).toList());
  }

  @Test
  void shouldCountRejectNoticesOnTheirCommitsWhenTheyArriveBeforeTheSeals() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, CommitPart> parts = f.commitParts();
    // Given a reject in commit 1's range and two in commit 2's, all arriving before either seal
    f.row(claim(0, 0, "A", "a1", "10"));
    f.reject(0, 1);
    f.reject(1, 5);
    f.reject(0, 3);
    f.row(claim(0, 2, "A", "a2", "10"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {2, 1, 0});
    Commit c2 = commit(2, new long[] {2, 1, 0}, new long[] {4, 6, 0});

    // When both commits are sealed and all barriers are in
    f.seal(c1);
    f.seal(c2);
    f.barriersAtEnd(c2);

    // Then commit 1 counts one reject and commit 2 two
    List<CommitPart> emitted = parts.readValuesToList();
    assertThat(emitted)
        .extracting(p -> p.getCommit().getId())
        .containsExactly(c1.getId(), c2.getId());
    assertThat(emitted).extracting(CommitPart::getRejected).containsExactly(1L, 2L);
    assertThat(emitted).extracting(CommitPart::getRows).containsExactly(1L, 1L);
  }

  @Test
  void shouldDropRowsAndRejectsOfACompletedCommitWhenTheSourceIsReadAgain() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, CommitPart> parts = f.commitParts();
    TestOutputTopic<String, MemberObject> members = f.members(REPO);
    // Given commit 1: an event row of A (no row key: rows append) and a reject, completed
    f.row(event(0, 0, "A", "E1"));
    f.reject(0, 1);
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {2, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);

    // When the rekeyer reads the source again from the start (an offset reset) and commit 2 adds
    // one event
    f.row(event(0, 0, "A", "E1"));
    f.reject(0, 1);
    f.row(event(0, 2, "A", "E2"));
    Commit c2 = commit(2, new long[] {2, 0, 0}, new long[] {3, 0, 0});
    f.seal(c2);
    f.barriersAtEnd(c2);

    // Then commit 2 holds only its own row: A has E1 once and E2, and no reject is counted twice
    List<CommitPart> emitted = parts.readValuesToList();
    assertThat(emitted).extracting(CommitPart::getRows).containsExactly(1L, 1L);
    assertThat(emitted).extracting(CommitPart::getRejected).containsExactly(1L, 0L);
    List<MemberObject> versions = members.readValuesToList();
    assertThat(versions.get(versions.size() - 1).getRows())
        .extracting(row -> row.getValues().get(1))
        .containsExactly("E1", "E2");
  }

  @Test
  void shouldEmitACommitPartWithThisPartitionsCountsWhenACommitCompletes() {
    TopologyFixture f = fixture();
    // Given commit 1 with three rows of two members and a reject, sealed for 3 member partitions
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "A", "a2", "10"));
    f.row(claim(1, 0, "B", "b1", "10"));
    f.reject(2, 0);
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {2, 1, 1});

    // When it completes (the other member partitions' row-owner markers are in too)
    f.seal(REPO, c1, 3);
    f.barriersAtEnd(c1);
    f.otherClaimsDone(REPO, 1, 3);
    f.otherReleasesDone(REPO, 1, 3);

    // Then this task's part carries the commit and its counts
    CommitPart part = lastPart(f.commitParts());
    assertThat(part.getCommit()).isEqualTo(c1);
    assertThat(part.getMemberPartition()).isZero();
    assertThat(part.getMemberPartitions()).isEqualTo(3);
    assertThat(part.getRows()).isEqualTo(3);
    assertThat(part.getRejected()).isEqualTo(1);
    assertThat(part.getMembers()).isEqualTo(2);
    assertThat(part.getChangedMembers()).isEqualTo(2);
  }

  @Test
  void shouldCompleteACommitInSlicesWhenItExceedsTheSliceBounds() {
    fixture = new TopologyFixture(new CompletionSettings(3, 2, Duration.ofMillis(100)));
    TopologyFixture f = fixture;
    TestOutputTopic<String, Datum> datums = f.datums();
    // Given commit 1 with five members of two rows each, and a reject
    for (int m = 0; m < 5; m++) {
      f.row(claim(0, 2 * m, "M" + m, "c" + m, "1"));
      f.row(event(0, 2 * m + 1, "M" + m, "E" + m));
    }
    f.reject(0, 10);
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {11, 0, 0});
    f.seal(c1);

    // When its one non-empty partition's barrier arrives, one slice is applied: two members, as
    // the third row visited ends the slice at the next member boundary
    TestOutputTopic<String, MemberObject> members = f.members(REPO);
    f.barrier(0, 11);
    assertThat(members.readKeyValuesToList()).hasSize(2);
    assertThat(f.commitParts().isEmpty()).isTrue();
    assertThat(datums.isEmpty()).isTrue();

    // Then the punctuation applies the rest, the part counts all of it once, and the job emits
    // every member's datum in slices too
    for (int i = 0; i < 10; i++) {
      f.tick();
    }
    assertThat(members.readKeyValuesToList()).hasSize(3);
    assertThat(byKey(datums.readKeyValuesToList())).hasSize(5);
    CommitPart part = lastPart(f.commitParts());
    assertThat(part.getRows()).isEqualTo(10);
    assertThat(part.getRejected()).isEqualTo(1);
    assertThat(part.getChangedMembers()).isEqualTo(5);
    assertThat(part.getMembers()).isEqualTo(5);
  }

  @Test
  void shouldKeepACommitPendingWhenItsRepoSpecIsUnknown() {
    TopologyFixture f = fixture();
    f.specs.remove(REPO);
    TestOutputTopic<String, Datum> datums = f.datums();
    // Given a ready commit of a repo whose spec is not known yet
    f.row(claim(0, 0, "A", "a1", "10"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {1, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    f.tick();
    assertThat(datums.isEmpty()).isTrue();

    // When the spec becomes known
    f.specs.put(REPO, TopologyFixture.spec(REPO));
    f.tick();

    // Then the commit completes with its row
    assertThat(byKey(datums.readKeyValuesToList())).containsOnlyKeys("A");
  }

  @Test
  void shouldIgnoreTheSealOfACompletedCommitWhenItArrivesAgain() {
    TopologyFixture f = fixture();
    TestOutputTopic<String, CommitPart> parts = f.commitParts();
    // Given a completed commit 1
    f.row(claim(0, 0, "A", "a1", "10"));
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {1, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    assertThat(parts.readValuesToList()).hasSize(1);

    // When its seal arrives again
    f.seal(c1);
    f.tick();

    // Then nothing more is emitted
    assertThat(parts.isEmpty()).isTrue();
    assertThat(f.datums().readKeyValuesToList()).hasSize(1);
  }

  private static <V> Map<String, V> byKey(List<KeyValue<String, V>> records) {
    assertThat(records).extracting(kv -> kv.key).doesNotHaveDuplicates();
    return records.stream().collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
  }

  private static List<String> claims(MemberObject object) {
    return object.getRows().stream()
        .filter(r -> r.getTable().equals("claims"))
        .map(r -> r.getValues().get(1))
        .toList();
  }

  private static CommitPart lastPart(TestOutputTopic<String, CommitPart> parts) {
    List<CommitPart> all = parts.readValuesToList();
    assertThat(all).isNotEmpty();
    return all.get(all.size() - 1);
  }
}
