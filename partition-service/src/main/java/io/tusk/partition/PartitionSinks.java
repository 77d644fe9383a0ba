package io.tusk.partition;

/** Names of the sink nodes of {@link PartitionTopology}, which its processors forward to. */
final class PartitionSinks {
  private PartitionSinks() {}

  static final String MEMBERS = "members-sink";
  static final String DATUMS = "datums-sink";
  static final String COMMIT_PARTS = "commit-parts-sink";
  static final String COMMITS = "commits-sink";
  static final String JOB_PARTS = "job-parts-sink";
  static final String CLAIMS = "claims-sink";
  static final String CLAIM_MARKERS = "claim-markers-sink";
  static final String RELEASES = "releases-sink";
  static final String RELEASE_MARKERS = "release-markers-sink";
  static final String JOBS = "jobs-sink";
  static final String SEAL_REQUESTS = "seal-requests-sink";
}
