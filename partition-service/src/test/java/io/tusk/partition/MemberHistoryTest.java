package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.SPEC_HASH;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import io.tusk.common.member.Hashing;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.TableSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Member versions, retention, as-of lookups, diffs, deletes and removal datums. */
class MemberHistoryTest {
  private TopologyFixture f;
  private MemberQueries queries;

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    // The claims table gets an op column: a row whose OP is D deletes its claim.
    f.specs.put(REPO, withOps(TopologyFixture.spec(REPO), 52));
    queries =
        new MemberQueries(
            name -> Optional.ofNullable(f.specs.get(name)),
            new MemberQueries.Stores() {
              @Override
              public <K, V> ReadOnlyKeyValueStore<K, V> store(String name, int partition) {
                assertThat(partition).isZero();
                return f.driver.getKeyValueStore(name);
              }
            });
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  private static RepoSpec withOps(RepoSpec spec, int retention) {
    TableSpec claims =
        TableSpec.newBuilder(spec.getTables().get(0))
            .setColumns(List.of("PERSON_ID", "CLAIM_ID", "AMOUNT", "OP"))
            .setOpColumn("OP")
            .build();
    return RepoSpec.newBuilder(spec)
        .setTables(List.of(claims, spec.getTables().get(1)))
        .setHistoryRetention(retention)
        .build();
  }

  private static Row op(int partition, long offset, String person, String claim, String op) {
    return new Row("claims", Arrays.asList(person, claim, "", op), partition, offset);
  }

  /**
   * Seals commit {@code sequence} over partition 0 offsets [start, end), optionally without jobs.
   */
  private Commit seal(long sequence, long start, long end, boolean jobs) {
    Commit commit = commit(sequence, new long[] {start, 0, 0}, new long[] {end, 0, 0});
    if (!jobs) {
      commit = Commit.newBuilder(commit).setJobs(List.of()).build();
    }
    f.seal(commit);
    f.barriersAtEnd(commit);
    return commit;
  }

  @Test
  void shouldAnswerTheVersionAsOfACommitWhenAMemberChangedLater() {
    // Given A with claim a1 in commit 1, a1 corrected and a2 added in commit 2, B alone in 3
    f.row(claim(0, 0, "A", "a1", "10"));
    Commit c1 = seal(1, 0, 1, false);
    f.row(claim(0, 1, "A", "a1", "15"));
    f.row(claim(0, 2, "A", "a2", "5"));
    Commit c2 = seal(2, 1, 3, false);
    f.row(claim(0, 3, "B", "b1", "1"));
    Commit c3 = seal(3, 3, 4, false);

    // Then A as of commit 1 is its first version, with column names and source positions
    JsonObject first = queries.member(REPO, "A", c1.getId());
    assertThat(first.getString("commitId")).isEqualTo(c1.getId());
    assertThat(first.getLong("sequence")).isEqualTo(1);
    JsonArray rows = first.getJsonArray("rows");
    assertThat(rows).hasSize(1);
    JsonObject row = rows.getJsonObject(0);
    assertThat(row.getString("table")).isEqualTo("claims");
    assertThat(row.getJsonObject("values").getString("AMOUNT")).isEqualTo("10");
    assertThat(row.getInteger("partition")).isZero();
    assertThat(row.getLong("offset")).isZero();

    // And as of commits 2 and 3 (and latest) its second version, made in commit 2
    for (String at : Arrays.asList(c2.getId(), c3.getId(), null)) {
      JsonObject second = queries.member(REPO, "A", at);
      assertThat(second.getString("commitId")).isEqualTo(c2.getId());
      assertThat(second.getJsonArray("rows")).hasSize(2);
    }

    // And B did not exist as of commit 2; unknown members and commits are 404
    assertThatThrownBy(() -> queries.member(REPO, "B", c2.getId())).satisfies(e -> status(e, 404));
    assertThatThrownBy(() -> queries.member(REPO, "Z", null)).satisfies(e -> status(e, 404));
    assertThatThrownBy(() -> queries.member(REPO, "A", "nope")).satisfies(e -> status(e, 404));
    assertThatThrownBy(() -> queries.member("other", "A", null)).satisfies(e -> status(e, 404));
  }

