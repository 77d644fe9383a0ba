package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Commit;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowChunk;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A member larger than one Kafka record should be (issue 8 case 4: a chronically ill member has
 * thousands of rows; the IT BigMemberIT sends 20,000 through real Kafka): its versions are stored
 * in chunks, its datum goes in parts, and every reader gets all of its rows.
 */
class LargeMembersTest {
  /** 100 times a typical member (the GiBleed sample's members have about 60 rows), 600 KB. */
  private static final int ROWS = 6_000;

  private TopologyFixture f;
  private TestOutputTopic<String, Datum> datums;

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    datums = f.datums();
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  /** A claim row of member BIG of about 100 bytes. */
  private static Row bigRow(long offset, String amount) {
    return claim(0, offset, "BIG", String.format("claim-%06d", offset), amount + "x".repeat(80));
  }

  private Commit load() {
    for (int i = 0; i < ROWS; i++) {
      f.row(bigRow(i, "1"));
    }
    Commit c1 = commit(1, new long[] {0, 0, 0}, new long[] {ROWS, 0, 0});
    f.seal(c1);
    f.barriersAtEnd(c1);
    return c1;
  }

  /** Row 5 with a new amount, sent after the load. */
  private static Row correction() {
    Row correction = bigRow(5, "2");
    correction.setSourceOffset((long) ROWS);
    return correction;
  }

  /** Commit 2: the {@link #correction}. */
  private Commit correctOneRow() {
    f.row(correction());
    Commit c2 = commit(2, new long[] {ROWS, 0, 0}, new long[] {ROWS + 1, 0, 0});
    f.seal(c2);
    f.barriersAtEnd(c2);
    return c2;
  }

  private int chunks() {
    KeyValueStore<Bytes, RowChunk> store = f.driver.getKeyValueStore(PartitionStores.MEMBER_CHUNKS);
    int n = 0;
    try (KeyValueIterator<Bytes, RowChunk> all = store.all()) {
      while (all.hasNext()) {
        all.next();
        n++;
      }
    }
    return n;
  }

  @Test
  void shouldStoreAndSendAMemberInBoundedPiecesWhenItOutgrowsOneRecord() {
    // When a member of 6,000 rows (about 600 KB) is committed
    Commit c1 = load();

    // Then its version is a header over chunks, each bounded
    KeyValueStore<Bytes, MemberObject> versions =
        f.driver.getKeyValueStore(PartitionStores.MEMBER_VERSIONS);
    MemberObject header = versions.get(StoreKeys.version(REPO, "BIG", 1));
    assertThat(header.getRows()).isEmpty();
    assertThat(header.getRowCount()).isEqualTo(ROWS);
    assertThat(header.getParts()).isGreaterThan(1).isEqualTo(chunks());

    // And its datum comes in parts whose rows, in order, are the whole member
    List<Datum> parts = datums.readValuesToList();
    assertThat(parts).hasSizeGreaterThan(1);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      Datum part = parts.get(i);
      assertThat(part.getPart()).isEqualTo(i);
      assertThat(part.getParts()).isEqualTo(parts.size());
      assertThat(part.getDatumHash()).isEqualTo(parts.get(0).getDatumHash());
      assertThat(MemberVersions.estimatedRowBytes(part.getMemberObject().getRows()))
          .isLessThanOrEqualTo(MemberVersions.CHUNK_BYTES + 200);
      rows.addAll(part.getMemberObject().getRows());
    }
    assertThat(rows).hasSize(ROWS);
    assertThat(rows.get(0)).isEqualTo(bigRow(0, "1"));
    assertThat(rows.get(ROWS - 1)).isEqualTo(bigRow(ROWS - 1, "1"));

