package io.tusk.lineage;

import io.tusk.common.http.JobRefs;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Job;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.streams.KeyValue;

/**
 * The reads of the index stores ({@link LineageStores}) that several lineage queries share: a job
 * or commit by ID, a member's latest output and its versions, the outputs that read a row. Every
 * read goes through a {@link StoreLocator}, so it may be answered by another instance; reads block.
 */
final class IndexReads {
  /** Most entries one list answers. */
  static final int MAX_LIMIT = 1000;

  /** Most output versions of one member read for history, {@code at} and changes. */
  static final int MAX_VERSIONS = 10_000;

  private static final Comparator<OutputEvent> NEWEST_FIRST =
      Comparator.comparingLong(OutputEvent::timestamp)
          .thenComparing(OutputEvent::topic)
          .thenComparingInt(OutputEvent::partition)
          .thenComparingLong(OutputEvent::offset)
          .reversed();

  private final StoreLocator stores;

  IndexReads(StoreLocator stores) {
    this.stores = Objects.requireNonNull(stores, "stores");
  }

  /** See {@link StoreLocator#get}. */
  <V> V get(String storeName, String key) {
    return stores.get(storeName, key);
  }

  /** See {@link StoreLocator#range}. */
  <V> List<KeyValue<String, V>> range(String storeName, String prefix, String after, int limit) {
    return stores.range(storeName, prefix, after, limit);
  }

  /**
   * The full ID of the job {@code ref} names: its ID, or a unique prefix of at least {@link
   * JobRefs#MIN_PREFIX} characters, looked up in every partition of the jobs store. The one job
   * resolver of the lineage service: every query taking a job resolves through it.
   *
   * @param field the request's parameter, for messages
   * @throws io.tusk.common.http.ApiException 400, 404 or 409 as {@link JobRefs#resolve}
   */
  String jobId(String field, String ref) {
    return JobRefs.resolve(field, ref, this::jobIdsWithPrefix);
  }

  /** As {@link #jobId}, empty unless {@code ref} names exactly one job (for access decisions). */
  Optional<String> findJobId(String ref) {
    return JobRefs.find(ref, this::jobIdsWithPrefix);
  }

  private List<String> jobIdsWithPrefix(String prefix, int limit) {
    return stores.scan(LineageStores.JOBS_STORE, prefix, limit).stream()
        .map(entry -> entry.key)
        .toList();
  }

  /** The latest version of a job, or null. */
  Job job(String id) {
    return stores.get(LineageStores.JOBS_STORE, id);
  }

  /** The latest version of a commit, or null (also for the empty ID of a job without one). */
  Commit commit(String id) {
    return id.isEmpty() ? null : stores.get(LineageStores.COMMITS_STORE, id);
  }

  /**
   * A member's latest output of a pipeline.
   *
   * @throws io.tusk.common.http.ApiException 404 if it has none (or it was removed)
   */
  OutputEvent latest(String pipeline, String member) {
    return QueryJson.found(
        stores.get(LineageStores.OUTPUTS_STORE, OutputKeyer.key(pipeline, member)),
        QueryJson.noOutput(pipeline, member));
  }

  /** The version of a member's output a job wrote, or null. */
  OutputEvent version(String pipeline, String member, String jobId) {
    return stores.get(
        LineageStores.OUTPUTS_STORE, IndexKeys.outputVersion(pipeline, member, jobId));
  }

  /** Every version of a member's output, newest first. */
  List<OutputEvent> versions(String pipeline, String member) {
    List<OutputEvent> versions = new ArrayList<>();
    for (KeyValue<String, OutputEvent> entry :
        stores.<OutputEvent>range(
            LineageStores.OUTPUTS_STORE,
            StoreKeys.prefix(OutputKeyer.key(pipeline, member)),
            null,
            MAX_VERSIONS)) {
      versions.add(entry.value);
    }
    versions.sort(NEWEST_FIRST);
    return versions;
  }

  /** The output written at a position of an output topic (its pointer), or null. */
  OutputEvent writtenAt(String position) {
    return stores.get(LineageStores.ROWS_STORE, IndexKeys.writtenAt(position));
  }

  /** The outputs that read the row at a position of an output topic. */
  List<OutputEvent> readers(String position) {
    List<OutputEvent> readers = new ArrayList<>();
    for (KeyValue<String, OutputEvent> entry :
        stores.<OutputEvent>range(
            LineageStores.ROWS_STORE, IndexKeys.readersPrefix(position), null, MAX_LIMIT)) {
      readers.add(entry.value);
    }
    return readers;
  }
}