  @Test
  void shouldPruneVersionsOlderThanTheRetentionAndAnswerGoneForThem() {
    // Given a retention of 2 commits and A changed in each of commits 1 to 4
    f.specs.put(REPO, withOps(TopologyFixture.spec(REPO), 2));
    Commit[] commits = new Commit[5];
    for (int n = 1; n <= 4; n++) {
      f.row(claim(0, n - 1, "A", "a1", Integer.toString(n)));
      commits[n] = seal(n, n - 1, n, false);
    }

    // Then only the versions as of commits 3 and 4 are kept
    assertThat(versionsOf("A")).containsExactly(3L, 4L);
    assertThat(queries.member(REPO, "A", commits[3].getId()).getLong("sequence")).isEqualTo(3);
    assertThatThrownBy(() -> queries.member(REPO, "A", commits[2].getId()))
        .satisfies(e -> status(e, 410));
    assertThatThrownBy(() -> queries.diff(REPO, commits[1].getId(), commits[4].getId(), 10, null))
        .satisfies(e -> status(e, 410));

    // And a member that never changed again keeps its only version
    assertThat(
            queries.diff(REPO, commits[3].getId(), commits[4].getId(), 10, null).getLong("changed"))
        .isEqualTo(1);
  }

  @Test
  void shouldAnswerEveryKeptVersionOfAMemberChangedInManyCommitsWhateverIsStoredAsDeltas() {
    // Given member M changed in 60 commits at random (new claims, corrections, deletes; each claim
    // touched at most once a commit), with a retention of 40 commits, and an independent model of
    // its claims after each commit (seed printed)
    long seed = 61_206L;
    System.out.println("MemberHistoryTest deltas seed " + seed);
    java.util.Random random = new java.util.Random(seed);
    f.specs.put(REPO, withOps(TopologyFixture.spec(REPO), 40));
    Map<String, String> model = new java.util.TreeMap<>();
    List<Map<String, String>> expected = new ArrayList<>();
    Commit[] commits = new Commit[61];
    expected.add(Map.of());
    long offset = 0;
    int nextClaim = 0;
    for (int n = 1; n <= 60; n++) {
      long start = offset;
      java.util.Set<String> touched = new java.util.HashSet<>();
      for (int change = 1 + random.nextInt(3); change > 0; change--) {
        List<String> untouched = model.keySet().stream().filter(c -> !touched.contains(c)).toList();
        int kind = untouched.isEmpty() ? 0 : random.nextInt(5);
        String amount = Integer.toString(random.nextInt(1000));
        if (kind < 2) {
          String id = "c" + nextClaim++;
          f.row(claim(0, offset++, "M", id, amount));
          model.put(id, amount);
          touched.add(id);
        } else {
          String id = untouched.get(random.nextInt(untouched.size()));
          touched.add(id);
          if (kind < 4) {
            f.row(claim(0, offset++, "M", id, amount));
            model.put(id, amount);
          } else {
            f.row(op(0, offset++, "M", id, "D"));
            model.remove(id);
          }
        }
      }
      commits[n] = seal(n, start, offset, false);
      expected.add(new java.util.TreeMap<>(model));
    }

    // Then as of every commit within the retention M has exactly the model's claims (404 when it
    // had none), and older commits are gone
    for (int n = 21; n <= 60; n++) {
      String at = commits[n].getId();
      if (expected.get(n).isEmpty()) {
        assertThatThrownBy(() -> queries.member(REPO, "M", at)).satisfies(e -> status(e, 404));
        continue;
      }
      Map<String, String> claims = new java.util.TreeMap<>();
      queries
          .member(REPO, "M", at)
          .getJsonArray("rows")
          .forEach(
              row -> {
                JsonObject values = ((JsonObject) row).getJsonObject("values");
                claims.put(values.getString("CLAIM_ID"), values.getString("AMOUNT"));
              });
      assertThat(claims).as("M as of commit %d", n).isEqualTo(expected.get(n));
    }
    assertThatThrownBy(() -> queries.member(REPO, "M", commits[20].getId()))
        .satisfies(e -> status(e, 410));

    // And most of its versions are stored as deltas, none more than 16 from a whole version, and
    // the oldest kept one whole
    KeyValueStore<Bytes, VersionDelta> deltas =
        f.driver.getKeyValueStore(PartitionStores.MEMBER_DELTAS);
    List<Integer> depths = new ArrayList<>();
    try (KeyValueIterator<Bytes, VersionDelta> all = deltas.all()) {
      all.forEachRemaining(kv -> depths.add(kv.value.depth()));
    }
    List<Long> kept = versionsOf("M");
    assertThat(depths.size()).isGreaterThan(kept.size() / 2);
    assertThat(depths).allSatisfy(d -> assertThat(d).isBetween(1, MemberVersions.MAX_DEPTH));
    assertThat(MemberVersions.delta(f.versions().asOf(REPO, "M", kept.get(0)))).isFalse();
  }