    // And the member API answers every row
    JsonObject member = queries().member(REPO, "BIG", c1.getId());
    assertThat(member.getJsonArray("rows")).hasSize(ROWS);
  }

  @Test
  void shouldStoreAChangeOfALargeMemberAsItsChangedRowsInlineOrInChunks() {
    // Given the large member in commit 1, its chunks
    Commit c1 = load();
    int firstChunks = chunks();
    KeyValueStore<Bytes, MemberObject> versions =
        f.driver.getKeyValueStore(PartitionStores.MEMBER_VERSIONS);

    // When commit 2 corrects one of its rows
    Commit c2 = correctOneRow();

    // Then version 2 is a delta holding that one row, and no chunk was written
    MemberObject second = versions.get(StoreKeys.version(REPO, "BIG", 2));
    assertThat(MemberVersions.delta(second)).isTrue();
    assertThat(second.getRows()).containsExactly(correction());
    assertThat(second.getRowCount()).isEqualTo(ROWS);
    assertThat(chunks()).isEqualTo(firstChunks);

    // When commit 3 adds 3,000 rows (about 300 KB, more than a chunk)
    int added = ROWS / 2;
    for (int i = 0; i < added; i++) {
      f.row(bigRow(ROWS + 1 + i, "3"));
    }
    Commit c3 = commit(3, new long[] {ROWS + 1, 0, 0}, new long[] {ROWS + 1 + added, 0, 0});
    f.seal(c3);
    f.barriersAtEnd(c3);

    // Then version 3 is a delta whose added rows are in chunks of their own
    MemberObject third = versions.get(StoreKeys.version(REPO, "BIG", 3));
    assertThat(MemberVersions.delta(third)).isTrue();
    assertThat(third.getRows()).isEmpty();
    assertThat(chunks()).isGreaterThan(firstChunks);

    // And each commit reads whole and right: the correction from commit 2, the new rows from 3
    List<JsonObject> asOf = new ArrayList<>();
    for (Commit c : List.of(c1, c2, c3)) {
      asOf.add(queries().member(REPO, "BIG", c.getId()));
    }
    assertThat(asOf)
        .extracting(m -> m.getJsonArray("rows").size())
        .containsExactly(ROWS, ROWS, ROWS + added);
    assertThat(amountOf(asOf.get(0), 5)).startsWith("1");
    assertThat(amountOf(asOf.get(1), 5)).startsWith("2");
    assertThat(amountOf(asOf.get(2), 5)).startsWith("2");
    assertThat(amountOf(asOf.get(2), ROWS + added - 1)).startsWith("3");
  }

  /** The amount of row {@code index} of a member API answer. */
  private static String amountOf(JsonObject member, int index) {
    return member
        .getJsonArray("rows")
        .getJsonObject(index)
        .getJsonObject("values")
        .getString("AMOUNT");
  }

  @Test
  void shouldStoreTheKeptVersionWholeAndDropTheOlderChunksWhenPruned() {
    // Given the large member in commit 1 (retention: 1 commit)
    f.specs.put(
        REPO,
        io.tusk.schemas.RepoSpec.newBuilder(f.specs.get(REPO)).setHistoryRetention(1).build());
    Commit c1 = load();
    f.succeed(datums.readValuesToList().subList(0, 1));
    int firstChunks = chunks();

    // When commit 2 corrects one of its rows
    Commit c2 = correctOneRow();
    List<Datum> parts = datums.readValuesToList();
    f.succeed(parts.subList(0, 1));
    f.driver.advanceWallClockTime(java.time.Duration.ofSeconds(1));

    // Then the new version has the correction and all rows, and commit 1's chunks are pruned
    // (retention 1), leaving one version's chunks
    JsonObject latest = queries().member(REPO, "BIG", c2.getId());
    assertThat(latest.getJsonArray("rows")).hasSize(ROWS);
    assertThat(chunks()).isEqualTo(firstChunks);
    assertThat(parts).hasSizeGreaterThan(1);
    assertThat(parts.get(0).getCommitId()).isEqualTo(c2.getId());
    assertThat(c1.getId()).isNotEqualTo(c2.getId());
  }

  private MemberQueries queries() {
    return new MemberQueries(
        name -> Optional.ofNullable(f.specs.get(name)),
        new MemberQueries.Stores() {
          @Override
          public <K, V> ReadOnlyKeyValueStore<K, V> store(String name, int partition) {
            return f.driver.getKeyValueStore(name);
          }
        });
  }
}
