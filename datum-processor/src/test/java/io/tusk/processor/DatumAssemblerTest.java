package io.tusk.processor;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topics;
import io.tusk.processor.examples.GiBleedInsights;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.processor.transform.JavaRunner;
import io.tusk.schemas.Datum;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatumAssemblerTest {
  private static final String PIPELINE = "gibleed";
  private static final RepoSpec REPO = OmopFixtures.repo("omop");

  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  private final DatumMapper mapper =
      new DatumMapper(
          PIPELINE,
          "instance-a-0",
          TestSpecs.holding(
              TestSpecs.javaSpec(PIPELINE, "omop", "gibleed-insights"),
              new DatumExecution(new JavaRunner(GiBleedInsights::new), 1, null, null, List.of())),
          repo -> Optional.empty(),
          topics,
          Clock.systemUTC(),
          1024 * 1024);
  private final DatumAssembler assembler = new DatumAssembler(mapper::decode);

  private static Datum datum(String member, String jobId) {
    return OmopFixtures.datum(
        PIPELINE,
        jobId,
        "commit-1",
        OmopFixtures.random(new Random(member.hashCode()), member).object(REPO, "commit-1"));
  }

  private ConsumerRecord<byte[], byte[]> record(Datum datum, long offset) {
    String member = datum.getMemberObject().getMember();
    return record(member, topics.datums(PIPELINE).value(datum), offset, new RecordHeaders());
  }

  private static ConsumerRecord<byte[], byte[]> record(
      String key, byte[] value, long offset, RecordHeaders headers) {
    return new ConsumerRecord<>(
        PIPELINE + ".datums",
        0,
        offset,
        0L,
        TimestampType.CREATE_TIME,
        -1,
        value == null ? -1 : value.length,
        key.getBytes(StandardCharsets.UTF_8),
        value,
        headers,
        Optional.empty());
  }

  /** The unit at the head, processed: what the worker does with a ready unit. */
  private DatumUnit take() {
    DatumUnit unit = assembler.peekReady();
    assertThat(unit).as("a ready unit").isNotNull();
    assembler.removeFirst();
    return unit;
  }

  @Test
  void shouldAssembleADatumFromItsPartsWithEveryRowInPartOrder() {
    // Given a datum sent in three parts
    Datum whole = datum("4242", "job-1");
    List<Datum> parts = OmopFixtures.parts(whole, 3);

    // When the first two parts arrive / Then nothing is ready, and the unit holds the offset
    assembler.add(record(parts.get(0), 10));
    assembler.add(record(parts.get(1), 11));
    assertThat(assembler.peekReady()).isNull();
    assertThat(assembler.firstOffset()).hasValue(10);

    // When the last part arrives
    assembler.add(record(parts.get(2), 12));

    // Then one datum is ready: part 0's fields with all rows, as one record would carry it
    DatumUnit unit = take();
    assertThat(unit.error()).isNull();
    assertThat(unit.firstOffset()).isEqualTo(10);
    assertThat(unit.records()).extracting(ConsumerRecord::offset).containsExactly(10L, 11L, 12L);
    Datum assembled = unit.datum();
    assertThat(assembled.getMemberObject().getRows()).isEqualTo(whole.getMemberObject().getRows());
    assertThat(assembled.getMemberObject().getRowCount()).isEqualTo(-1);
    assertThat(assembled.getMemberObject().getParts()).isEqualTo(1);
    assertThat(assembled.getParts()).isEqualTo(1);
    assertThat(assembled.getDatumHash()).isEqualTo(whole.getDatumHash());
    assertThat(assembled.getJobId()).isEqualTo("job-1");
    assertThat(assembler.firstOffset()).isEmpty();
  }

  @Test
  void shouldGiveDatumsInTheOrderOfTheirFirstRecordWhenTheirPartsInterleave() {
    // Given A in 3 parts, B in 2 and C in 1, interleaved by their producers
    List<Datum> a = OmopFixtures.parts(datum("1", "job-1"), 3);
    List<Datum> b = OmopFixtures.parts(datum("2", "job-1"), 2);
    Datum c = datum("3", "job-1");

    // When A0 B0 A1 C B1 A2 arrive
    assembler.add(record(a.get(0), 0));
    assembler.add(record(b.get(0), 1));
    assembler.add(record(a.get(1), 2));
    assembler.add(record(c, 3));
    assembler.add(record(b.get(1), 4));
    assertThat(assembler.peekReady()).as("A still waits for its last part").isNull();
    assembler.add(record(a.get(2), 5));

    // Then they come out as A, B, C: the order of their first record
    assertThat(take().datum().getMemberObject().getMember()).isEqualTo("1");
    assertThat(take().datum().getMemberObject().getMember()).isEqualTo("2");
    assertThat(take().datum().getMemberObject().getMember()).isEqualTo("3");
    assertThat(assembler.buffered()).isZero();
  }

  @Test
  void shouldHoldCompleteDatumsBehindTheFirstIncompleteOne() {
    // Given A in 2 parts whose first part came before a whole datum C
    List<Datum> a = OmopFixtures.parts(datum("1", "job-1"), 2);
    assembler.add(record(a.get(0), 7));
    assembler.add(record(datum("3", "job-1"), 8));

    // When nothing more arrives / Then nothing is ready and the offset to commit is A's first
    assertThat(assembler.peekReady()).isNull();
    assertThat(assembler.firstOffset()).hasValue(7);

    // When A's last part arrives (a later poll) / Then A and then C are ready
    assembler.add(record(a.get(1), 9));
    assertThat(take().firstOffset()).isEqualTo(7);
    assertThat(take().firstOffset()).isEqualTo(8);
  }

  @Test
  void shouldDropPartsOfDatumsThatStartedBeforeTheOffsetReadAgainFrom() {
    // Given A0 B0 A1 B1 where A was processed and committed, so the re-read starts at B0 (offset 1)
    List<Datum> a = OmopFixtures.parts(datum("1", "job-1"), 2);
    List<Datum> b = OmopFixtures.parts(datum("2", "job-1"), 2);

    // When the records from offset 1 on are read again
    assembler.add(record(b.get(0), 1));
    assembler.add(record(a.get(1), 2));
    assembler.add(record(b.get(1), 3));

    // Then A's part is an orphan, dropped, and B is assembled
    assertThat(assembler.orphans()).isEqualTo(1);
    DatumUnit unit = take();
    assertThat(unit.datum().getMemberObject().getMember()).isEqualTo("2");
    assertThat(unit.records()).extracting(ConsumerRecord::offset).containsExactly(1L, 3L);
    assertThat(assembler.peekReady()).isNull();
  }

  @Test
  void shouldFailTheDatumWhenAPartIsMissing() {
    // Given part 0 of 3 followed by part 2 of the same datum
    List<Datum> a = OmopFixtures.parts(datum("1", "job-1"), 3);
    assembler.add(record(a.get(0), 0));
    assembler.add(record(a.get(2), 1));

    // Then the datum is ready as a failure naming the gap, with both records
    DatumUnit unit = take();
    assertThat(unit.error())
        .contains("datum in 3 parts is incomplete after part 0")
        .contains("part 2 of 3 came where part 1 of 3 was expected");
    assertThat(unit.datum().getJobId()).isEqualTo("job-1");
    assertThat(unit.records()).hasSize(2);
  }

  @Test
  void shouldFailTheOpenDatumWhenItsPartZeroComesAgain() {
    // Given part 0 of a datum, then part 0 of the same datum again and its part 1
    List<Datum> a = OmopFixtures.parts(datum("1", "job-1"), 2);
    assembler.add(record(a.get(0), 0));
    assembler.add(record(a.get(0), 1));
    assembler.add(record(a.get(1), 2));

    // Then the first is a failure, the second is assembled
    assertThat(take().error()).contains("its part 0 came again at offset 1");
    DatumUnit second = take();
    assertThat(second.error()).isNull();
    assertThat(second.firstOffset()).isEqualTo(1);
  }

  @Test
  void shouldFailTheDatumAnUndecodablePartNamesInItsHeaders() {
    // Given part 0 of a datum, then bytes that are not a datum with that datum's headers
    Datum whole = datum("1", "job-1");
    List<Datum> a = OmopFixtures.parts(whole, 2);
    assembler.add(record(a.get(0), 0));
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.JOB_ID, Headers.bytes("job-1"));
    headers.add(Headers.DATUM_HASH, Headers.bytes(whole.getDatumHash()));
    headers.add(Headers.REPO, Headers.bytes("omop"));
    assembler.add(record("1", "garbage".getBytes(StandardCharsets.UTF_8), 1, headers));

    // Then the datum fails as a whole, naming the bad part
    DatumUnit unit = take();
    assertThat(unit.error()).contains("a part at offset 1 is not a datum: undecodable datum");
    assertThat(unit.records()).hasSize(2);
    assertThat(assembler.buffered()).isZero();
  }

  @Test
  void shouldMakeARecordThatIsNotADatumAUnitOfItsOwn() {
    // Given bytes that are not a datum, without headers, between two datums
    assembler.add(record(datum("1", "job-1"), 0));
    assembler.add(record("x", "garbage".getBytes(StandardCharsets.UTF_8), 1, new RecordHeaders()));
    assembler.add(record(datum("2", "job-1"), 2));

    // Then it is a failed unit in its place
    assertThat(take().error()).isNull();
    DatumUnit invalid = take();
    assertThat(invalid.datum()).isNull();
    assertThat(invalid.error()).startsWith("undecodable datum: ");
    assertThat(take().error()).isNull();
  }

  @Test
  void shouldFailARecordClaimingAPartBeyondItsCount() {
    // Given a record that says it is part 3 of 2
    Datum bad = Datum.newBuilder(datum("1", "job-1")).setPart(3).setParts(2).build();

    // When it arrives / Then it is a failed unit naming the claim
    assembler.add(record(bad, 0));
    DatumUnit unit = take();
    assertThat(unit.error()).isEqualTo("datum record claims to be part 3 of 2");
    assertThat(unit.datum().getJobId()).isEqualTo("job-1");
  }

  /**
   * Plays the worker over a partition of interleaved datums in parts: polls of random sizes,
   * transactions cut after a random number of datums (then a seek back to the first datum not done
   * and a cleared assembler), some transactions aborted (a rewind to the committed offset). Every
   * datum must be committed exactly once, whole, in the order of its first record.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
  void shouldCommitEveryDatumOnceWholeWhenPollsAreCutAnywhere(long seed) {
    System.out.println("seed " + seed);
    Random random = new Random(seed);

    // Given 40 datums of 1-4 parts, their parts interleaved as concurrent producers would write
    Map<String, Datum> wholes = new LinkedHashMap<>();
    List<List<Datum>> pending = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Datum whole = datum(Integer.toString(100 + i), "job-" + seed);
      wholes.put(whole.getMemberObject().getMember(), whole);
      pending.add(new ArrayList<>(OmopFixtures.parts(whole, 1 + random.nextInt(4))));
    }
    List<ConsumerRecord<byte[], byte[]>> log = new ArrayList<>();
    List<String> firstRecordOrder = new ArrayList<>();
    while (!pending.isEmpty()) {
      // A producer writes the next part of one of the datums not finished
      List<Datum> next = pending.get(random.nextInt(Math.min(3, pending.size())));
      Datum part = next.remove(0);
      if (part.getPart() == 0) {
        firstRecordOrder.add(part.getMemberObject().getMember());
      }
      log.add(record(part, log.size()));
      if (next.isEmpty()) {
        pending.remove(next);
      }
    }

    // When the worker reads it with cuts and aborts
    List<String> committed = new ArrayList<>();
    long committedOffset = 0;
    long position = 0;
    int rounds = 0;
    while (committedOffset < log.size() && rounds++ < 10_000) {
      int polled = Math.min(1 + random.nextInt(6), log.size() - (int) position);
      for (int i = 0; i < polled; i++) {
        assembler.add(log.get((int) position++));
      }
      List<String> done = new ArrayList<>();
      int budget = 1 + random.nextInt(3);
      for (DatumUnit unit = assembler.peekReady();
          unit != null && done.size() < budget;
          unit = assembler.peekReady()) {
        assertThat(unit.error()).isNull();
        Datum datum = unit.datum();
        assertThat(datum.getMemberObject().getRows())
            .isEqualTo(wholes.get(datum.getMemberObject().getMember()).getMemberObject().getRows());
        done.add(datum.getMemberObject().getMember());
        assembler.removeFirst();
      }
      long offset = assembler.firstOffset().orElse(position);
      boolean cut = assembler.peekReady() != null;
      if (random.nextInt(8) == 0) {
        // The transaction aborts: back to the committed offset, nothing of this round counts
        assembler.clear();
        position = committedOffset;
        continue;
      }
      committed.addAll(done);
      committedOffset = offset;
      if (cut) {
        assembler.clear();
        position = offset;
      }
    }

    // Then every datum was committed once, in the order of its first record
    assertThat(committed).isEqualTo(firstRecordOrder);
  }
}