  @Test
  void shouldKeepTheVersionsAQueuedJobNeedsWhenTheyPassTheRetention() {
    // Given a retention of 1 and commit 1 whose job has not ended
    f.specs.put(REPO, withOps(TopologyFixture.spec(REPO), 1));
    f.row(claim(0, 0, "A", "a1", "1"));
    Commit c1 = seal(1, 0, 1, true);

    // When commits 2 and 3 change A
    f.row(claim(0, 1, "A", "a1", "2"));
    seal(2, 1, 2, false);
    f.row(claim(0, 2, "A", "a1", "3"));
    seal(3, 2, 3, false);

    // Then commit 1's version stays while its job runs, and goes once the job ended
    assertThat(versionsOf("A")).containsExactly(1L, 2L, 3L);
    f.succeed(f.datums().readValuesToList());
    f.tick();
    assertThat(versionsOf("A")).containsExactly(3L);
    assertThatThrownBy(() -> queries.member(REPO, "A", c1.getId())).satisfies(e -> status(e, 410));
  }

  @Test
  void shouldClassifyMembersAsAddedChangedAndRemovedWhenDiffingTwoCommits() {
    // Given commit 1 with A, B and C
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    f.row(claim(0, 2, "C", "c1", "30"));
    Commit c1 = seal(1, 0, 3, false);

    // When commit 2 corrects a1 and adds a2, deletes B's only claim, re-sends C's and adds D
    f.row(claim(0, 3, "A", "a1", "11"));
    f.row(claim(0, 4, "A", "a2", "1"));
    f.row(op(0, 5, "B", "b1", "D"));
    f.row(claim(0, 6, "C", "c1", "30"));
    f.row(claim(0, 7, "D", "d1", "40"));
    Commit c2 = seal(2, 3, 8, false);

    // Then the diff lists A changed, B removed and D added, in member order
    JsonObject diff = queries.diff(REPO, c1.getId(), c2.getId(), 1000, null);
    assertThat(diff.getLong("added")).isEqualTo(1);
    assertThat(diff.getLong("changed")).isEqualTo(1);
    assertThat(diff.getLong("removed")).isEqualTo(1);
    assertThat(changes(diff)).containsExactly("A=changed", "B=removed", "D=added");
    assertThat(diff.getString("next")).isNull();

    // And pages of two continue after the last member listed; the counts come with the first page
    JsonObject page1 = queries.diff(REPO, c1.getId(), c2.getId(), 2, null);
    assertThat(changes(page1)).containsExactly("A=changed", "B=removed");
    assertThat(page1.getString("next")).isEqualTo("B");
    assertThat(page1.getLong("added")).isEqualTo(1);
    JsonObject page2 = queries.diff(REPO, c1.getId(), c2.getId(), 2, "B");
    assertThat(changes(page2)).containsExactly("D=added");
    assertThat(page2.getString("next")).isNull();
    assertThat(page2.getValue("added")).isNull();
    JsonObject single = queries.diff(REPO, c1.getId(), c2.getId(), 1, "A");
    assertThat(changes(single)).containsExactly("B=removed");
    assertThat(single.getString("next")).isEqualTo("B");

    // And the reverse diff swaps added and removed
    assertThat(changes(queries.diff(REPO, c2.getId(), c1.getId(), 1000, null)))
        .containsExactly("A=changed", "B=added", "D=removed");

    // And A's own diff shows the replaced and the added row; B's the removed one
    JsonObject a = queries.memberDiff(REPO, "A", c1.getId(), c2.getId());
    assertThat(a.getString("change")).isEqualTo("changed");
    assertThat(a.getJsonArray("added")).hasSize(1);
    assertThat(
            a.getJsonArray("added").getJsonObject(0).getJsonObject("values").getString("CLAIM_ID"))
        .isEqualTo("a2");
    JsonObject replaced = a.getJsonArray("replaced").getJsonObject(0);
    assertThat(replaced.getJsonObject("before").getJsonObject("values").getString("AMOUNT"))
        .isEqualTo("10");
    assertThat(replaced.getJsonObject("after").getJsonObject("values").getString("AMOUNT"))
        .isEqualTo("11");
    assertThat(a.getJsonArray("removed")).isEmpty();
    JsonObject b = queries.memberDiff(REPO, "B", c1.getId(), c2.getId());
    assertThat(b.getString("change")).isEqualTo("removed");
    assertThat(b.getJsonArray("removed")).hasSize(1);
    assertThatThrownBy(() -> queries.diff(REPO, c1.getId(), c2.getId(), 0, null))
        .satisfies(e -> status(e, 400));
  }

