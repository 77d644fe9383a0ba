package io.tusk.partition;

import io.tusk.schemas.JobRequest;
import io.tusk.schemas.Release;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.Seal;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The stores of the member topology's task, looked up once in {@code init} and shared by {@link
 * MemberProcessor} and its collaborators. Every key starts with the repo (see {@link StoreKeys}),
 * because one task serves partition p of every repo.
 *
 * @param pendingRows rows received and not yet applied: {@code repo | member | p | offset}
 * @param pendingRejects reject notices not yet counted: {@code repo | p | offset}
 * @param pendingDeletes deletes by row key not yet claimed: {@code repo | p | offset}
 * @param barriers highest barrier per source partition: {@code repo | p}
 * @param seals seals of commits not yet completed: {@code repo | sequence}
 * @param progress per repo: the last completed commit and the state of the next
 * @param commitMarks completed commits: {@code repo | commit ID}
 * @param versions member versions (see {@link MemberVersions})
 * @param chunks rows of large member versions (see {@link MemberVersions})
 * @param deltas positions of member versions stored as deltas (see {@link MemberVersions})
 * @param changedSets members changed per commit: {@code repo | sequence | member}
 * @param datumStates per pipeline and member: {@code repo | pipeline | member}
 * @param failedDatums members whose last datum did not succeed (failed, or unanswered) and the job
 *     that emitted it: {@code repo | pipeline | member}
 * @param jobQueue queued jobs: {@code repo | pipeline | queue number}
 * @param pipelineJobs per pipeline: its queue's bounds and head's state: {@code repo | pipeline}
 * @param pendingReleases releases of moved rows: {@code repo | sequence | member | table | key}
 * @param releaseMarkers releases-done markers: {@code repo | sequence | row-owner partition}
 * @param pendingErasures erasure requests waiting for their commit: {@code repo | sequence |
 *     member}
 * @param erasures erased members not cleared by every pipeline yet: {@code repo | member}
 */
record MemberStores(
    KeyValueStore<Bytes, Row> pendingRows,
    KeyValueStore<Bytes, String> pendingRejects,
    KeyValueStore<Bytes, RowDelete> pendingDeletes,
    KeyValueStore<Bytes, Long> barriers,
    KeyValueStore<Bytes, Seal> seals,
    KeyValueStore<String, Progress> progress,
    KeyValueStore<Bytes, CommitMark> commitMarks,
    KeyValueStore<Bytes, io.tusk.schemas.MemberObject> versions,
    KeyValueStore<Bytes, io.tusk.schemas.RowChunk> chunks,
    KeyValueStore<Bytes, VersionDelta> deltas,
    KeyValueStore<Bytes, Long> changedSets,
    KeyValueStore<Bytes, DatumStatus> datumStates,
    KeyValueStore<Bytes, String> failedDatums,
    KeyValueStore<Bytes, JobRequest> jobQueue,
    KeyValueStore<Bytes, PipelineJobs> pipelineJobs,
    KeyValueStore<Bytes, Release> pendingReleases,
    KeyValueStore<Bytes, Long> releaseMarkers,
    KeyValueStore<Bytes, String> pendingErasures,
    KeyValueStore<Bytes, MemberErasure> erasures) {

  /** The stores as the task's context has them. */
  static MemberStores of(ProcessorContext<?, ?> context) {
    return new MemberStores(
        context.getStateStore(PartitionStores.PENDING_ROWS),
        context.getStateStore(PartitionStores.PENDING_REJECTS),
        context.getStateStore(PartitionStores.PENDING_DELETES),
        context.getStateStore(PartitionStores.BARRIERS),
        context.getStateStore(PartitionStores.SEALS),
        context.getStateStore(PartitionStores.PROGRESS),
        context.getStateStore(PartitionStores.COMMIT_INDEX),
        context.getStateStore(PartitionStores.MEMBER_VERSIONS),
        context.getStateStore(PartitionStores.MEMBER_CHUNKS),
        context.getStateStore(PartitionStores.MEMBER_DELTAS),
        context.getStateStore(PartitionStores.CHANGED_MEMBERS),
        context.getStateStore(PartitionStores.DATUM_STATES),
        context.getStateStore(PartitionStores.FAILED_DATUMS),
        context.getStateStore(PartitionStores.JOB_QUEUE),
        context.getStateStore(PartitionStores.PIPELINE_JOBS),
        context.getStateStore(PartitionStores.PENDING_RELEASES),
        context.getStateStore(PartitionStores.RELEASE_MARKERS),
        context.getStateStore(PartitionStores.PENDING_ERASURES),
        context.getStateStore(PartitionStores.MEMBER_ERASURES));
  }

  /**
   * Deletes every key of {@code repo} from every store (through the stores, so the deletes reach
   * their changelogs): the repo was deleted. A repo's keys are contiguous and no other repo's key
   * starts with its prefix ({@link StoreKeys#repo}).
   *
   * @return how many keys were deleted
   */
  int purge(String repo) {
    Bytes prefix = StoreKeys.repo(repo);
    int deleted = 0;
    for (KeyValueStore<Bytes, ?> store :
        java.util.List.<KeyValueStore<Bytes, ?>>of(
            pendingRows,
            pendingRejects,
            pendingDeletes,
            barriers,
            seals,
            commitMarks,
            versions,
            chunks,
            deltas,
            changedSets,
            datumStates,
            failedDatums,
            jobQueue,
            pipelineJobs,
            pendingReleases,
            releaseMarkers,
            pendingErasures,
            erasures)) {
      deleted += StoreKeys.purge(store, prefix);
    }
    if (progress.delete(repo) != null) {
      deleted++;
    }
    return deleted;
  }
}
