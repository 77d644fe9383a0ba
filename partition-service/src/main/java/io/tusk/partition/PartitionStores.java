package io.tusk.partition;

/**
 * Names of the state stores of {@link PartitionTopology}, shared by the processors that use them
 * and by the interactive queries. The changelog of each is {@code tusk-partition-<name>-changelog}:
 * a renamed store starts empty, so these names are a contract.
 */
final class PartitionStores {
  private PartitionStores() {}

  // The commit protocol (MemberProcessor and its collaborators).
  static final String PENDING_ROWS = "pending-rows-store";
  static final String PENDING_REJECTS = "pending-rejects-store";
  static final String PENDING_DELETES = "pending-deletes-store";
  static final String BARRIERS = "barriers-store";
  static final String SEALS = "seals-store";
  static final String PROGRESS = "progress-store";
  static final String COMMIT_INDEX = "commit-index-store";

  // Members: versions for as-of reads, the chunks of large ones, the positions of those stored as
  // deltas, per-commit changed sets.
  static final String MEMBER_VERSIONS = "member-versions-store";
  static final String MEMBER_CHUNKS = "member-chunks-store";
  static final String MEMBER_DELTAS = "member-deltas-store";
  static final String CHANGED_MEMBERS = "changed-members-store";

  // Erasures: those waiting for their commit, and erased members not cleared by every pipeline.
  static final String PENDING_ERASURES = "pending-erasures-store";
  static final String MEMBER_ERASURES = "member-erasures-store";

  // Jobs on the member side.
  static final String DATUM_STATES = "datum-states-store";
  static final String FAILED_DATUMS = "failed-datums-store";
  static final String JOB_QUEUE = "job-queue-store";
  static final String PIPELINE_JOBS = "pipeline-jobs-store";

  // Row moves: the member side's releases and markers, the row-owner stage's owners and markers.
  static final String PENDING_RELEASES = "pending-releases-store";
  static final String RELEASE_MARKERS = "release-markers-store";
  static final String ROW_OWNERS = "row-owners-store";
  static final String CLAIM_MARKERS = "claim-markers-store";
  static final String CONTESTED_KEYS = "contested-keys-store";

  // Commit aggregator.
  static final String COMMIT_PARTS = "commit-parts-store";
  static final String AGGREGATED_COMMITS = "aggregated-commits-store";

  // Job tracker.
  static final String JOB_PROGRESS = "job-progress-store";
  static final String JOB_PARTS = "job-parts-store";
  static final String JOB_FAILED_MEMBERS = "job-failed-members-store";
  static final String JOB_DEADLINES = "job-deadlines-store";
}