  /**
   * Member keys of different lengths (numeric IDs, as claims data has) changed over two commits:
   * the diff lists every changed member once, in key order, and paging one member at a time visits
   * each of them. A merge or cursor in String order ("1228" before "194") skipped members here.
   */
  @Test
  void shouldListEveryChangedMemberOfKeysOfDifferentLengthsOnEveryPage() {
    List<String> members = List.of("9", "10", "100", "1110", "194", "1228", "20", "3", "4348");
    long offset = 0;
    for (String m : members) {
      f.row(claim(0, offset++, m, m + "-c1", "1"));
    }
    f.row(claim(0, offset++, "5", "5-c1", "1"));
    Commit c1 = seal(1, 0, offset, false);
    // Commit 2 changes the first half, commit 3 the second: two changed sets to merge
    long start2 = offset;
    for (String m : members.subList(0, 5)) {
      f.row(claim(0, offset++, m, m + "-c1", "2"));
    }
    seal(2, start2, offset, false);
    long start3 = offset;
    for (String m : members.subList(5, members.size())) {
      f.row(claim(0, offset++, m, m + "-c1", "3"));
    }
    Commit c3 = seal(3, start3, offset, false);

    List<String> expected = new ArrayList<>(members);
    expected.sort(StoreKeys.MEMBER_ORDER);
    assertThat(expected).startsWith("3", "9", "10", "20", "100", "194");
    JsonObject diff = queries.diff(REPO, c1.getId(), c3.getId(), 1000, null);
    assertThat(diff.getLong("changed")).isEqualTo(members.size());
    assertThat(changes(diff))
        .containsExactlyElementsOf(expected.stream().map(m -> m + "=changed").toList());
    List<String> paged = new ArrayList<>();
    String after = null;
    do {
      JsonObject page = queries.diff(REPO, c1.getId(), c3.getId(), 1, after);
      changes(page).forEach(paged::add);
      after = page.getString("next");
    } while (after != null);
    assertThat(paged).containsExactlyElementsOf(changes(diff));
  }

