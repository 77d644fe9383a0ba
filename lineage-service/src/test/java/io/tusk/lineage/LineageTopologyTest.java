package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.completedCommit;
import static io.tusk.lineage.Fixtures.datumResult;
import static io.tusk.lineage.Fixtures.inputRef;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.output;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Output;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineageTopologyTest {
  private final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  private TopologyTestDriver driver;

  @BeforeEach
  void setUp(@TempDir Path stateDir) {
    driver =
        new TopologyTestDriver(
            LineageService.buildTopology(topics), TestStreams.properties(stateDir));
  }

  @AfterEach
  void tearDown() {
    driver.close();
  }

  @Test
  void shouldKeepCompletedCommitWhenSealedThenCompleted() {
    // Given a commit as sealed
    String commitId = Ids.newId();
    Commit sealed = sealedCommit(commitId, "claims", Ids.newId(), "risk");
    TestInputTopic<String, Commit> commits = input(topics.commits);
    commits.pipeInput(commitId, sealed);
    assertThat(commitsStore().get(commitId).getStats()).isNull();

    // When it is written again with its stats
    commits.pipeInput(commitId, completedCommit(sealed));

    // Then the index holds the completed version
    Commit indexed = commitsStore().get(commitId);
    assertThat(indexed.getStats()).isNotNull();
    assertThat(indexed.getStats().getRows()).isEqualTo(40L);
    assertThat(indexed.getRepo()).isEqualTo("claims");
  }

  @Test
  void shouldReplaceJobWhenUpdated() {
    // Given a running job
    String jobId = Ids.newId();
    String commitId = Ids.newId();
    TestInputTopic<String, Job> jobs = input(topics.jobs);
    jobs.pipeInput(jobId, job(jobId, commitId, "risk", JobState.RUNNING, 1));

    // When the tracker writes its final state
    jobs.pipeInput(jobId, job(jobId, commitId, "risk", JobState.SUCCESS, 3));

    // Then only the latest version is indexed
    KeyValueStore<String, Job> store = driver.getKeyValueStore(LineageStores.JOBS_STORE);
    assertThat(store.get(jobId).getState()).isEqualTo(JobState.SUCCESS);
    assertThat(store.get(jobId).getProcessed()).isEqualTo(3L);
    try (KeyValueIterator<String, Job> all = store.all()) {
      assertThat(all).toIterable().hasSize(1);
    }
  }

  @Test
  void shouldIndexJobIdsUnderTheirCommitWhenJobsAreUpdated() {
    // Given two jobs of one commit and one job of another
    String commitA = Ids.newId();
    String commitB = Ids.newId();
    String riskJob = Ids.newId();
    String costJob = Ids.newId();
    String otherJob = Ids.newId();
    TestInputTopic<String, Job> jobs = input(topics.jobs);
    jobs.pipeInput(riskJob, job(riskJob, commitA, "risk", JobState.RUNNING, 0));
    jobs.pipeInput(costJob, job(costJob, commitA, "cost", JobState.RUNNING, 0));
    jobs.pipeInput(otherJob, job(otherJob, commitB, "risk", JobState.RUNNING, 0));

    // When the jobs are updated several times
    jobs.pipeInput(riskJob, job(riskJob, commitA, "risk", JobState.RUNNING, 2));
    jobs.pipeInput(riskJob, job(riskJob, commitA, "risk", JobState.SUCCESS, 3));
    jobs.pipeInput(costJob, job(costJob, commitA, "cost", JobState.SUCCESS, 3));

    // Then each commit lists each of its jobs once, sorted
    KeyValueStore<String, List<String>> store =
        driver.getKeyValueStore(LineageStores.COMMIT_JOBS_STORE);
    assertThat(store.get(commitA)).containsExactlyElementsOf(sorted(riskJob, costJob));
    assertThat(store.get(commitB)).containsExactly(otherJob);
  }

  @Test
  void shouldRemoveJobIdFromItsCommitWhenJobIsDeleted() {
    // Given a commit with two jobs
    String commitId = Ids.newId();
    String keptJob = Ids.newId();
    String deletedJob = Ids.newId();
    TestInputTopic<String, Job> jobs = input(topics.jobs);
    jobs.pipeInput(keptJob, job(keptJob, commitId, "risk", JobState.SUCCESS, 3));
    jobs.pipeInput(deletedJob, job(deletedJob, commitId, "cost", JobState.SUCCESS, 3));

    // When one job is deleted (a tombstone on the compacted topic)
    jobs.pipeInput(deletedJob, (Job) null);

    // Then the commit lists only the other one
    KeyValueStore<String, List<String>> store =
        driver.getKeyValueStore(LineageStores.COMMIT_JOBS_STORE);
    assertThat(store.get(commitId)).containsExactly(keptJob);
  }

  @Test
  void shouldIndexOutputsUnderDistinctKeysWhenTwoPipelinesOutputTheSameMember() {
    // Given the output topics of two pipelines, matched by pattern
    String jobId = Ids.newId();
    String commitId = Ids.newId();
    TestInputTopic<String, Output> risk = input(topics.output("risk"));
    TestInputTopic<String, Output> cost = input(topics.output("cost"));

    // When both write an output for member 1001
    risk.pipeInput("1001", output("risk", "1001", jobId, commitId, "text/plain", "high", inputs()));
    cost.pipeInput("1001", output("cost", "1001", jobId, commitId, "text/plain", "12.5", inputs()));

    // Then both are indexed, each under its pipeline
    KeyValueStore<String, OutputEvent> store = outputsStore();
    assertThat(store.get("risk/1001").pipeline()).isEqualTo("risk");
    assertThat(store.get("cost/1001").pipeline()).isEqualTo("cost");
    assertThat(store.get("1001")).isNull();
  }

  @Test
  void shouldKeepLatestOutputWhenMemberIsRecomputed() {
    // Given an output of a first job
    String firstJob = Ids.newId();
    String secondJob = Ids.newId();
    TestInputTopic<String, Output> risk = input(topics.output("risk"));
    risk.pipeInput(
        "1001", output("risk", "1001", firstJob, Ids.newId(), "text/plain", "low", inputs()));

    // When a later job recomputes the member
    risk.pipeInput(
        "1001", output("risk", "1001", secondJob, Ids.newId(), "text/plain", "high", inputs()));

    // Then the latest output wins, whole, and each job's version is kept
    IndexReads reads = new IndexReads(new DriverStores(driver, () -> true));
    OutputEvent latest = reads.latest("risk", "1001");
    assertThat(latest.jobId()).isEqualTo(secondJob);
    assertThat(latest.output().getOutputHash()).isEqualTo("out-" + "high".hashCode());
    assertThat(reads.version("risk", "1001", firstJob).output().getOutputHash())
        .isEqualTo("out-" + "low".hashCode());
    assertThat(reads.versions("risk", "1001")).hasSize(2);
  }

  @Test
  void shouldApplyOutputEntriesRepartitionedByTheEarlierVersion() {
    // Given what the earlier version left on the repartition topic: each output as its two store
    // entries (latest and version), and a removal as the latest entry's deletion
    String job = Ids.newId();
    Output output = output("risk", "1001", job, Ids.newId(), "text/plain", "low", inputs());
    OutputEvent event = OutputEvent.of(output, "risk.output", 0, 3L, 1_000L);
    TestInputTopic<String, OutputEvent> repartition =
        driver.createInputTopic(
            TestStreams.properties(Path.of("unused")).getProperty("application.id")
                + "-outputs-by-key-repartition",
            Serdes.String().serializer(),
            OutputEvent.serde(topics.outputSerde()).serializer());

    // When they are indexed
    repartition.pipeInput("risk/1001", event);
    repartition.pipeInput(IndexKeys.outputVersion("risk", "1001", job), event);

    // Then the member's latest output and its version are readable
    IndexReads reads = new IndexReads(new DriverStores(driver, () -> true));
    assertThat(reads.latest("risk", "1001").output()).isEqualTo(output);
    assertThat(reads.version("risk", "1001", job).output()).isEqualTo(output);

    // And the removal deletes the latest entry, keeping the version for history
    repartition.pipeInput("risk/1001", (OutputEvent) null);
    assertThat(outputsStore().get("risk/1001")).isNull();
    assertThat(reads.version("risk", "1001", job)).isNotNull();
  }

  @Test
  void shouldDeleteOutputWhenTombstoneArrives() {
    // Given an indexed output
    TestInputTopic<String, Output> risk = input(topics.output("risk"));
    risk.pipeInput(
        "1001", output("risk", "1001", Ids.newId(), Ids.newId(), "text/plain", "low", inputs()));

    // When compaction's tombstone for the member arrives
    risk.pipeInput("1001", (Output) null);

    // Then the output is gone from the index
    assertThat(outputsStore().get("risk/1001")).isNull();
  }

  @Test
  void shouldPurgeEveryIndexEntryOfTheMemberAndRedactItsRowsWhenItsOutputsAreErased() {
    // Given two versions of the erased member's risk output and one of another member, summary's
    // output reading both members' risk outputs, and datum results (one failed) of each
    String erased = "member-erased-77";
    String secret = "secret-score-";
    String[] riskJobs = {Ids.newId(), Ids.newId(), Ids.newId()};
    String summaryJob = Ids.newId();
    TestInputTopic<String, Output> risk = input(topics.output("risk"));
    TestInputTopic<String, Output> summary = input(topics.output("summary"));
    risk.pipeInput(
        erased,
        output("risk", erased, riskJobs[0], Ids.newId(), "text/plain", secret + 1, inputs()));
    risk.pipeInput(
        erased,
        output("risk", erased, riskJobs[1], Ids.newId(), "text/plain", secret + 2, inputs()));
    risk.pipeInput(
        "2002", output("risk", "2002", riskJobs[1], Ids.newId(), "text/plain", "fine", inputs()));
    summary.pipeInput(
        "p7",
        output(
            "summary",
            "p7",
            summaryJob,
            Ids.newId(),
            "text/plain",
            "two members",
            List.of(
                inputRef("risk.output", 0, 1L, "output"),
                inputRef("risk.output", 0, 2L, "output"))));
    TestInputTopic<String, DatumResult> results = input(topics.datumResults);
    results.pipeInput(
        riskJobs[0], datumResult(riskJobs[0], erased, DatumState.SUCCESS, "a", false));
    results.pipeInput(
        riskJobs[1], datumResult(riskJobs[1], erased, DatumState.SUCCESS, "b", false));
    results.pipeInput(riskJobs[2], datumResult(riskJobs[2], erased, DatumState.FAILED, "c", false));
    results.pipeInput(
        riskJobs[1], datumResult(riskJobs[1], "2002", DatumState.SUCCESS, "d", false));
    Map<String, String> before = allEntries();
    assertThat(before.keySet()).anyMatch(entry -> entry.contains(erased));

    // When the tombstone of the member's erasure arrives on risk.output
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.JOB_ID, Headers.bytes(Ids.newId()));
    headers.add(Headers.ERASURE, Headers.bytes("erasure-1"));
    risk.pipeInput(new TestRecord<String, Output>(erased, null, headers, Fixtures.T0 + 900));

    // Then no entry of any store holds the member's key or its outputs' data
    Map<String, String> after = allEntries();
    assertThat(after.keySet())
        .isNotEmpty()
        .noneMatch(entry -> entry.contains(erased) || entry.contains(secret));
    // And the rows index keeps a redaction at each of its positions, the tombstone's too (the
    // driver numbers offsets across its input topics: summary's output took offset 3)
    KeyValueStore<String, OutputEvent> rows = driver.getKeyValueStore(LineageStores.ROWS_STORE);
    for (long offset : new long[] {0, 1, 4}) {
      OutputEvent redaction = rows.get(IndexKeys.writtenAt("risk.output/0/" + offset));
      assertThat(redaction.redacted()).isTrue();
      assertThat(redaction.erasure()).isEqualTo("erasure-1");
      assertThat(redaction.pipeline()).isEqualTo("risk");
    }
    // And every entry that names neither the member nor a purged position is unchanged
    Map<String, String> untouched = new java.util.TreeMap<>(before);
    untouched
        .keySet()
        .removeIf(entry -> entry.contains(erased) || entry.contains("risk.output/0/"));
    assertThat(after).containsAllEntriesOf(untouched);
    assertThat(outputsStore().get("risk/2002").jobId()).isEqualTo(riskJobs[1]);
    assertThat(outputsStore().get("summary/p7").jobId()).isEqualTo(summaryJob);
    assertThat(outputsStore().get(IndexKeys.outputVersion("summary", "p7", summaryJob)).output())
        .satisfies(output -> assertThat(output.getInputs()).hasSize(2));
    assertThat(rows.get(IndexKeys.writtenAt("risk.output/0/2")).member()).isEqualTo("2002");
    assertThat(rows.get(IndexKeys.readersPrefix("risk.output/0/2") + "summary\0p7\0" + summaryJob))
        .isNotNull();
    assertThat(rows.get(IndexKeys.readersPrefix("risk.output/0/1") + "summary\0p7\0" + summaryJob))
        .isNotNull();
    assertThat(
            driver
                .<String, DatumResult>getKeyValueStore(LineageStores.DATUMS_STORE)
                .get(IndexKeys.datum(riskJobs[1], "2002")))
        .isNotNull();
  }

  @Test
  void shouldSkipUndecodableRecordAndKeepIndexingWhenValueIsNotAvro() {
    // Given a record that is not in the registry's wire format
    TestInputTopic<String, byte[]> raw =
        driver.createInputTopic(
            topics.jobs.name(), Serdes.String().serializer(), Serdes.ByteArray().serializer());
    raw.pipeInput(Ids.newId(), new byte[] {1, 2, 3});

    // When a valid job follows
    String jobId = Ids.newId();
    input(topics.jobs).pipeInput(jobId, job(jobId, Ids.newId(), "risk", JobState.RUNNING, 0));

    // Then the valid job is indexed
    KeyValueStore<String, Job> store = driver.getKeyValueStore(LineageStores.JOBS_STORE);
    assertThat(store.get(jobId)).isNotNull();
  }

  @Test
  void shouldKeepTheOutputTopicsPatternOutOfEverySubTopologyWithAStore() {
    // Given the topology's sub-topologies
    var subtopologies = LineageService.buildTopology(topics).describe().subtopologies();

    // Then the one reading the output topics' pattern (their partition counts differ per pipeline)
    // holds no store: a store there would need every output topic co-partitioned with it
    for (var subtopology : subtopologies) {
      String text = subtopology.toString();
      if (text.contains("Source: outputs-source")) {
        assertThat(text).as(text).doesNotContainPattern("stores: \\[[a-z]");
      }
    }
  }

  @Test
  void shouldKeepInternalTopicAndStoreNamesWhenTopologyIsBuilt() {
    // Given the topology
    String description = LineageService.buildTopology(topics).describe().toString();

    // Then its repartition topics and stores have the stable names deployments rely on
    assertThat(description)
        .contains("topic: jobs-by-commit-repartition")
        .contains("topic: outputs-by-key-repartition")
        .contains("topic: rows-by-position-repartition")
        .contains("topic: row-purges-repartition")
        .contains("topic: datum-erasures-repartition")
        .contains("topic: jobs-by-index-key-repartition")
        .contains("topic: commits-by-index-key-repartition")
        .contains("stores: [commits-store]")
        .contains("stores: [jobs-store]")
        .contains("stores: [commit-jobs-store]")
        .contains("stores: [outputs-store]")
        .contains("stores: [rows-store]")
        .contains("stores: [job-index-store]")
        .contains("stores: [commit-index-store]")
        .contains("stores: [datums-store, datum-states-store]");
  }

  private <V> TestInputTopic<String, V> input(Topic<String, V> topic) {
    return driver.createInputTopic(
        topic.name(), topic.keySerde().serializer(), topic.valueSerde().serializer());
  }

  /**
   * Every entry of every store as {@code <store> <key bytes> = <value bytes>}, bytes decoded as
   * ISO-8859-1 (one char a byte) so a search for UTF-8 text finds it wherever it is.
   */
  private Map<String, String> allEntries() {
    Map<String, String> entries = new java.util.TreeMap<>();
    for (String store : driver.getAllStateStores().keySet()) {
      try (KeyValueIterator<Object, Object> all =
          driver.<Object, Object>getKeyValueStore(store).all()) {
        all.forEachRemaining(
            entry ->
                entries.put(
                    store + " " + text(bytes(entry.key)),
                    entry.value == null ? "" : text(bytes(entry.value))));
      }
    }
    return entries;
  }

  @SuppressWarnings("unchecked")
  private byte[] bytes(Object value) {
    if (value instanceof String text) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
    if (value instanceof OutputEvent event) {
      return OutputEvent.serde(topics.outputSerde()).serializer().serialize("t", event);
    }
    if (value instanceof SpecificRecord record) {
      try {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<SpecificRecord>((Class<SpecificRecord>) record.getClass())
            .write(record, encoder);
        encoder.flush();
        return out.toByteArray();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return String.valueOf(value).getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  private KeyValueStore<String, Commit> commitsStore() {
    return driver.getKeyValueStore(LineageStores.COMMITS_STORE);
  }

  private KeyValueStore<String, OutputEvent> outputsStore() {
    return driver.getKeyValueStore(LineageStores.OUTPUTS_STORE);
  }

  private static List<io.tusk.schemas.InputRef> inputs() {
    return List.of(inputRef("claims.updates", 0, 7L, "CONDITION_ERA"));
  }

  private static List<String> sorted(String... ids) {
    return java.util.Arrays.stream(ids).sorted().toList();
  }
}
