package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Debezium snapshot ({@code r} events) followed by streaming changes gives the same member
 * objects as loading the table's final rows by hand as CSV: both repos go through the rekeyer's
 * routing ({@link RekeyRouter}, so {@code RowParser}) into the member topology.
 */
class DebeziumSnapshotTest {
  private static final String CDC = "cdc-claims";
  private static final String CSV = "csv-claims";

  private TopologyFixture f;
  private RekeyRouter router;
  private final Map<String, Long> offsets = new TreeMap<>();
  private final Map<String, TestInputTopic<byte[], byte[]>> byMember = new TreeMap<>();

  @BeforeEach
  void setUp() {
    f = new TopologyFixture();
    f.specs.put(CDC, spec(CDC, RowFormat.DEBEZIUM));
    f.specs.put(CSV, spec(CSV, RowFormat.CSV));
    router = new RekeyRouter(f.topics);
  }

  @AfterEach
  void tearDown() {
    f.close();
  }

  /** Tables person (key person_id) and drug_exposure (key drug_exposure_id), member PERSON_ID. */
  private static RepoSpec spec(String name, RowFormat format) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(format)
        .setDefaultTable("PERSON")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("PERSON")
                    .setColumns(List.of("PERSON_ID", "YEAR_OF_BIRTH"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("PERSON_ID"))
                    .setColumnTypes(Map.of("YEAR_OF_BIRTH", "int"))
                    .build(),
                TableSpec.newBuilder()
                    .setName("DRUG_EXPOSURE")
                    .setColumns(
                        List.of("DRUG_EXPOSURE_ID", "PERSON_ID", "DRUG_CONCEPT_ID", "START_DATE"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("DRUG_EXPOSURE_ID"))
                    .setColumnTypes(Map.of("START_DATE", "date"))
                    .build()))
        .setUpdatePartitions(1)
        .setMemberPartitions(1)
        .setCreatedAt(0)
        .build();
  }

  @Test
  void shouldGiveTheMemberObjectsOfTheFinalTableWhenASnapshotIsFollowedByChanges() {
    // Given a snapshot of four persons and their drug exposures, sealed as commit 1
    person("r", 1, 1950);
    person("r", 2, 1960);
    person("r", 3, 1970);
    person("r", 4, 1980);
    drug("r", null, new Drug(10, 1, 1124957, 17898));
    drug("r", null, new Drug(11, 1, 1125315, 17899));
    drug("r", null, new Drug(20, 2, 1124957, 17900));
    drug("r", null, new Drug(30, 3, 1127433, 17901));
    drug("r", null, new Drug(40, 4, 1127433, 17902));
    seal(CDC, 1);

    // When changes stream in and are sealed as commit 2: an insert, an update, a row moving to
    // another member, a primary-key change (d then c), deletes of a member's every row (before
    // holds only the key, as with REPLICA IDENTITY DEFAULT; each followed by its tombstone), and
    // a new member
    drug("c", null, new Drug(12, 1, 1118084, 17910));
    drug("u", null, new Drug(11, 1, 1125315, 17911));
    drug("u", null, new Drug(20, 3, 1124957, 17900));
    delete("drug_exposure", "drug_exposure_id", 30);
    drug("c", null, new Drug(31, 3, 1127433, 17901));
    delete("drug_exposure", "drug_exposure_id", 40);
    delete("person", "person_id", 4);
    person("c", 5, 1990);
    drug("c", null, new Drug(50, 5, 1118084, 17920));
    seal(CDC, 2);

    // And the final rows of both tables are loaded by hand as CSV in one commit
    csv("PERSON", "1,1950", "2,1960", "3,1970", "5,1990");
    csv(
        "DRUG_EXPOSURE",
        "10,1,1124957,2019-01-02",
        "11,1,1125315,2019-01-15",
        "12,1,1118084,2019-01-14",
        "20,3,1124957,2019-01-04",
        "31,3,1127433,2019-01-05",
        "50,5,1118084,2019-01-24");
    seal(CSV, 1);

    // Then every member has the same rows and the same hash in both repos; member 4 has none
    for (String member : List.of("1", "2", "3", "4", "5")) {
      MemberObject cdc = latest(CDC, member);
      MemberObject csv = latest(CSV, member);
      assertThat(values(cdc)).as("member " + member).isEqualTo(values(csv));
      assertThat(hash(cdc)).as("member " + member).isEqualTo(hash(csv));
    }
    assertThat(values(latest(CDC, "3")))
        .containsExactly(
            List.of("20", "3", "1124957", "2019-01-04"),
            List.of("31", "3", "1127433", "2019-01-05"),
            List.of("3", "1970"));
    assertThat(values(latest(CDC, "4"))).isEmpty();
    assertThat(values(latest(CDC, "2"))).containsExactly(List.of("2", "1960"));
  }

  /** One drug_exposure row as the connector sends it (dates as epoch days, connect mode). */
  private record Drug(long id, long personId, long conceptId, int startDay) {
    String json() {
      return """
          {"drug_exposure_id": %d, "person_id": %d, "drug_concept_id": %d, "start_date": %d}"""
          .formatted(id, personId, conceptId, startDay);
    }
  }

  private void person(String op, long id, int year) {
    String after = "{\"person_id\": %d, \"year_of_birth\": %d}".formatted(id, year);
    source(CDC, event(op, "person", null, after));
  }

  private void drug(String op, Drug before, Drug after) {
    source(CDC, event(op, "drug_exposure", before == null ? null : before.json(), after.json()));
  }

  /** A delete whose before holds only the primary key, and the tombstone after it. */
  private void delete(String table, String keyColumn, long key) {
    String before = "{\"%s\": %d}".formatted(keyColumn, key);
    source(CDC, event("d", table, before, null));
    source(CDC, null);
  }

  /** A change event as the JSON converter without schemas writes it. */
  private static String event(String op, String table, String before, String after) {
    return """
        {"before": %s, "after": %s, "op": "%s", "ts_ms": 1700000000000,
         "source": {"connector": "postgresql", "db": "claims", "schema": "public",
                    "table": "%s", "txId": 771, "lsn": 123456}}"""
        .formatted(before, after, op, table);
  }

  private void csv(String table, String... lines) {
    for (String line : lines) {
      ConsumerRecord<byte[], byte[]> record = record(CSV, line);
      record.headers().add("tusk.table", table.getBytes(StandardCharsets.UTF_8));
      route(CSV, record);
    }
  }

  private void source(String repo, String value) {
    route(repo, record(repo, value));
  }

  private ConsumerRecord<byte[], byte[]> record(String repo, String value) {
    long offset = offsets.merge(repo, 1L, Long::sum) - 1;
    return new ConsumerRecord<>(
        TopicNames.updates(repo),
        0,
        offset,
        null,
        value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  /** What the rekeyer would write to by-member, piped into the topology. */
  private void route(String repo, ConsumerRecord<byte[], byte[]> record) {
    RekeyRouter.Routing routing = router.route(record, repo, f.specs.get(repo));
    assertThat(routing.outcome()).isNotEqualTo(RekeyRouter.Outcome.REJECTED);
    for (ProducerRecord<byte[], byte[]> out : routing.records()) {
      byMember
          .computeIfAbsent(
              out.topic(),
              topic ->
                  f.driver.createInputTopic(
                      topic, new ByteArraySerializer(), new ByteArraySerializer()))
          .pipeInput(out.key(), out.value());
    }
  }

  private void seal(String repo, long sequence) {
    long end = offsets.getOrDefault(repo, 0L);
    long start = sequence == 1 ? 0 : sealedEnd.getOrDefault(repo, 0L);
    Commit commit =
        Commit.newBuilder(
                TopologyFixture.commit(repo, sequence, new long[] {start}, new long[] {end}))
            .setJobs(List.of())
            .build();
    f.seal(repo, commit, 1);
    f.barriersAtEnd(commit);
    sealedEnd.put(repo, end);
    assertThat(lastCompleted(repo)).as("commit " + sequence + " of " + repo).isTrue();
  }

  private final Map<String, Long> sealedEnd = new TreeMap<>();

  /** Whether the topology wrote the repo's newest sealed commit's part (it completed). */
  private boolean lastCompleted(String repo) {
    return !f.commitParts().readValuesToList().isEmpty();
  }

  private MemberObject latest(String repo, String member) {
    return f.latest(repo, member);
  }

  /** The rows' values in canonical order; none for an absent member or one without rows. */
  private static List<List<String>> values(MemberObject object) {
    List<List<String>> values = new ArrayList<>();
    if (object != null) {
      object.getRows().forEach(row -> values.add(List.copyOf(row.getValues())));
    }
    return values;
  }

  private static String hash(MemberObject object) {
    return object == null || object.getRows().isEmpty() ? "" : object.getHash();
  }
}
