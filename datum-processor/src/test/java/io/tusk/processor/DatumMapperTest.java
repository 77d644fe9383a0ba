package io.tusk.processor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topics;
import io.tusk.common.transform.Transform;
import io.tusk.processor.examples.GiBleedInsights;
import io.tusk.processor.transform.CommandRunner;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.processor.transform.JavaRunner;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Output;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatumMapperTest {
  private static final String PIPELINE = "gibleed";
  private static final RepoSpec REPO = OmopFixtures.repo("omop");
  private static final Clock CLOCK =
      Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC);
  private static final int MAX_RECORD_BYTES = 1024 * 1024;

  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());

  private DatumMapper mapper(Transform transform, Topics topics) {
    return mapper(
        new DatumExecution(new JavaRunner(() -> transform), 1, null, null, List.of()), topics);
  }

  private DatumMapper mapper(DatumExecution execution, Topics topics) {
    return mapper(execution, topics, REPO);
  }

  private DatumMapper mapper(DatumExecution execution, Topics topics, RepoSpec spec) {
    return mapper(execution, topics, spec, MAX_RECORD_BYTES);
  }

  /** A mapper whose transform is the one of the datums' spec hash (see OmopFixtures.datum). */
  private DatumMapper mapper(
      DatumExecution execution, Topics topics, RepoSpec spec, int maxRecordBytes) {
    RepoLayout layout = new RepoLayout(spec);
    return new DatumMapper(
        PIPELINE,
        "instance-a-0",
        TestSpecs.holding(
            TestSpecs.javaSpec(PIPELINE, spec.getName(), "gibleed-insights"), execution),
        repo -> repo.equals(spec.getName()) ? Optional.of(layout) : Optional.empty(),
        topics,
        CLOCK,
        maxRecordBytes);
  }

  @Test
  void shouldNameTheTopicTheRowsWereReadFromWhenTheRepoIsDerivedFromAPipeline() {
    // Given a repo derived from pipeline risk's outputs: its rows are records of risk.output
    RepoSpec derived =
        RepoSpec.newBuilder(REPO)
            .setName("risk-by-cohort")
            .setUpdatesTopic("risk.output")
            .setSourcePipeline("risk")
            .build();
    MemberObject object = OmopFixtures.random(new Random(7), "c1").object(derived, "commit-7");
    Datum datum = OmopFixtures.datum(PIPELINE, "job-3", "commit-7", object);

    // When a datum of it succeeds
    DatumOutcome outcome =
        mapper(
                new DatumExecution(
                    new JavaRunner(() -> new GiBleedInsights()), 1, null, null, List.of()),
                topics,
                derived)
            .map(record(datum, 3));

    // Then its inputs name risk.output, where lineage finds the upstream outputs
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.SUCCESS);
    assertThat(outcome.output().getInputs())
        .isNotEmpty()
        .allSatisfy(input -> assertThat(input.getTopic()).isEqualTo("risk.output"));
  }

  private Datum datum(String member) {
    MemberObject object =
        OmopFixtures.random(new Random(member.hashCode()), member).object(REPO, "commit-7");
    return OmopFixtures.datum(PIPELINE, "job-3", "commit-7", object);
  }

  private ConsumerRecord<byte[], byte[]> record(Datum datum, long offset) {
    String member = datum.getMemberObject().getMember();
    return record(member, topics.datums(PIPELINE).value(datum), offset);
  }

  private ConsumerRecord<byte[], byte[]> record(String key, byte[] value, long offset) {
    return new ConsumerRecord<>(
        PIPELINE + ".datums", 2, offset, key.getBytes(StandardCharsets.UTF_8), value);
  }

  private static String header(ProducerRecord<byte[], byte[]> record, String name) {
    return Headers.text(record.headers(), name);
  }

  @Test
  void shouldWriteOutputWithProvenanceAndSuccessResultWhenTheTransformSucceeds() {
    // Given a datum of a plausible member
    Datum datum = datum("4242");

    // When it is mapped with the demo transform
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(record(datum, 17));

    // Then the output carries the transform's bytes, their hash, the datum's IDs and its inputs
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.SUCCESS);
    Output output = outcome.output();
    byte[] data = bytes(output.getData());
    assertThat(new String(data, StandardCharsets.UTF_8)).startsWith("{\"member\":\"4242\",");
    assertThat(output.getOutputHash()).isEqualTo(Hashing.bytesHash(data));
    assertThat(output.getContentType()).isEqualTo("application/json");
    assertThat(output.getPipeline()).isEqualTo(PIPELINE);
    assertThat(output.getJobId()).isEqualTo("job-3");
    assertThat(output.getCommitId()).isEqualTo("commit-7");
    assertThat(output.getGlobalId()).isEqualTo("commit-7");
    assertThat(output.getDatumHash()).isEqualTo(datum.getDatumHash());
    assertThat(output.getInputs()).hasSize(datum.getMemberObject().getRows().size());
    InputRef first = output.getInputs().get(0);
    var firstRow = datum.getMemberObject().getRows().get(0);
    assertThat(first.getTopic()).isEqualTo("omop.updates");
    assertThat(first.getPartition()).isEqualTo(firstRow.getSourcePartition());
    assertThat(first.getOffset()).isEqualTo(firstRow.getSourceOffset());
    assertThat(first.getTable()).isEqualTo(firstRow.getTable());

    // And the result is a first-attempt success of this processor with the same output hash
    DatumResult result = outcome.result();
    assertThat(result.getState()).isEqualTo(DatumState.SUCCESS);
    assertThat(result.getAttempts()).isEqualTo(1);
    assertThat(result.getProcessorId()).isEqualTo("instance-a-0");
    assertThat(result.getStartedAt()).isEqualTo(CLOCK.millis());
    assertThat(result.getDurationMicros()).isNotNegative();
    assertThat(result.getOutputHash()).isEqualTo(output.getOutputHash());
    assertThat(result.getError()).isNull();

    // And the records are the output (keyed by member, with provenance headers), the result
    // (keyed by job ID) and the member side's DatumDone, all decodable through the topics' serdes
    assertThat(outcome.records()).hasSize(3);
    ProducerRecord<byte[], byte[]> outputRecord = outcome.records().get(0);
    assertThat(outputRecord.topic()).isEqualTo("gibleed.output");
    assertThat(new String(outputRecord.key(), StandardCharsets.UTF_8)).isEqualTo("4242");
    assertThat(topics.output(PIPELINE).readValue(outputRecord.value())).isEqualTo(output);
    assertThat(header(outputRecord, Headers.PIPELINE)).isEqualTo(PIPELINE);
    assertThat(header(outputRecord, Headers.JOB_ID)).isEqualTo("job-3");
    assertThat(header(outputRecord, Headers.COMMIT_ID)).isEqualTo("commit-7");
    assertThat(header(outputRecord, Headers.GLOBAL_ID)).isEqualTo("commit-7");
    assertThat(header(outputRecord, Headers.DATUM_HASH)).isEqualTo(datum.getDatumHash());
    ProducerRecord<byte[], byte[]> resultRecord = outcome.records().get(1);
    assertThat(resultRecord.topic()).isEqualTo("tusk.datum-results");
    assertThat(new String(resultRecord.key(), StandardCharsets.UTF_8)).isEqualTo("job-3");
    assertThat(topics.datumResults.readValue(resultRecord.value())).isEqualTo(result);
    assertDone(outcome.records().get(2), datum, true, output.getOutputHash());
  }

  private void assertDone(
      ProducerRecord<byte[], byte[]> record, Datum datum, boolean succeeded, String outputHash) {
    assertThat(record.topic()).isEqualTo("omop.by-member");
    String member = datum.getMemberObject().getMember();
    assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(member);
    MemberEvent event = topics.byMember("omop").readValue(record.value());
    assertThat(event.getEvent())
        .isEqualTo(
            DatumDone.newBuilder()
                .setPipeline(PIPELINE)
                .setMember(member)
                .setJobId(datum.getJobId())
                .setDatumHash(datum.getDatumHash())
                .setSucceeded(succeeded)
                .setOutputHash(outputHash)
                .build());
  }

  @Test
  void shouldWriteFailedResultAndRawDatumToFailedTopicWhenTheTransformThrows() {
    // Given a transform that throws and a datum record
    Transform failing =
        input -> {
          throw new IllegalStateException("no insight for this member");
        };
    Datum datum = datum("77");
    ConsumerRecord<byte[], byte[]> record = record(datum, 5);

    // When it is mapped
    DatumOutcome outcome = mapper(failing, topics).map(record);

    // Then the result is FAILED with exception class and message, and there is no output
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.FAILED);
    assertThat(outcome.output()).isNull();
    String error = "java.lang.IllegalStateException: no insight for this member";
    assertThat(outcome.error()).isEqualTo(error);
    assertThat(outcome.result().getState()).isEqualTo(DatumState.FAILED);
    assertThat(outcome.result().getError()).isEqualTo(error);
    assertThat(outcome.result().getOutputHash()).isNull();
    assertThat(outcome.result().getJobId()).isEqualTo("job-3");

    // And the datum's original bytes go to the failed topic with error and provenance headers
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("tusk.datum-results", "gibleed.failed", "omop.by-member");
    assertDone(outcome.records().get(2), datum, false, null);
    ProducerRecord<byte[], byte[]> failed = outcome.records().get(1);
    assertThat(failed.key()).isEqualTo(record.key());
    assertThat(failed.value()).isEqualTo(record.value());
    assertThat(header(failed, DatumMapper.ERROR_HEADER)).isEqualTo(error);
    assertThat(header(failed, Headers.PIPELINE)).isEqualTo(PIPELINE);
    assertThat(header(failed, Headers.JOB_ID)).isEqualTo("job-3");
    assertThat(header(failed, Headers.COMMIT_ID)).isEqualTo("commit-7");
    assertThat(header(failed, Headers.GLOBAL_ID)).isEqualTo("commit-7");
    assertThat(header(failed, Headers.DATUM_HASH)).isEqualTo(datum.getDatumHash());
    assertThat(header(failed, Headers.SOURCE_OFFSET)).isEqualTo("5");
    assertThat(header(failed, Headers.ATTEMPTS)).isEqualTo("1");
    assertThat(header(failed, Headers.STDERR)).isNull();
  }

  @Test
  void shouldFailTheDatumWhenItsRepoIsUnknown() {
    // Given a datum of a repo the processor has no spec for
    MemberObject object =
        OmopFixtures.member("1")
            .drugEra(OmopFixtures.CELECOXIB, LocalDate.of(2001, 1, 1), LocalDate.of(2001, 2, 1))
            .object(OmopFixtures.repo("elsewhere"), "c");
    Datum datum = OmopFixtures.datum(PIPELINE, "job-9", "c", object);

    // When it is mapped
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(record(datum, 0));

    // Then it fails naming the repo, and the transform never ran
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.FAILED);
    assertThat(outcome.result().getError()).isEqualTo("datum names unknown repo elsewhere");
  }

  @Test
  void shouldSendTheRecordToTheFailedTopicOnlyWhenItIsNotADatum() {
    // Given bytes that are not in the Confluent wire format
    byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);

    // When they are mapped
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(record("m", garbage, 3));

    // Then there is no result (no job is known), only the bytes on the failed topic with the error
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.INVALID);
    assertThat(outcome.result()).isNull();
    assertThat(outcome.records()).hasSize(1);
    ProducerRecord<byte[], byte[]> failed = outcome.records().get(0);
    assertThat(failed.topic()).isEqualTo("gibleed.failed");
    assertThat(failed.value()).isEqualTo(garbage);
    assertThat(header(failed, DatumMapper.ERROR_HEADER)).startsWith("undecodable datum: ");
    assertThat(header(failed, Headers.JOB_ID)).isNull();
  }

  @Test
  void shouldThrowInsteadOfFailingTheDatumWhenTheRegistryIsUnreachable() {
    // Given a datum encoded with a schema ID the processor's registry cannot fetch (it is down)
    ConsumerRecord<byte[], byte[]> record = record(datum("8"), 0);
    Topics offline = new Topics(new UnreachableRegistry());

    // When / Then mapping throws a KafkaException, so the worker retries the poll
    assertThatThrownBy(() -> mapper(new GiBleedInsights(), offline).map(record))
        .isInstanceOf(KafkaException.class);
  }

  @Test
  void shouldWriteATombstoneAndSucceedWithoutRunningTheTransformWhenTheDatumRemovesAMember() {
    // Given a removal datum (no rows, empty hash) and a transform that must not run
    MemberObject removed =
        MemberObject.newBuilder()
            .setRepo("omop")
            .setMember("55")
            .setHash("")
            .setCommitId("commit-7")
            .setSequence(7)
            .setRows(List.of())
            .build();
    Datum datum = OmopFixtures.datum(PIPELINE, "job-3", "commit-7", removed);
    Transform never =
        input -> {
          throw new AssertionError("the transform ran on a removal datum");
        };

    // When it is mapped
    DatumOutcome outcome = mapper(never, topics).map(record(datum, 9));

    // Then a tombstone with provenance replaces the member's output, the result is a SUCCESS
    // without output hash, and the member side hears of it
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.REMOVED);
    ProducerRecord<byte[], byte[]> tombstone = outcome.records().get(0);
    assertThat(tombstone.topic()).isEqualTo("gibleed.output");
    assertThat(new String(tombstone.key(), StandardCharsets.UTF_8)).isEqualTo("55");
    assertThat(tombstone.value()).isNull();
    assertThat(header(tombstone, Headers.JOB_ID)).isEqualTo("job-3");
    assertThat(header(tombstone, Headers.DATUM_HASH)).isEqualTo(datum.getDatumHash());
    assertThat(outcome.result().getState()).isEqualTo(DatumState.SUCCESS);
    assertThat(outcome.result().getAttempts()).isZero();
    assertThat(outcome.result().getOutputHash()).isNull();
    assertDone(outcome.records().get(2), datum, true, null);
  }

  @Test
  void shouldNameTheErasureOnTheTombstoneWhenTheRemovalDatumErasesTheMember() {
    // Given the removal datum of an erased member, and an ordinary removal datum
    MemberObject removed =
        MemberObject.newBuilder()
            .setRepo("omop")
            .setMember("55")
            .setHash("")
            .setCommitId("commit-8")
            .setSequence(8)
            .setRows(List.of())
            .build();
    Datum plain = OmopFixtures.datum(PIPELINE, "job-4", "commit-8", removed);
    Datum erased = Datum.newBuilder(plain).setErasure("erasure-1").build();

    // When both are mapped
    DatumOutcome erasedOutcome = mapper(new GiBleedInsights(), topics).map(record(erased, 10));
    DatumOutcome plainOutcome = mapper(new GiBleedInsights(), topics).map(record(plain, 11));

    // Then the erased member's tombstone names the request besides its provenance, its result has
    // no log; the ordinary tombstone has no erasure header
    ProducerRecord<byte[], byte[]> tombstone = erasedOutcome.records().get(0);
    assertThat(tombstone.value()).isNull();
    assertThat(header(tombstone, Headers.ERASURE)).isEqualTo("erasure-1");
    assertThat(header(tombstone, Headers.JOB_ID)).isEqualTo("job-4");
    assertThat(header(tombstone, Headers.PIPELINE)).isEqualTo(PIPELINE);
    assertThat(erasedOutcome.result().getLog()).isNull();
    assertThat(erasedOutcome.result().getState()).isEqualTo(DatumState.SUCCESS);
    assertThat(plainOutcome.records().get(0).headers().lastHeader(Headers.ERASURE)).isNull();
  }

  @Test
  void shouldSayWhetherTheOutputIsIdenticalWhenReprocessingWithAnExpectedHash() {
    // Given the same datum re-run in REPROCESS mode, once expecting its real output hash and once
    // expecting another
    Datum datum = datum("4242");
    String actual =
        mapper(new GiBleedInsights(), topics).map(record(datum, 1)).result().getOutputHash();
    Datum same =
        Datum.newBuilder(datum).setMode(JobMode.REPROCESS).setExpectedOutputHash(actual).build();
    Datum other =
        Datum.newBuilder(datum).setMode(JobMode.REPROCESS).setExpectedOutputHash("ff").build();

    // When they are mapped / Then identical says whether the hashes match; other modes leave it
    // null
    assertThat(mapper(new GiBleedInsights(), topics).map(record(same, 2)).result().getIdentical())
        .isTrue();
    assertThat(mapper(new GiBleedInsights(), topics).map(record(other, 3)).result().getIdentical())
        .isFalse();
    assertThat(mapper(new GiBleedInsights(), topics).map(record(datum, 4)).result().getIdentical())
        .isNull();
  }

  @Test
  void shouldMarkTheResultAsARestartWhenTheDatumIsOfAFailedOnlyJob() {
    // Given a datum re-run by `tusk datum restart` (mode FAILED_ONLY)
    Datum datum = Datum.newBuilder(datum("9")).setMode(JobMode.FAILED_ONLY).build();

    // When it is mapped / Then its result supersedes the earlier failure
    assertThat(mapper(new GiBleedInsights(), topics).map(record(datum, 1)).result().getRestart())
        .isTrue();
    assertThat(
            mapper(new GiBleedInsights(), topics).map(record(datum("9"), 2)).result().getRestart())
        .isFalse();
  }

  @Test
  void shouldRetryThenRecoverWithoutOutputWhenTheErrorCommandSucceeds(@TempDir Path work) {
    // Given a transform that always throws, 2 tries and an error command that succeeds
    Transform failing =
        input -> {
          throw new IllegalStateException("broken");
        };
    DatumExecution execution =
        new DatumExecution(
            new JavaRunner(() -> failing),
            2,
            null,
            new CommandRunner(List.of("true"), Map.of(), "csv", work, 1024),
            List.of("true"));
    Datum datum = datum("31");

    // When it is mapped
    DatumOutcome outcome = mapper(execution, topics).map(record(datum, 1));

    // Then it is RECOVERED after 2 attempts: the member's output is removed (a tombstone with
    // provenance), no failed record, the member side told it succeeded without an output hash, and
    // the log shows both attempts
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.RECOVERED);
    assertThat(outcome.result().getState()).isEqualTo(DatumState.RECOVERED);
    assertThat(outcome.result().getAttempts()).isEqualTo(2);
    assertThat(outcome.result().getLog())
        .contains("== attempt 1: java.lang.IllegalStateException: broken")
        .contains("== attempt 2:")
        .contains("== errCmd: ok");
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("gibleed.output", "tusk.datum-results", "omop.by-member");
    ProducerRecord<byte[], byte[]> tombstone = outcome.records().get(0);
    assertThat(new String(tombstone.key(), StandardCharsets.UTF_8)).isEqualTo("31");
    assertThat(tombstone.value()).isNull();
    assertThat(header(tombstone, Headers.JOB_ID)).isEqualTo("job-3");
    assertThat(header(tombstone, Headers.COMMIT_ID)).isEqualTo("commit-7");
    assertThat(header(tombstone, Headers.DATUM_HASH)).isEqualTo(datum.getDatumHash());
    assertDone(outcome.records().get(2), datum, true, null);
  }

  @Test
  void shouldWriteOnlyTheResultWithTheComparisonWhenTheDatumIsCompareOnly() {
    // Given a datum's real output hash, and the datum re-run compare-only expecting it or another
    Datum datum = datum("4242");
    String actual =
        mapper(new GiBleedInsights(), topics).map(record(datum, 1)).result().getOutputHash();
    Datum same = Datum.newBuilder(datum).setCompareOnly(true).setExpectedOutputHash(actual).build();
    Datum other = Datum.newBuilder(datum).setCompareOnly(true).setExpectedOutputHash("ff").build();
    Datum unknown = Datum.newBuilder(datum).setCompareOnly(true).build();

    // When they are mapped
    DatumOutcome identical = mapper(new GiBleedInsights(), topics).map(record(same, 2));
    DatumOutcome different = mapper(new GiBleedInsights(), topics).map(record(other, 3));
    DatumOutcome noExpectation = mapper(new GiBleedInsights(), topics).map(record(unknown, 4));

    // Then each writes its SUCCESS result with the output hash and the comparison, and nothing
    // else: no output, no DatumDone (the member side's state must not change)
    for (DatumOutcome outcome : List.of(identical, different, noExpectation)) {
      assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.COMPARED);
      assertThat(outcome.output()).isNull();
      assertThat(outcome.records())
          .extracting(ProducerRecord::topic)
          .containsExactly("tusk.datum-results");
      assertThat(outcome.result().getState()).isEqualTo(DatumState.SUCCESS);
      assertThat(outcome.result().getOutputHash()).isEqualTo(actual);
    }
    assertThat(identical.result().getIdentical()).isTrue();
    assertThat(different.result().getIdentical()).isFalse();
    assertThat(noExpectation.result().getIdentical()).isNull();
  }

  @Test
  void shouldWriteTheResultAndFailedRecordButNoDoneWhenACompareOnlyDatumFails() {
    // Given a compare-only datum and a transform that throws
    Transform failing =
        input -> {
          throw new IllegalStateException("broken");
        };
    Datum datum = Datum.newBuilder(datum("5")).setCompareOnly(true).build();

    // When it is mapped
    DatumOutcome outcome = mapper(failing, topics).map(record(datum, 1));

    // Then its FAILED result and failed record are written, and nothing for the member side
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.FAILED);
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("tusk.datum-results", "gibleed.failed");
  }

  @Test
  void shouldWriteOnlyTheResultWhenACompareOnlyDatumIsRecovered(@TempDir Path work) {
    // Given a compare-only datum, a failing transform and an error command that succeeds
    Transform failing =
        input -> {
          throw new IllegalStateException("broken");
        };
    DatumExecution execution =
        new DatumExecution(
            new JavaRunner(() -> failing),
            1,
            null,
            new CommandRunner(List.of("true"), Map.of(), "csv", work, 1024),
            List.of("true"));
    Datum datum = Datum.newBuilder(datum("6")).setCompareOnly(true).build();

    // When it is mapped / Then only its RECOVERED result is written: no tombstone, no DatumDone
    DatumOutcome outcome = mapper(execution, topics).map(record(datum, 1));
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.RECOVERED);
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("tusk.datum-results");
  }

  @Test
  void shouldFailTheDatumAndTheJobHearsOfItWhenAnUndecodableRecordNamesItsJob() {
    // Given bytes that are not a datum, keyed by member, with the member side's headers
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.JOB_ID, Headers.bytes("job-8"));
    headers.add(Headers.DATUM_HASH, Headers.bytes("hash-8"));
    headers.add(Headers.REPO, Headers.bytes("omop"));
    byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);
    ConsumerRecord<byte[], byte[]> record =
        new ConsumerRecord<>(
            PIPELINE + ".datums",
            2,
            4L,
            0L,
            TimestampType.CREATE_TIME,
            2,
            garbage.length,
            "88".getBytes(StandardCharsets.UTF_8),
            garbage,
            headers,
            Optional.empty());

    // When it is mapped
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(record);

    // Then a FAILED result and a failed DatumDone name the job, member and hash, and the bytes go
    // to the failed topic with the error
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.INVALID);
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("tusk.datum-results", "gibleed.failed", "omop.by-member");
    DatumResult result = outcome.result();
    assertThat(result.getState()).isEqualTo(DatumState.FAILED);
    assertThat(result.getJobId()).isEqualTo("job-8");
    assertThat(result.getMember()).isEqualTo("88");
    assertThat(result.getDatumHash()).isEqualTo("hash-8");
    assertThat(result.getRepo()).isEqualTo("omop");
    assertThat(result.getPipeline()).isEqualTo(PIPELINE);
    assertThat(result.getError()).startsWith("undecodable datum: ");
    assertThat(outcome.records().get(1).value()).isEqualTo(garbage);
    assertThat(header(outcome.records().get(1), Headers.JOB_ID)).isEqualTo("job-8");
    MemberEvent event = topics.byMember("omop").readValue(outcome.records().get(2).value());
    assertThat(event.getEvent())
        .isEqualTo(
            DatumDone.newBuilder()
                .setPipeline(PIPELINE)
                .setMember("88")
                .setJobId("job-8")
                .setDatumHash("hash-8")
                .setSucceeded(false)
                .setOutputHash(null)
                .build());
  }

  @Test
  void shouldFailTheDatumWithAClearErrorWhenItsOutputRecordWouldBeTooLarge() {
    // Given a member of 200 rows, and a producer limit of 3000 bytes: under its output record
    OmopFixtures.Member member = OmopFixtures.member("4242");
    LocalDate day = LocalDate.of(2000, 1, 1);
    for (int i = 0; i < 200; i++) {
      member.visit(day.plusDays(i), day.plusDays(i + 1));
    }
    Datum datum =
        OmopFixtures.datum(PIPELINE, "job-3", "commit-7", member.object(REPO, "commit-7"));
    DatumExecution execution =
        new DatumExecution(new JavaRunner(GiBleedInsights::new), 1, null, null, List.of());
    int limit = 3000;

    // When it is mapped
    DatumOutcome outcome = mapper(execution, topics, REPO, limit).map(record(datum, 1));

    // Then it FAILS naming both sizes, without an output; the member side hears of the failure
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.FAILED);
    assertThat(outcome.result().getError())
        .matches("output of \\d+ bytes exceeds the limit of 3000 bytes .*");
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("tusk.datum-results", "gibleed.failed", "omop.by-member");
    assertDone(outcome.records().get(2), datum, false, null);
    // The failed copy of the datum would be too large as well: its value is left out, its source
    // position kept
    ProducerRecord<byte[], byte[]> failed = outcome.records().get(1);
    assertThat(failed.value()).isNull();
    assertThat(header(failed, Headers.OMITTED)).contains("left out");
    assertThat(header(failed, Headers.SOURCE_OFFSET)).isEqualTo("1");
    assertThat(OutcomeRecords.size(failed)).isLessThanOrEqualTo(limit);
  }

  @Test
  void shouldListTheFirstInputsAndCountThemAllWhenAMemberHasManyRows() {
    // Given a member with more rows than an output lists
    OmopFixtures.Member member = OmopFixtures.member("77");
    LocalDate day = LocalDate.of(2000, 1, 1);
    for (int i = 0; i < OutcomeRecords.MAX_INPUT_REFS + 5; i++) {
      member.visit(day.plusDays(i), day.plusDays(i + 1));
    }
    Datum datum =
        OmopFixtures.datum(PIPELINE, "job-3", "commit-7", member.object(REPO, "commit-7"));

    // When it is mapped
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(record(datum, 1));

    // Then the output lists the first rows and says how many there were
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.SUCCESS);
    assertThat(outcome.output().getInputs()).hasSize(OutcomeRecords.MAX_INPUT_REFS);
    assertThat(outcome.output().getInputCount()).isEqualTo(OutcomeRecords.MAX_INPUT_REFS + 5);
    assertThat(outcome.output().getInputs().get(0).getOffset())
        .isEqualTo(datum.getMemberObject().getRows().get(0).getSourceOffset());
    // A member within the cap lists all of them
    assertThat(
            mapper(new GiBleedInsights(), topics)
                .map(record(datum("4"), 2))
                .output()
                .getInputCount())
        .isEqualTo(-1);
  }

  @Test
  void shouldFailNamingBothHashesWithoutRunningAnyTransformWhenTheDatumsSpecIsUnknown() {
    // Given a datum of a spec hash the worker does not hold and the pipeline no longer has
    Datum datum = Datum.newBuilder(datum("12")).setSpecHash("old-spec-hash").build();
    Transform never =
        input -> {
          throw new AssertionError("a transform ran under another spec hash");
        };

    // When it is mapped
    DatumOutcome outcome = mapper(never, topics).map(record(datum, 1));

    // Then it FAILED without an attempt, naming the datum's hash and the pipeline's
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.FAILED);
    assertThat(outcome.result().getAttempts()).isZero();
    assertThat(outcome.result().getError())
        .contains("old-spec-hash")
        .contains(datum("12").getSpecHash());
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly("tusk.datum-results", "gibleed.failed", "omop.by-member");
  }

  @Test
  void shouldRunTheTransformOnEveryRowWhenTheDatumCameInParts() {
    // Given a datum assembled from four parts
    Datum whole = datum("4242");
    DatumAssembler assembler = new DatumAssembler(mapper(new GiBleedInsights(), topics)::decode);
    List<Datum> parts = OmopFixtures.parts(whole, 4);
    for (int i = 0; i < parts.size(); i++) {
      assembler.add(record(parts.get(i), 20 + i));
    }

    // When it is mapped
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(assembler.peekReady());

    // Then the output is the one the whole datum gives, with an input per row
    DatumOutcome wholeOutcome = mapper(new GiBleedInsights(), topics).map(record(whole, 1));
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.SUCCESS);
    assertThat(outcome.output().getOutputHash()).isEqualTo(wholeOutcome.output().getOutputHash());
    assertThat(outcome.output().getInputs()).isEqualTo(wholeOutcome.output().getInputs());
  }

  @Test
  void shouldFailTheDatumAndKeepEveryPartWhenItsPartsDoNotFit() {
    // Given parts 0 and 2 of a datum in 3 parts (part 1 missing)
    Datum whole = datum("4242");
    DatumAssembler assembler = new DatumAssembler(mapper(new GiBleedInsights(), topics)::decode);
    List<Datum> parts = OmopFixtures.parts(whole, 3);
    assembler.add(record(parts.get(0), 30));
    assembler.add(record(parts.get(2), 31));

    // When it is mapped
    DatumOutcome outcome = mapper(new GiBleedInsights(), topics).map(assembler.peekReady());

    // Then it fails without running, both parts go to the failed topic, the job hears of it
    assertThat(outcome.kind()).isEqualTo(DatumOutcome.Kind.INVALID);
    assertThat(outcome.result().getState()).isEqualTo(DatumState.FAILED);
    assertThat(outcome.result().getError()).contains("incomplete after part 0");
    assertThat(outcome.records())
        .extracting(ProducerRecord::topic)
        .containsExactly(
            "tusk.datum-results", "gibleed.failed", "gibleed.failed", "omop.by-member");
    assertThat(outcome.records().subList(1, 3))
        .extracting(r -> header(r, Headers.SOURCE_OFFSET))
        .containsExactly("30", "31");
    assertDone(outcome.records().get(3), whole, false, null);
  }

  @Test
  void shouldReadTheRecordLimitFromTheProducerSettings() {
    // Given producer settings with and without max.request.size
    Map<String, Object> defaults =
        new java.util.HashMap<>(
            Map.of(
                "bootstrap.servers", "localhost:9092",
                "key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class,
                "value.serializer",
                    org.apache.kafka.common.serialization.ByteArraySerializer.class));
    Map<String, Object> raised = new java.util.HashMap<>(defaults);
    raised.put("max.request.size", 5_000_000);

    // When / Then the limit is Kafka's default 1 MiB, or the setting
    assertThat(DatumMapper.maxRecordBytes(defaults))
        .isEqualTo(1024 * 1024 - DatumMapper.LINEAGE_HEADROOM_BYTES);
    assertThat(DatumMapper.maxRecordBytes(raised))
        .isEqualTo(5_000_000 - DatumMapper.LINEAGE_HEADROOM_BYTES);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  /** A registry that cannot be reached, as HttpSchemaRegistryClient reports it. */
  private static final class UnreachableRegistry implements SchemaRegistryClient {
    private static SchemaRegistryException down() {
      return new SchemaRegistryException(
          "GET /schemas failed: connection refused", new java.io.IOException("refused"));
    }

    @Override
    public int register(String subject, Schema schema) {
      throw down();
    }

    @Override
    public Schema getById(int id) {
      throw down();
    }

    @Override
    public OptionalInt lookup(String subject, Schema schema) {
      throw down();
    }

    @Override
    public RegisteredSchema latest(String subject) {
      throw down();
    }
  }
}
