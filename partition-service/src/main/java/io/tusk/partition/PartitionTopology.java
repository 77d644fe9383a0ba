package io.tusk.partition;

import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Datum;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.Release;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowChunk;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.Seal;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams application {@value #APPLICATION_ID}: four sub-topologies, the member-side
 * steps of the commit protocol (docs/internals.md) and of jobs (docs/versioning-and-processing.md).
 *
 * <ol>
 *   <li>Member topology: every {@code <repo>.by-member} topic (pattern subscription, so new repos
 *       join at run time) into {@link MemberProcessor}, which keeps member versions, writes member
 *       objects to {@code <repo>.members}, row-key claims to {@code <repo>.row-owners}, datums to
 *       {@code <pipeline>.datums}, and parts to {@code tusk.commit-parts} and {@code
 *       tusk.job-parts}.
 *   <li>Row owners: every {@code <repo>.row-owners} topic into {@link RowOwnerProcessor}, which
 *       writes releases of moved rows and releases-done markers to {@code <repo>.by-member}.
 *   <li>Commit aggregator: {@code tusk.commit-parts} into {@link CommitAggregator}, which writes
 *       {@code tusk.commits} with their stats.
 *   <li>Job tracker: {@code tusk.job-parts} and {@code tusk.datum-results} into {@link JobTracker},
 *       which writes {@code tusk.jobs} and, when a job ends, {@code tusk.seal-requests} (the commit
 *       service then seals output commits and announces the end with {@code JobDone}).
 * </ol>
 *
 * <p>Store values that are Avro types use the registry-backed serdes of {@link Topics} (so they
 * evolve like topic values); the service's own bookkeeping ({@link Progress}, {@link JobProgress},
 * {@link DatumStatus}, {@link PipelineJobs}, {@link CommitMark}) uses small versioned binary
 * encodings. Store keys are {@link StoreKeys}.
 */
public final class PartitionTopology {
  /** The Kafka Streams application ID (a literal: it names the internal topics and group). */
  public static final String APPLICATION_ID = "tusk-partition";

  private PartitionTopology() {}

