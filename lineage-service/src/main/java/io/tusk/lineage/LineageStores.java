package io.tusk.lineage;

import io.tusk.common.topics.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The names of the lineage index stores, what each holds, and their value serdes. {@link
 * LineageTopology} creates the stores under these names; the processors it wires and the queries
 * read them by these names (keys: {@link IndexKeys}), never through the service's main class.
 */
final class LineageStores {
  /** Commit ID -> latest {@link io.tusk.schemas.Commit} (stats once the commit completed). */
  static final String COMMITS_STORE = "commits-store";

  /** Job ID -> latest {@link io.tusk.schemas.Job} (live counts and state). */
  static final String JOBS_STORE = "jobs-store";

  /** Commit ID -> IDs of the jobs it triggered, sorted. */
  static final String COMMIT_JOBS_STORE = "commit-jobs-store";

  /**
   * Jobs by pipeline ({@code p:<pipeline>\0<newest first>\0<job>}, {@code p:*} for all) and by
   * global ID ({@code g:<globalId>\0<createdAt>\0<job>}) -> {@link io.tusk.schemas.Job}.
   */
  static final String JOB_INDEX_STORE = "job-index-store";

  /**
   * Commits by global ID ({@code g:}), by repo newest first ({@code r:<repo>\0<sequence>}) and by
   * the upstream job that sealed them ({@code s:<job>\0<commit>}) -> {@link
   * io.tusk.schemas.Commit}.
   */
  static final String COMMIT_INDEX_STORE = "commit-index-store";

  /** {@code <job>\0<member>} -> latest {@link io.tusk.schemas.DatumResult}. */
  static final String DATUMS_STORE = "datums-store";

  /** {@code <job>\0<STATE>\0<member>} -> "": a job's datums by state. */
  static final String DATUM_STATES_STORE = "datum-states-store";

  /**
   * {@code <pipeline>/<member>} -> latest {@link OutputEvent}; {@code <pipeline>/<member>\0<job>}
   * -> the version that job wrote (removals included).
   */
  static final String OUTPUTS_STORE = "outputs-store";

  /**
   * {@code <topic>/<partition>/<offset>\0o} -> the output written there; {@code
   * <topic>/<partition>/<offset>\0r\0<pipeline>\0<member>\0<job>} -> an output that read that row.
   */
  static final String ROWS_STORE = "rows-store";

  /** {@code <job>\0<event type>} -> the OpenLineage event while unsent, "" once sent. */
  static final String OPENLINEAGE_STORE = "openlineage-store";

  private LineageStores() {}

  /** The value serde of every queryable store, for reads between instances. */
  static Map<String, Serde<?>> valueSerdes(Topics topics) {
    Map<String, Serde<?>> serdes = new HashMap<>();
    Serde<OutputEvent> events = OutputEvent.serde(topics.outputSerde());
    serdes.put(COMMITS_STORE, topics.commits.valueSerde());
    serdes.put(JOBS_STORE, topics.jobs.valueSerde());
    serdes.put(COMMIT_JOBS_STORE, jobIdsSerde());
    serdes.put(JOB_INDEX_STORE, topics.jobs.valueSerde());
    serdes.put(COMMIT_INDEX_STORE, topics.commits.valueSerde());
    serdes.put(DATUMS_STORE, topics.datumResults.valueSerde());
    serdes.put(DATUM_STATES_STORE, Serdes.String());
    serdes.put(OUTPUTS_STORE, events);
    serdes.put(ROWS_STORE, events);
    return serdes;
  }

  /** The value serde of {@link #COMMIT_JOBS_STORE}: a sorted list of job IDs. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Serde<List<String>> jobIdsSerde() {
    return (Serde) Serdes.ListSerde(ArrayList.class, Serdes.String());
  }
}
