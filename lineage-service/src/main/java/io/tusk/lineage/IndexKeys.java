package io.tusk.lineage;

import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Job;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;

/**
 * The composite keys of the index stores ({@link LineageStores}): the keys under which commits,
 * jobs and outputs are indexed besides their own IDs, and the keys of datums and OpenLineage
 * events, with a typed decoder next to each encoder a query decodes. Each key starts with the
 * routing key a query knows ({@code p:<pipeline>}, {@code g:<globalId>}, a job ID, a row position,
 * ...), see {@link StoreKeys}.
 */
final class IndexKeys {
  /** Routing key of the list of every pipeline's jobs. */
  static final String ALL_JOBS = "p:*";

  private IndexKeys() {}

  /** Routing key of a pipeline's jobs, newest first. */
  static String pipelineJobs(String pipeline) {
    return "p:" + pipeline;
  }

  /** Routing key of the commits and jobs of a global ID, oldest first. */
  static String global(String globalId) {
    return "g:" + globalId;
  }

  /** Routing key of a repo's commits, newest first. */
  static String repoCommits(String repo) {
    return "r:" + repo;
  }

  /** Routing key of the output commits a job's end sealed. */
  static String outputCommits(String jobId) {
    return "s:" + jobId;
  }

  /** The datums-store key of a job's datum for a member (routing key: the job). */
  static String datum(String jobId, String member) {
    return StoreKeys.join(jobId, member);
  }

  /** The datums-store prefix of every datum of a job. */
  static String datumsOf(String jobId) {
    return StoreKeys.prefix(jobId);
  }

  /**
   * A datum-states-store key, {@code <job>\0<STATE>\0<member>}: a job's datum for a member in a
   * state, so the datums of a job in one state are a range under {@link #prefix}.
   */
  record DatumStateKey(String jobId, DatumState state, String member) {
    /** The prefix of the keys of a job's datums in {@code state}. */
    static String prefix(String jobId, DatumState state) {
      return StoreKeys.prefix(jobId, state.name());
    }

    /**
     * The key {@link #encode} made.
     *
     * @throws IllegalArgumentException if {@code key} is not a datum-states key
     */
    static DatumStateKey decode(String key) {
      String[] parts = StoreKeys.split(key, 3);
      return new DatumStateKey(parts[0], DatumState.valueOf(parts[1]), parts[2]);
    }

    /** The store key. */
    String encode() {
      return StoreKeys.join(jobId, state.name(), member);
    }
  }

  /** The openlineage-store key of a job's event of one type. */
  static String openLineageEvent(String jobId, String eventType) {
    return StoreKeys.join(jobId, eventType);
  }

  /** The job-index-store entries of a job. */
  static List<KeyValue<String, Job>> ofJob(Job job) {
    String newest = StoreKeys.newestFirst(job.getCreatedAt());
    return List.of(
        KeyValue.pair(StoreKeys.join(pipelineJobs(job.getPipeline()), newest, job.getId()), job),
        KeyValue.pair(StoreKeys.join(ALL_JOBS, newest, job.getId()), job),
        KeyValue.pair(
            StoreKeys.join(
                global(job.getGlobalId()), StoreKeys.number(job.getCreatedAt()), job.getId()),
            job));
  }

  /** The commit-index-store entries of a commit. */
  static List<KeyValue<String, Commit>> ofCommit(Commit commit) {
    List<KeyValue<String, Commit>> keys = new ArrayList<>(3);
    keys.add(
        KeyValue.pair(
            StoreKeys.join(
                global(commit.getGlobalId()),
                StoreKeys.number(commit.getCreatedAt()),
                commit.getId()),
            commit));
    keys.add(
        KeyValue.pair(
            StoreKeys.join(
                repoCommits(commit.getRepo()),
                StoreKeys.newestFirst(commit.getSequence()),
                commit.getId()),
            commit));
    if (commit.getSourceJob() != null) {
      keys.add(
          KeyValue.pair(
              StoreKeys.join(outputCommits(commit.getSourceJob()), commit.getId()), commit));
    }
    return keys;
  }

  /** The outputs-store key of one version of a member's output: the job that wrote it. */
  static String outputVersion(String pipeline, String member, String jobId) {
    return StoreKeys.join(OutputKeyer.key(pipeline, member), jobId);
  }

  /**
   * The outputs-store entries of an output record: the latest output of the member (deleted by a
   * removal) and the version of the job that wrote it (a removal too, so history shows it). The
   * latest entry is whole, not a pointer to the version: a pointer made every latest lookup two
   * reads, measured slower (README "Issue 14: bytes written and kept per commit").
   */
  static List<KeyValue<String, OutputEvent>> ofOutput(OutputEvent event) {
    String latest = OutputKeyer.key(event.pipeline(), event.member());
    if (event.erases()) {
      // No version of its own: under the latest key, it purges every version (OutputIndexer).
      return List.of(KeyValue.pair(latest, event));
    }
    return List.of(
        KeyValue.pair(latest, event.removed() ? null : event),
        KeyValue.pair(outputVersion(event.pipeline(), event.member(), event.jobId()), event));
  }

  /** The rows-store key of the output written at a position. */
  static String writtenAt(String position) {
    return StoreKeys.join(position, "o");
  }

  /** The rows-store prefix of the outputs that read the row at a position. */
  static String readersPrefix(String position) {
    return StoreKeys.prefix(position, "r");
  }

  /**
   * The rows-store entries of an output record: the output written at its own position (so a
   * downstream output's input row on {@code <pipeline>.output} leads back to it), and one reader
   * entry per input row that is an upstream output (so an output leads forward to every output
   * computed from it: the edges of the DAG). Rows of source repos get no reader entries: a source
   * row names its member, whose outputs list their input rows, so indexing every source row of
   * every output (a member's whole row set, again in every job) would buy nothing.
   */
  static List<KeyValue<String, OutputEvent>> ofRows(OutputEvent event) {
    if (event.erases()) {
      // The erasure tombstone's own position names no member either.
      return List.of(
          KeyValue.pair(
              writtenAt(event.position()),
              OutputEvent.redaction(
                  event.pipeline(),
                  event.erasure(),
                  event.topic(),
                  event.partition(),
                  event.offset())));
    }
    OutputEvent pointer = event.pointer();
    List<KeyValue<String, OutputEvent>> keys = new ArrayList<>();
    keys.add(KeyValue.pair(writtenAt(event.position()), pointer));
    for (String edge : readerEdges(event)) {
      keys.add(KeyValue.pair(edge, pointer));
    }
    return keys;
  }

  /**
   * The rows-store keys of the reader entries of an output: {@code <upstream
   * position>\0r\0<pipeline>\0<member>\0<job>} for each of its input rows that is an upstream
   * output.
   */
  static List<String> readerEdges(OutputEvent event) {
    List<String> edges = new ArrayList<>();
    for (InputRef input : OutputIndexer.upstreamRows(event)) {
      String row = OutputEvent.position(input.getTopic(), input.getPartition(), input.getOffset());
      edges.add(
          readersPrefix(row) + StoreKeys.join(event.pipeline(), event.member(), event.jobId()));
    }
    return edges;
  }
}