  @Test
  void shouldLeaveAMemberOutOfTheDiffWhenItChangedAndChangedBack() {
    // Given A changed in commit 2 and back to its commit-1 content in commit 3
    f.row(claim(0, 0, "A", "a1", "10"));
    Commit c1 = seal(1, 0, 1, false);
    f.row(claim(0, 1, "A", "a1", "99"));
    seal(2, 1, 2, false);
    f.row(claim(0, 2, "A", "a1", "10"));
    Commit c3 = seal(3, 2, 3, false);

    // Then the diff of commits 1 and 3 is empty
    JsonObject diff = queries.diff(REPO, c1.getId(), c3.getId(), 1000, null);
    assertThat(diff.getJsonArray("members")).isEmpty();
    assertThat(diff.getLong("changed")).isZero();
  }

  @Test
  void shouldEmitARemovalDatumWhenAProcessedMembersRowsAreAllDeleted() {
    // Given commit 1 with A and B whose datums succeeded, and C whose datum failed
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    f.row(claim(0, 2, "C", "c1", "30"));
    seal(1, 0, 3, true);
    Map<String, Datum> first = byMember(f.datums().readValuesToList());
    f.succeed(List.of(first.get("A"), first.get("B")));
    f.done(first.get("C"), io.tusk.schemas.DatumState.FAILED);
    var members = f.members(REPO);
    members.readKeyValuesToList();

    // When commit 2 deletes B's and C's only claims
    f.row(op(0, 3, "B", "b1", "d"));
    f.row(op(0, 4, "C", "c1", "delete"));
    Commit c2 = seal(2, 3, 5, true);

    // Then B gets a removal datum (no rows, empty hash); C, never processed, gets none
    Map<String, Datum> second = byMember(f.datums().readValuesToList());
    assertThat(second).containsOnlyKeys("B");
    Datum removal = second.get("B");
    assertThat(removal.getMemberObject().getRows()).isEmpty();
    assertThat(removal.getMemberObject().getHash()).isEmpty();
    assertThat(removal.getDatumHash()).isEqualTo(Hashing.datumHash(SPEC_HASH, ""));
    assertThat(removal.getCommitId()).isEqualTo(c2.getId());

    // And the members topic gets tombstones; the job counts A plus the removal datum
    List<KeyValue<String, MemberObject>> written = members.readKeyValuesToList();
    assertThat(written).extracting(kv -> kv.key).containsExactlyInAnyOrder("B", "C");
    assertThat(written).allSatisfy(kv -> assertThat(kv.value).isNull());
    List<JobPart> parts = f.jobParts().readValuesToList();
    JobPart part = parts.get(parts.size() - 1);
    assertThat(part.getTotal()).isEqualTo(2);
    assertThat(part.getToProcess()).isEqualTo(1);
  }

  private List<Long> versionsOf(String member) {
    KeyValueStore<Bytes, MemberObject> store =
        f.driver.getKeyValueStore(PartitionStores.MEMBER_VERSIONS);
    Bytes prefix = StoreKeys.member(REPO, member);
    try (KeyValueIterator<Bytes, MemberObject> all =
        store.range(prefix, StoreKeys.upperBound(prefix))) {
      List<Long> sequences = new java.util.ArrayList<>();
      all.forEachRemaining(kv -> sequences.add(kv.value.getSequence()));
      return sequences;
    }
  }

  private static List<String> changes(JsonObject diff) {
    return diff.getJsonArray("members").stream()
        .map(JsonObject.class::cast)
        .map(m -> m.getString("member") + "=" + m.getString("change"))
        .toList();
  }

  private static Map<String, Datum> byMember(List<Datum> datums) {
    return datums.stream().collect(Collectors.toMap(d -> d.getMemberObject().getMember(), d -> d));
  }

  private static void status(Throwable e, int status) {
    assertThat(e).isInstanceOf(ApiException.class);
    assertThat(((ApiException) e).status()).isEqualTo(status);
  }
}