  /**
   * Builds the topology.
   *
   * @param topics the topics and their serdes
   * @param repos the spec of a repo by name (empty while unknown: its commits wait)
   * @param pipelines the spec of a pipeline by name (for job timeouts)
   * @param oldestBranchHead the sequence of a repo's oldest branch head (history is kept back to
   *     it; Long.MAX_VALUE: no branch has a head)
   * @param completion slice bounds and punctuation interval of the member topology
   */
  public static Topology build(
      Topics topics,
      Function<String, Optional<RepoSpec>> repos,
      Function<String, Optional<PipelineSpec>> pipelines,
      ToLongFunction<String> oldestBranchHead,
      CompletionSettings completion) {
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(repos, "repos");
    Objects.requireNonNull(pipelines, "pipelines");
    Objects.requireNonNull(oldestBranchHead, "oldestBranchHead");
    Objects.requireNonNull(completion, "completion");
    Serde<String> keys = topics.keySerde();
    Topology topology = new Topology();

    // Step 3: one task per member partition number serves that partition of every repo.
    topology.addSource(
        "by-member-source",
        keys.deserializer(),
        topics.memberEventSerde().deserializer(),
        TopicNames.BY_MEMBER_PATTERN);
    topology.addProcessor(
        "member-processor",
        () -> new MemberProcessor(repos, oldestBranchHead, completion),
        "by-member-source");
    String member = "member-processor";
    topology.addStateStore(store(PartitionStores.PENDING_ROWS, topics.avro(Row.class)), member);
    topology.addStateStore(store(PartitionStores.PENDING_REJECTS, Serdes.String()), member);
    topology.addStateStore(store(PartitionStores.BARRIERS, Serdes.Long()), member);
    topology.addStateStore(store(PartitionStores.SEALS, topics.avro(Seal.class)), member);
    topology.addStateStore(
        store(PartitionStores.PENDING_DELETES, topics.avro(RowDelete.class)), member);
    topology.addStateStore(
        store(PartitionStores.MEMBER_VERSIONS, topics.memberObjectSerde()), member);
    topology.addStateStore(
        store(PartitionStores.MEMBER_CHUNKS, topics.avro(RowChunk.class)), member);
    topology.addStateStore(store(PartitionStores.MEMBER_DELTAS, VersionDelta.SERDE), member);
    topology.addStateStore(store(PartitionStores.CHANGED_MEMBERS, Serdes.Long()), member);
    topology.addStateStore(store(PartitionStores.COMMIT_INDEX, CommitMark.SERDE), member);
    topology.addStateStore(store(PartitionStores.DATUM_STATES, DatumStatus.SERDE), member);
    topology.addStateStore(store(PartitionStores.FAILED_DATUMS, Serdes.String()), member);
    topology.addStateStore(store(PartitionStores.JOB_QUEUE, topics.avro(JobRequest.class)), member);
    topology.addStateStore(store(PartitionStores.PIPELINE_JOBS, PipelineJobs.SERDE), member);
    topology.addStateStore(
        store(PartitionStores.PENDING_RELEASES, topics.avro(Release.class)), member);
    topology.addStateStore(store(PartitionStores.RELEASE_MARKERS, Serdes.Long()), member);
    topology.addStateStore(store(PartitionStores.PENDING_ERASURES, Serdes.String()), member);
    topology.addStateStore(store(PartitionStores.MEMBER_ERASURES, MemberErasure.SERDE), member);
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PartitionStores.PROGRESS), keys, Progress.SERDE),
        member);
    // Records whose value does not name their repo carry it in a header.
    TopicNameExtractor<String, Object> membersTopic =
        (key, value, context) -> TopicNames.members(repoOf(context));
    topology.addSink(
        PartitionSinks.MEMBERS,
        membersTopic,
        keys.serializer(),
        topics.memberObjectSerde().serializer(),
        member);
    TopicNameExtractor<String, Datum> datumsTopic =
        (key, datum, context) -> TopicNames.datums(datum.getPipeline());
    topology.addSink(
        PartitionSinks.DATUMS,
        datumsTopic,
        keys.serializer(),
        topics.datumSerde().serializer(),
        member);
    topology.addSink(
        PartitionSinks.COMMIT_PARTS,
        topics.commitParts.name(),
        keys.serializer(),
        topics.commitParts.valueSerde().serializer(),
        member);
    topology.addSink(
        PartitionSinks.JOB_PARTS,
        topics.jobParts.name(),
        keys.serializer(),
        topics.jobParts.valueSerde().serializer(),
        member);
    TopicNameExtractor<String, RowOwnerEvent> rowOwnersTopic =
        (key, value, context) -> TopicNames.rowOwners(repoOf(context));
    topology.addSink(
        PartitionSinks.CLAIMS,
        rowOwnersTopic,
        keys.serializer(),
        topics.rowOwnerEventSerde().serializer(),
        member);
    topology.addSink(
        PartitionSinks.CLAIM_MARKERS,
        rowOwnersTopic,
        keys.serializer(),
        topics.rowOwnerEventSerde().serializer(),
        PartitionTopology::everyPartition,
        member);

    // Row moves: claims are keyed by row key, so one task sees every claim of a key.
    topology.addSource(
        "row-owners-source",
        keys.deserializer(),
        topics.rowOwnerEventSerde().deserializer(),
        TopicNames.ROW_OWNERS_PATTERN);
    String owner = "row-owner-processor";
    topology.addProcessor(owner, RowOwnerProcessor::new, "row-owners-source");
    topology.addStateStore(store(PartitionStores.ROW_OWNERS, RowOwnerProcessor.Owner.SERDE), owner);
    topology.addStateStore(store(PartitionStores.CLAIM_MARKERS, Serdes.Long()), owner);
    topology.addStateStore(
        store(PartitionStores.CONTESTED_KEYS, RowOwnerProcessor.Contest.SERDE), owner);
    TopicNameExtractor<String, MemberEvent> byMemberTopic =
        (key, value, context) -> TopicNames.byMember(repoOf(context));
    topology.addSink(
        PartitionSinks.RELEASES,
        byMemberTopic,
        keys.serializer(),
        topics.memberEventSerde().serializer(),
        owner);
    topology.addSink(
        PartitionSinks.RELEASE_MARKERS,
        byMemberTopic,
        keys.serializer(),
        topics.memberEventSerde().serializer(),
        PartitionTopology::everyPartition,
        owner);

    // Step 4: parts are keyed by commit ID, so one task sees all parts of a commit.
    topology.addSource(
        "commit-parts-source",
        keys.deserializer(),
        topics.commitParts.valueSerde().deserializer(),
        topics.commitParts.name());
    topology.addProcessor("commit-aggregator", CommitAggregator::new, "commit-parts-source");
    topology.addStateStore(
        store(PartitionStores.COMMIT_PARTS, topics.commitParts.valueSerde()), "commit-aggregator");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PartitionStores.AGGREGATED_COMMITS),
            keys,
            Serdes.Long()),
        "commit-aggregator");
    topology.addSink(
        PartitionSinks.COMMITS,
        topics.commits.name(),
        keys.serializer(),
        topics.commits.valueSerde().serializer(),
        "commit-aggregator");

    // Step 6: parts and results share key and partition count, so they meet in one task.
    topology.addSource(
        "job-parts-source",
        keys.deserializer(),
        topics.jobParts.valueSerde().deserializer(),
        topics.jobParts.name());
    topology.addSource(
        "datum-results-source",
        keys.deserializer(),
        topics.datumResults.valueSerde().deserializer(),
        topics.datumResults.name());
    topology.addProcessor(
        "job-tracker",
        () -> new JobTracker(pipelines, completion.interval()),
        "job-parts-source",
        "datum-results-source");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PartitionStores.JOB_PROGRESS),
            keys,
            new JobProgress.StoreSerde(topics.jobs.valueSerde())),
        "job-tracker");
    topology.addStateStore(
        store(PartitionStores.JOB_PARTS, topics.jobParts.valueSerde()), "job-tracker");
    topology.addStateStore(store(PartitionStores.JOB_FAILED_MEMBERS, Serdes.Long()), "job-tracker");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PartitionStores.JOB_DEADLINES), keys, Serdes.Long()),
        "job-tracker");
    topology.addSink(
        PartitionSinks.JOBS,
        topics.jobs.name(),
        keys.serializer(),
        topics.jobs.valueSerde().serializer(),
        "job-tracker");
    topology.addSink(
        PartitionSinks.SEAL_REQUESTS,
        topics.sealRequests.name(),
        keys.serializer(),
        topics.sealRequests.valueSerde().serializer(),
        "job-tracker");
    return topology;
  }

  private static String repoOf(RecordContext context) {
    String repo = Headers.text(context.headers(), Headers.REPO);
    if (repo == null) {
      throw new IllegalStateException("record without the " + Headers.REPO + " header");
    }
    return repo;
  }

  /** Sends a record to every partition of its topic. */
  static <K, V> Optional<Set<Integer>> everyPartition(
      String topic, K key, V value, int numPartitions) {
    return Optional.of(IntStream.range(0, numPartitions).boxed().collect(Collectors.toSet()));
  }

  private static <V> StoreBuilder<KeyValueStore<Bytes, V>> store(String name, Serde<V> values) {
    return Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(name), Serdes.Bytes(), values);
  }
}
