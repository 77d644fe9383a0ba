package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.pipeline.LayoutChanges;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A layout change on the member side: a commit sealed under a newer layout waits for the spec; its
 * rows and the stored ones are read with its layout; a member whose rows did not change gets no
 * version, even when the commit touched it; members as of older commits keep the older columns.
 */
class LayoutChangeTest {
  private TopologyFixture f;
  private MemberQueries queries;

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    queries =
        new MemberQueries(
            name -> Optional.ofNullable(f.specs.get(name)),
            new MemberQueries.Stores() {
              @Override
              public <K, V> ReadOnlyKeyValueStore<K, V> store(String name, int partition) {
                return f.driver.getKeyValueStore(name);
              }
            });
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  @Test
  void shouldApplyACommitWithItsLayoutOnceTheSpecHasIt() {
    // Given A and B with one claim each in commit 1 (processed)
    f.row(claim(0, 0, "A", "a1", "10"));
    f.row(claim(0, 1, "B", "b1", "20"));
    Commit c1 = seal(1, 0, 2, 1);
    f.succeed(f.datums().readValuesToList());

    // When claims gains PLAN (default basic) from commit 2, which A adds a claim with a plan to
    // and B gets a correction and its revert in, sealed before this service has the new spec
    RepoSpec v2 =
        LayoutChanges.update(
            f.specs.get(REPO),
            Map.of(
                "tables",
                List.of(
                    Map.of(
                        "name", "claims",
                        "columns", List.of("PERSON_ID", "CLAIM_ID", "AMOUNT", "PLAN"),
                        "memberKey", "PERSON_ID",
                        "rowKey", List.of("CLAIM_ID"),
                        "defaults", Map.of("PLAN", "basic")),
                    Map.of(
                        "name",
                        "events",
                        "columns",
                        List.of("PERSON_ID", "CODE"),
                        "memberKey",
                        "PERSON_ID"))),
            2,
            0);
    f.row(new Row("claims", Arrays.asList("A", "a2", "5", "gold"), 0, 2L));
    f.row(claim(0, 3, "B", "b1", "99"));
    f.row(claim(0, 4, "B", "b1", "20"));
    Commit c2 = seal(2, 2, 5, 2);
    f.tick();

    // Then the commit waits for the layout
    assertThat(versionsOf("A")).containsExactly(1L);
    assertThat(f.datums().readValuesToList()).isEmpty();

    // When the spec arrives
    f.specs.put(REPO, v2);
    f.tick();

    // Then A's new version holds both claims in the new layout, the older one with the default
    assertThat(versionsOf("A")).containsExactly(1L, 2L);
    assertThat(rowsOf("A", 2)).containsExactly("A,a1,10,basic", "A,a2,5,gold");
    // And B, whose rows are as before, gets no version and no datum
    assertThat(versionsOf("B")).containsExactly(1L);
    List<Datum> datums = f.datums().readValuesToList();
    assertThat(datums).extracting(d -> d.getMemberObject().getMember()).containsExactly("A");
    assertThat(datums.get(0).getLayoutVersion()).isEqualTo(2);
    // And members read with the layout of the commit asked about
    assertThat(
            queries
                .member(REPO, "A", c1.getId())
                .getJsonArray("rows")
                .getJsonObject(0)
                .getJsonObject("values")
                .fieldNames())
        .containsExactlyInAnyOrder("PERSON_ID", "CLAIM_ID", "AMOUNT");
    JsonObject b = queries.member(REPO, "B", c2.getId()).getJsonArray("rows").getJsonObject(0);
    assertThat(b.getJsonObject("values").getString("PLAN")).isEqualTo("basic");
    // And the diff names A only
    JsonObject diff = queries.diff(REPO, c1.getId(), c2.getId(), 100, null);
    assertThat(diff.getJsonArray("members")).hasSize(1);
    assertThat(diff.getJsonArray("members").getJsonObject(0).getString("member")).isEqualTo("A");
  }

  private Commit seal(long sequence, long start, long end, int layoutVersion) {
    Commit commit =
        Commit.newBuilder(commit(sequence, new long[] {start, 0, 0}, new long[] {end, 0, 0}))
            .setLayoutVersion(layoutVersion)
            .build();
    f.seal(commit);
    f.barriersAtEnd(commit);
    return commit;
  }

  private List<Long> versionsOf(String member) {
    KeyValueStore<Bytes, MemberObject> store =
        f.driver.getKeyValueStore(PartitionStores.MEMBER_VERSIONS);
    Bytes prefix = StoreKeys.member(REPO, member);
    List<Long> sequences = new ArrayList<>();
    try (KeyValueIterator<Bytes, MemberObject> all =
        store.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(kv -> sequences.add(kv.value.getSequence()));
    }
    return sequences;
  }

  private List<String> rowsOf(String member, long sequence) {
    MemberVersions versions = f.versions();
    List<String> rows = new ArrayList<>();
    versions
        .rows(versions.asOf(REPO, member, sequence))
        .forEach(row -> rows.add(String.join(",", row.getValues())));
    return rows;
  }
}
