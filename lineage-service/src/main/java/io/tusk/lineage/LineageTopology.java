package io.tusk.lineage;

import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lineage indexes as one Kafka Streams topology. Every store is keyed so that what one query
 * reads shares a partition (see {@link StoreKeys}); the stores, what they hold and their serdes are
 * {@link LineageStores}.
 */
final class LineageTopology {
  private static final Logger log = LoggerFactory.getLogger(LineageTopology.class);

  private LineageTopology() {}

  /**
   * Builds the topology.
   *
   * @param outputPartitions partitions of the repartition topics fed from pattern sources, which
   *     cannot be derived while no output topic exists
   * @param openLineage how to emit OpenLineage events, or null for none
   */
  static Topology build(Topics topics, int outputPartitions, OpenLineage openLineage) {
    Objects.requireNonNull(topics, "topics");
    StreamsBuilder builder = new StreamsBuilder();
    Serde<String> keys = topics.keySerde();
    Serde<OutputEvent> events = OutputEvent.serde(topics.outputSerde());

    // Latest version of each commit: the completed record (with stats) replaces the sealed one.
    KTable<String, Commit> commits =
        builder.table(
            topics.commits.name(),
            topics.commits.consumed().withName("commits"),
            Materialized.<String, Commit, KeyValueStore<Bytes, byte[]>>as(
                    LineageStores.COMMITS_STORE)
                .withKeySerde(keys)
                .withValueSerde(topics.commits.valueSerde()));

    // Latest version of each job: every change of counts or state replaces the previous one.
    KTable<String, Job> jobs =
        builder.table(
            topics.jobs.name(),
            topics.jobs.consumed().withName("jobs"),
            Materialized.<String, Job, KeyValueStore<Bytes, byte[]>>as(LineageStores.JOBS_STORE)
                .withKeySerde(keys)
                .withValueSerde(topics.jobs.valueSerde()));

    // Job IDs by commit: re-key by commit ID; a job update subtracts then adds the same ID.
    jobs.groupBy(
            (jobId, job) -> KeyValue.pair(job.getCommitId(), jobId),
            Grouped.with("jobs-by-commit", keys, keys))
        .aggregate(
            List::<String>of,
            (commitId, jobId, ids) -> withJob(ids, jobId),
            (commitId, jobId, ids) -> withoutJob(ids, jobId),
            Named.as("commit-jobs"),
            Materialized.<String, List<String>, KeyValueStore<Bytes, byte[]>>as(
                    LineageStores.COMMIT_JOBS_STORE)
                .withKeySerde(keys)
                .withValueSerde(LineageStores.jobIdsSerde()));

    // Jobs by pipeline (newest first) and by global ID, each list in one partition.
    KStream<String, Job> jobChanges = jobs.toStream(Named.as("job-changes"));
    jobChanges
        .flatMap(
            (jobId, job) -> job == null ? skipTombstone("job", jobId) : IndexKeys.ofJob(job),
            Named.as("job-index-keys"))
        .repartition(
            Repartitioned.<String, Job>as("jobs-by-index-key")
                .withKeySerde(keys)
                .withValueSerde(topics.jobs.valueSerde())
                .withStreamPartitioner(new RoutingPartitioner<>()))
        .toTable(
            Named.as("job-index-table"),
            Materialized.<String, Job, KeyValueStore<Bytes, byte[]>>as(
                    LineageStores.JOB_INDEX_STORE)
                .withKeySerde(keys)
                .withValueSerde(topics.jobs.valueSerde()));

    // Commits by global ID, by repo (newest first) and by the upstream job that sealed them.
    commits
        .toStream(Named.as("commit-changes"))
        .flatMap(
            (commitId, commit) ->
                commit == null ? skipTombstone("commit", commitId) : IndexKeys.ofCommit(commit),
            Named.as("commit-index-keys"))
        .repartition(
            Repartitioned.<String, Commit>as("commits-by-index-key")
                .withKeySerde(keys)
                .withValueSerde(topics.commits.valueSerde())
                .withStreamPartitioner(new RoutingPartitioner<>()))
        .toTable(
            Named.as("commit-index-table"),
            Materialized.<String, Commit, KeyValueStore<Bytes, byte[]>>as(
                    LineageStores.COMMIT_INDEX_STORE)
                .withKeySerde(keys)
                .withValueSerde(topics.commits.valueSerde()));

    // Datum results are keyed by job ID already: index them where they are.
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LineageStores.DATUMS_STORE),
            keys,
            topics.datumResults.valueSerde()));
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LineageStores.DATUM_STATES_STORE),
            keys,
            Serdes.String()));
    builder.stream(
            topics.datumResults.name(), topics.datumResults.consumed().withName("datum-results"))
        .process(
            DatumIndexer::new,
            Named.as("datums-indexer"),
            LineageStores.DATUMS_STORE,
            LineageStores.DATUM_STATES_STORE);

    // Outputs of every pipeline, also those created later, with the position they were written at.
    KStream<String, OutputEvent> outputs =
        builder.stream(
                TopicNames.OUTPUT_PATTERN,
                Consumed.with(keys, topics.outputSerde()).withName("outputs-source"))
            .process(OutputKeyer::new, Named.as("outputs-keyer"));

    // Latest output and every version of a member, in the member's partition. The indexer also
    // purges an erased member's outputs and says what the rows and datum indexes must purge.
    // Timestamped, as when it was a KTable's store: existing state directories and changelogs fit.
    builder.addStateStore(
        Stores.timestampedKeyValueStoreBuilder(
            Stores.persistentTimestampedKeyValueStore(LineageStores.OUTPUTS_STORE), keys, events));
    KStream<String, OutputEvent> purges =
        outputs
            .repartition(
                Repartitioned.<String, OutputEvent>as("outputs-by-key")
                    .withKeySerde(keys)
                    .withValueSerde(events)
                    .withNumberOfPartitions(outputPartitions)
                    .withStreamPartitioner(new RoutingPartitioner<>()))
            .process(OutputIndexer::new, Named.as("outputs-indexer"), LineageStores.OUTPUTS_STORE);

    // An erasure reaches every partition of the datum indexes (keyed by job), see DatumEraser.
    purges
        .filter(OutputIndexer::isErasure, Named.as("datum-erasures-filter"))
        .repartition(
            Repartitioned.<String, OutputEvent>as("datum-erasures")
                .withKeySerde(keys)
                .withValueSerde(events)
                .withNumberOfPartitions(outputPartitions)
                .withStreamPartitioner(new BroadcastPartitioner<>()))
        .process(
            DatumEraser::new,
            Named.as("datums-eraser"),
            LineageStores.DATUMS_STORE,
            LineageStores.DATUM_STATES_STORE);

    // Rows: which output was written at a position, and which outputs read the row at a position;
    // with the redactions and deleted edges of purged outputs.
    // The purges come from the outputs indexer's sub-topology: each stream is repartitioned on its
    // own before they meet, or the pattern source's output topics (of any partition count) and the
    // outputs store would fall into one sub-topology that needs them all co-partitioned.
    KStream<String, OutputEvent> rowPurges =
        purges
            .filterNot(OutputIndexer::isErasure, Named.as("row-purges-filter"))
            .repartition(
                Repartitioned.<String, OutputEvent>as("row-purges")
                    .withKeySerde(keys)
                    .withValueSerde(events)
                    .withNumberOfPartitions(outputPartitions)
                    .withStreamPartitioner(new RoutingPartitioner<>()));
    outputs
        .flatMap((key, event) -> IndexKeys.ofRows(event), Named.as("row-keys"))
        .repartition(
            Repartitioned.<String, OutputEvent>as("rows-by-position")
                .withKeySerde(keys)
                .withValueSerde(events)
                .withNumberOfPartitions(outputPartitions)
                .withStreamPartitioner(new RoutingPartitioner<>()))
        .merge(rowPurges, Named.as("rows-and-purges"))
        .toTable(
            Named.as("rows-table"),
            Materialized.<String, OutputEvent, KeyValueStore<Bytes, byte[]>>as(
                    LineageStores.ROWS_STORE)
                .withKeySerde(keys)
                .withValueSerde(events));

    if (openLineage != null) {
      addOpenLineage(builder, jobChanges, keys, openLineage);
    }
    return builder.build();
  }

  /** Run events per job state change, deduplicated in a store; also to the events topic if set. */
  private static void addOpenLineage(
      StreamsBuilder builder, KStream<String, Job> jobChanges, Serde<String> keys, OpenLineage ol) {
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LineageStores.OPENLINEAGE_STORE),
            keys,
            Serdes.String()));
    OpenLineageEvents events = new OpenLineageEvents(ol.settings(), ol.updatesTopicOfRepo());
    KStream<String, String> emitted =
        jobChanges.process(
            () -> new OpenLineageProcessor(events, ol.sink()),
            Named.as("openlineage-events"),
            LineageStores.OPENLINEAGE_STORE);
    if (!ol.settings().topic().isEmpty()) {
      emitted.to(
          ol.settings().topic(), Produced.with(keys, Serdes.String()).withName("openlineage-sink"));
    }
  }

  private static <V> List<KeyValue<String, V>> skipTombstone(String what, String id) {
    // A repo delete tombstones its commits: they leave the primary store; the secondary indexes
    // keep them (a tombstone has no value to find their keys by) and queries skip them.
    log.debug("A {} tombstone for {} is not removed from the secondary indexes", what, id);
    return List.of();
  }

  /** Sorted, without duplicates: the same job ID may be added again by a replay. */
  private static List<String> withJob(List<String> ids, String jobId) {
    if (ids.contains(jobId)) {
      return ids;
    }
    List<String> result = new ArrayList<>(ids);
    result.add(jobId);
    result.sort(null);
    return result;
  }

  private static List<String> withoutJob(List<String> ids, String jobId) {
    List<String> result = new ArrayList<>(ids);
    result.remove(jobId);
    return result;
  }
}
