package io.tusk.partition;

import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.Claim;
import io.tusk.schemas.Claims;
import io.tusk.schemas.ClaimsDone;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.Reject;
import io.tusk.schemas.ReleasesDone;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.Seal;
import io.tusk.schemas.SealRequest;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * A {@link TopologyTestDriver} over {@link PartitionTopology} with an in-memory registry, a repo
 * {@value #REPO} (table {@code claims}: PERSON_ID, CLAIM_ID, AMOUNT, row key CLAIM_ID; table {@code
 * events}: PERSON_ID, CODE, no row key) with 3 update partitions and one pipeline {@value
 * #PIPELINE}, and helpers to write member events and read every output.
 */
final class TopologyFixture implements AutoCloseable {
  static final String REPO = "claims";
  static final String PIPELINE = "risk";
  static final String SPEC_HASH = "spec-hash-1";
  static final long NOW = Instant.parse("2026-11-26T00:00:00Z").toEpochMilli();

  final Topics topics = new Topics(new InMemorySchemaRegistryClient());
  final Map<String, RepoSpec> specs = new ConcurrentHashMap<>();
  final Map<String, PipelineSpec> pipelines = new ConcurrentHashMap<>();

  /** The oldest branch head's sequence per repo (none: no branch holds history back). */
  final Map<String, Long> branchHeads = new ConcurrentHashMap<>();

  final TopologyTestDriver driver;
  private final Map<String, TestInputTopic<String, MemberEvent>> byMember = new HashMap<>();
  private TestOutputTopic<String, SealRequest> sealRequestsSeen;
  private boolean playsCommitService = true;
  private boolean announcing;

  /** Whether the fixture answers seal requests with JobDone, as the commit service would. */
  TopologyFixture playCommitService(boolean plays) {
    this.playsCommitService = plays;
    return this;
  }

  TopologyFixture() {
    this(CompletionSettings.DEFAULTS);
  }

  TopologyFixture(CompletionSettings completion) {
    specs.put(REPO, spec(REPO));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "partition-topology-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    // A directory of its own: test JVMs running at once must not share the default one.
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir());
    driver =
        new TopologyTestDriver(
            PartitionTopology.build(
                topics,
                name -> Optional.ofNullable(specs.get(name)),
                name -> Optional.ofNullable(pipelines.get(name)),
                name -> branchHeads.getOrDefault(name, Long.MAX_VALUE),
                completion),
            props,
            Instant.ofEpochMilli(NOW));
  }

  /** The member versions in the driver's stores, read as the service reads them. */
  MemberVersions versions() {
    return new MemberVersions(
        driver.getKeyValueStore(PartitionStores.MEMBER_VERSIONS),
        driver.getKeyValueStore(PartitionStores.MEMBER_CHUNKS),
        driver.getKeyValueStore(PartitionStores.MEMBER_DELTAS));
  }

  /** The member's newest version with all its rows inline, or null when it has none. */
  MemberObject latest(String repo, String member) {
    MemberVersions versions = versions();
    MemberObject newest = versions.asOf(repo, member, Long.MAX_VALUE);
    return newest == null ? null : versions.whole(newest);
  }

  /** A job of {@value #PIPELINE}. */
  static JobRef jobRef(String jobId, JobMode mode, String specHash, JobKind kind) {
    return JobRef.newBuilder()
        .setPipeline(PIPELINE)
        .setJobId(jobId)
        .setSpecHash(specHash)
        .setMode(mode)
        .setKind(kind)
        .build();
  }

  /** The last state written of job {@code id} (there must be one). */
  static Job lastJob(TestOutputTopic<String, Job> jobs, String id) {
    List<Job> written = jobs.readValuesToList().stream().filter(j -> j.getId().equals(id)).toList();
    if (written.isEmpty()) {
      throw new AssertionError("no state of job " + id + " was written");
    }
    return written.get(written.size() - 1);
  }

  /** The spec of {@value #PIPELINE} (a Java transform) with a job timeout. */
  static PipelineSpec pipeline(long jobTimeoutMs) {
    return PipelineSpec.newBuilder()
        .setName(PIPELINE)
        .setInputRepo(REPO)
        .setTransform(
            io.tusk.schemas.TransformSpec.newBuilder()
                .setKind(io.tusk.schemas.TransformKind.JAVA)
                .setName("t")
                .build())
        .setParallelism(1)
        .setSpecHash(SPEC_HASH)
        .setCreatedAt(0)
        .setJobTimeoutMs(jobTimeoutMs)
        .build();
  }

  private static String stateDir() {
    try {
      return java.nio.file.Files.createTempDirectory("partition-topology-test-").toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static RepoSpec spec(String name) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(RowFormat.CSV)
        .setDefaultTable("claims")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("claims")
                    .setColumns(List.of("PERSON_ID", "CLAIM_ID", "AMOUNT"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("CLAIM_ID"))
                    .build(),
                TableSpec.newBuilder()
                    .setName("events")
                    .setColumns(List.of("PERSON_ID", "CODE"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of())
                    .build()))
        .setUpdatePartitions(3)
        .setMemberPartitions(1)
        .setCreatedAt(0)
        .build();
  }

  /** A row of table claims at source partition/offset. */
  static Row claim(int partition, long offset, String person, String claim, String amount) {
    return new Row("claims", Arrays.asList(person, claim, amount), partition, offset);
  }

  /** A row of table events at source partition/offset. */
  static Row event(int partition, long offset, String person, String code) {
    return new Row("events", Arrays.asList(person, code), partition, offset);
  }

  void row(String repo, Row row) {
    input(repo).pipeInput(row.getValues().get(0), new MemberEvent(row));
  }

  void row(Row row) {
    row(REPO, row);
  }

  void barrier(String repo, int partition, long position) {
    input(repo).pipeInput(null, new MemberEvent(new Barrier(partition, position)));
  }

  void barrier(int partition, long position) {
    barrier(REPO, partition, position);
  }

  void reject(int partition, long offset) {
    input(REPO)
        .pipeInput(null, new MemberEvent(new Reject(partition, offset, "WRONG_FIELD_COUNT")));
  }

  void seal(String repo, Commit commit, int memberPartitions) {
    input(repo).pipeInput(null, new MemberEvent(new Seal(commit, memberPartitions)));
    announceEnds();
  }

  void seal(Commit commit) {
    seal(REPO, commit, 1);
  }

  /** Barriers for every partition at the commit's end offsets. */
  void barriersAtEnd(Commit commit) {
    for (PartitionOffset end : commit.getEndOffsets()) {
      barrier(commit.getRepo(), end.getPartition(), end.getOffset());
    }
  }

  /** A commit of {@value #REPO} with one job of {@value #PIPELINE}. */
  static Commit commit(long sequence, long[] start, long[] end) {
    return commit(REPO, sequence, start, end);
  }

  static Commit commit(String repo, long sequence, long[] start, long[] end) {
    String id = repo + "-commit-" + sequence;
    return Commit.newBuilder()
        .setId(id)
        .setRepo(repo)
        .setSequence(sequence)
        .setParent(sequence == 1 ? null : repo + "-commit-" + (sequence - 1))
        .setGlobalId(id)
        .setCreatedAt(1000 * sequence)
        .setStartOffsets(offsets(start))
        .setEndOffsets(offsets(end))
        .setJobs(
            List.of(
                JobRef.newBuilder()
                    .setPipeline(PIPELINE)
                    .setJobId("job-" + id)
                    .setSpecHash(SPEC_HASH)
                    .build()))
        .setStats(null)
        .build();
  }

  private static List<PartitionOffset> offsets(long[] offsets) {
    List<PartitionOffset> list = new ArrayList<>();
    for (int p = 0; p < offsets.length; p++) {
      list.add(new PartitionOffset(p, offsets[p]));
    }
    return list;
  }

  void commitPart(CommitPart part) {
    driver
        .createInputTopic(
            TopicNames.COMMIT_PARTS,
            topics.keySerde().serializer(),
            topics.commitParts.valueSerde().serializer())
        .pipeInput(part.getCommit().getId(), part);
  }

  void jobPart(JobPart part) {
    driver
        .createInputTopic(
            TopicNames.JOB_PARTS,
            topics.keySerde().serializer(),
            topics.jobParts.valueSerde().serializer())
        .pipeInput(part.getJob().getJobId(), part);
    announceEnds();
  }

  /** A part of job {@code jobId} of {@value #PIPELINE} over commit 1 of {@value #REPO}. */
  static JobPart part(
      String jobId, JobMode mode, int partition, int partitions, long total, long toProcess) {
    return JobPart.newBuilder()
        .setJob(
            JobRef.newBuilder()
                .setPipeline(PIPELINE)
                .setJobId(jobId)
                .setSpecHash(SPEC_HASH)
                .setMode(mode)
                .build())
        .setRepo(REPO)
        .setCommitId("c1")
        .setGlobalId("g1")
        .setSequence(1)
        .setMemberPartition(partition)
        .setMemberPartitions(partitions)
        .setTotal(total)
        .setToProcess(toProcess)
        .setCreatedAt(NOW)
        .build();
  }

  void datumResult(String jobId, String member, DatumState state) {
    datumResult(result(jobId, member, state).build());
  }

  static DatumResult.Builder result(String jobId, String member, DatumState state) {
    return DatumResult.newBuilder()
        .setJobId(jobId)
        .setPipeline(PIPELINE)
        .setMember(member)
        .setDatumHash("h-" + member)
        .setState(state)
        .setAttempts(1)
        .setProcessorId("test")
        .setStartedAt(0)
        .setDurationMicros(10);
  }

  void datumResult(DatumResult result) {
    driver
        .createInputTopic(
            TopicNames.DATUM_RESULTS,
            topics.keySerde().serializer(),
            topics.datumResults.valueSerde().serializer())
        .pipeInput(result.getJobId(), result);
    announceEnds();
  }

  void event(String repo, String key, Object event) {
    input(repo).pipeInput(key, new MemberEvent(event));
    announceEnds();
  }

  /** A job request over an existing commit, as the commit service writes it. */
  void jobRequest(Commit commit, JobRef job, int memberPartitions) {
    event(
        commit.getRepo(),
        null,
        JobRequest.newBuilder()
            .setCommit(commit)
            .setJobs(List.of(job))
            .setMemberPartitions(memberPartitions)
            .build());
  }

  /** The datum processor's outcome of a datum: DatumDone to by-member, then the DatumResult. */
  void done(Datum datum, DatumState state) {
    done(datum, state, false);
  }

  void done(Datum datum, DatumState state, boolean restart) {
    doneWithoutAnnouncing(datum, state, restart);
  }

  /**
   * Plays the commit service: for every seal request the tracker wrote since the last call, a
   * JobDone to the job's repo (docs/internals.md: the commit service announces a job's end after
   * sealing its output commits). Every input method calls it, unless a test reads the seal requests
   * itself ({@link #playCommitService}).
   */
  void announceEnds() {
    if (!playsCommitService || announcing) {
      return;
    }
    announcing = true;
    try {
      announcePending();
    } finally {
      announcing = false;
    }
  }

  private void announcePending() {
    if (sealRequestsSeen == null) {
      sealRequestsSeen = sealRequests();
    }
    for (SealRequest request : sealRequestsSeen.readValuesToList()) {
      if (!request.getRepo().isEmpty()) {
        event(
            request.getRepo(),
            null,
            JobDone.newBuilder()
                .setPipeline(request.getPipeline())
                .setJobId(request.getJobId())
                .setRound(request.getRound())
                .build());
      }
    }
  }

  private void doneWithoutAnnouncing(Datum datum, DatumState state, boolean restart) {
    String member = datum.getMemberObject().getMember();
    // As the processor does: a removal (or recovered) datum leaves no output; a compare-only
    // datum only reports its result.
    boolean removal = datum.getMemberObject().getHash().isEmpty();
    String output = state == DatumState.SUCCESS && !removal ? outputHash(datum) : null;
    if (!datum.getCompareOnly()) {
      event(
          datum.getMemberObject().getRepo(),
          member,
          DatumDone.newBuilder()
              .setPipeline(datum.getPipeline())
              .setMember(member)
              .setJobId(datum.getJobId())
              .setDatumHash(datum.getDatumHash())
              .setSucceeded(state != DatumState.FAILED)
              .setOutputHash(output)
              .build());
    }
    DatumResult.Builder result =
        result(datum.getJobId(), member, state)
            .setPipeline(datum.getPipeline())
            .setDatumHash(datum.getDatumHash())
            .setRepo(datum.getMemberObject().getRepo())
            .setOutputHash(output)
            .setRestart(restart);
    if (datum.getExpectedOutputHash() != null && output != null) {
      result.setIdentical(datum.getExpectedOutputHash().equals(output));
    }
    datumResult(result.build());
  }

  /** The output hash the fixture's processor reports for a datum. */
  static String outputHash(Datum datum) {
    return "out-" + datum.getDatumHash();
  }

  /** Every datum succeeds. */
  void succeed(List<Datum> datums) {
    datums.forEach(d -> done(d, DatumState.SUCCESS));
  }

  /** Claims-done markers of member partitions 1..n-1 (this driver is partition 0). */
  void otherClaimsDone(String repo, long sequence, int partitions) {
    TestInputTopic<String, RowOwnerEvent> owners =
        driver.createInputTopic(
            TopicNames.rowOwners(repo),
            topics.keySerde().serializer(),
            topics.rowOwnerEventSerde().serializer());
    for (int p = 1; p < partitions; p++) {
      owners.pipeInput(
          null,
          new RowOwnerEvent(
              ClaimsDone.newBuilder()
                  .setSequence(sequence)
                  .setMemberPartition(p)
                  .setMemberPartitions(partitions)
                  .build()));
    }
  }

  /** A claim as member partition {@code partition} sends it. */
  void claim(String repo, Claim claim) {
    rowOwnerEvent(repo, claim, new RowOwnerEvent(claim));
  }

  /** A batch of claims as a member partition sends it: keyed by its first claim's key. */
  void claims(String repo, List<Claim> claims) {
    rowOwnerEvent(repo, claims.get(0), new RowOwnerEvent(new Claims(claims)));
  }

  private void rowOwnerEvent(String repo, Claim keyedBy, RowOwnerEvent event) {
    driver
        .createInputTopic(
            TopicNames.rowOwners(repo),
            topics.keySerde().serializer(),
            topics.rowOwnerEventSerde().serializer())
        .pipeInput(RowMoves.ownerKey(keyedBy.getTable(), keyedBy.getRowKey()), event);
  }

  /** Releases-done markers of row-owner partitions 1..n-1 (this driver is partition 0). */
  void otherReleasesDone(String repo, long sequence, int partitions) {
    for (int q = 1; q < partitions; q++) {
      event(
          repo,
          null,
          ReleasesDone.newBuilder()
              .setSequence(sequence)
              .setRowOwnerPartition(q)
              .setRowOwnerPartitions(partitions)
              .build());
    }
  }

  void tick() {
    driver.advanceWallClockTime(Duration.ofMillis(200));
    announceEnds();
  }

  TestOutputTopic<String, Datum> datums() {
    return driver.createOutputTopic(
        TopicNames.datums(PIPELINE),
        topics.keySerde().deserializer(),
        topics.datumSerde().deserializer());
  }

  TestOutputTopic<String, MemberObject> members(String repo) {
    return driver.createOutputTopic(
        TopicNames.members(repo),
        topics.keySerde().deserializer(),
        topics.memberObjectSerde().deserializer());
  }

  TestOutputTopic<String, CommitPart> commitParts() {
    return driver.createOutputTopic(
        TopicNames.COMMIT_PARTS,
        topics.keySerde().deserializer(),
        topics.commitParts.valueSerde().deserializer());
  }

  TestOutputTopic<String, Commit> commits() {
    return driver.createOutputTopic(
        TopicNames.COMMITS,
        topics.keySerde().deserializer(),
        topics.commits.valueSerde().deserializer());
  }

  TestOutputTopic<String, JobPart> jobParts() {
    return driver.createOutputTopic(
        TopicNames.JOB_PARTS,
        topics.keySerde().deserializer(),
        topics.jobParts.valueSerde().deserializer());
  }

  TestOutputTopic<String, SealRequest> sealRequests() {
    return driver.createOutputTopic(
        TopicNames.SEAL_REQUESTS,
        topics.keySerde().deserializer(),
        topics.sealRequests.valueSerde().deserializer());
  }

  /** Everything written to {@code <repo>.by-member} by the topology itself (releases). */
  TestOutputTopic<String, MemberEvent> byMemberOut(String repo) {
    return driver.createOutputTopic(
        TopicNames.byMember(repo),
        topics.keySerde().deserializer(),
        topics.memberEventSerde().deserializer());
  }

  TestOutputTopic<String, Job> jobs() {
    return driver.createOutputTopic(
        TopicNames.JOBS, topics.keySerde().deserializer(), topics.jobs.valueSerde().deserializer());
  }

  private TestInputTopic<String, MemberEvent> input(String repo) {
    return byMember.computeIfAbsent(
        repo,
        r ->
            driver.createInputTopic(
                TopicNames.byMember(r),
                topics.keySerde().serializer(),
                topics.memberEventSerde().serializer()));
  }

  @Override
  public void close() {
    // The driver wipes its state directory on close.
    driver.close();
  }
}
