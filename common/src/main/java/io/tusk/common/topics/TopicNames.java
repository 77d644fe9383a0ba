package io.tusk.common.topics;

import java.util.regex.Pattern;

/**
 * Names of every topic Tusk uses. Names are a contract (see the README's topic table): system
 * topics start with {@code tusk.}, per-repo and per-pipeline topics are {@code <name>.<suffix>}.
 * Repo and pipeline names match {@link #NAME_PATTERN}, so they cannot contain the dot that
 * separates the suffix.
 */
public final class TopicNames {
  /**
   * Names of repos and pipelines: lower-case letters, digits, '-' and '_', at most 63 characters.
   */
  public static final Pattern NAME_PATTERN = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

  /** Repo specs (compacted, key: repo name). */
  public static final String REPOS = "tusk.repos";

  /** Pipeline specs (compacted, key: pipeline name). */
  public static final String PIPELINES = "tusk.pipelines";

  /** Commit records (compacted, key: commit ID). */
  public static final String COMMITS = "tusk.commits";

  /** Job records with counts and state (compacted, key: job ID). */
  public static final String JOBS = "tusk.jobs";

  /** Datum outcomes (key: job ID). */
  public static final String DATUM_RESULTS = "tusk.datum-results";

  /** Internal: each member-side partition's share of a completed commit (key: commit ID). */
  public static final String COMMIT_PARTS = "tusk.commit-parts";

  /**
   * Internal: each member-side partition's share of a job, once it emitted its datums (key: job
   * ID).
   */
  public static final String JOB_PARTS = "tusk.job-parts";

  /** A job ended: seal output commits of the repos derived from its pipeline (key: job ID). */
  public static final String SEAL_REQUESTS = "tusk.seal-requests";

  /** Branch heads (compacted, key: {@code <repo>/<branch>}, see {@link #branchKey}). */
  public static final String BRANCHES = "tusk.branches";

  /**
   * Role bindings: who holds which role on which repo, pipeline or the cluster (compacted, key:
   * {@code <resource>/<role>/<subject>}).
   */
  public static final String ROLE_BINDINGS = "tusk.role-bindings";

  /**
   * The audit trail: every mutation, read of row content and denied request (kept forever, key: the
   * principal).
   */
  public static final String AUDIT = "tusk.audit";

  /**
   * The erasure log: every erasure request (who, when, why, its commit, its last verification),
   * keyed by request ID, compacted; a member appears only as a salted hash.
   */
  public static final String ERASURES = "tusk.erasures";

  /**
   * Which commit service instance leads (compacted, one partition, key {@code leader}): written by
   * the leader in its sealing transaction when it takes the lead, read by the others to forward
   * writes to it.
   */
  public static final String COMMIT_LEADER = "tusk.commit-leader";

  /** The user's rows of a repo. */
  public static final String UPDATES_SUFFIX = ".updates";

  /** Internal: rows re-keyed by member, barriers, seals and reject notices. */
  public static final String BY_MEMBER_SUFFIX = ".by-member";

  /** Internal: claims of keyed rows and claim barriers, for row moves between members. */
  public static final String ROW_OWNERS_SUFFIX = ".row-owners";

  /** Latest member objects (compacted, key: member). */
  public static final String MEMBERS_SUFFIX = ".members";

  /** Rows that could not be parsed, with the reason in headers. */
  public static final String REJECTED_SUFFIX = ".rejected";

  /** Datums of a pipeline (key: member). */
  public static final String DATUMS_SUFFIX = ".datums";

  /** Outputs of a pipeline (compacted, key: member). */
  public static final String OUTPUT_SUFFIX = ".output";

  /** Datums a pipeline gave up on. */
  public static final String FAILED_SUFFIX = ".failed";

  /** Matches every repo's internal by-member topic. */
  public static final Pattern BY_MEMBER_PATTERN =
      Pattern.compile(NAME_PATTERN.pattern() + Pattern.quote(BY_MEMBER_SUFFIX));

  /** Matches every repo's internal row-owners topic. */
  public static final Pattern ROW_OWNERS_PATTERN =
      Pattern.compile(NAME_PATTERN.pattern() + Pattern.quote(ROW_OWNERS_SUFFIX));

  /** Matches every pipeline's output topic. */
  public static final Pattern OUTPUT_PATTERN =
      Pattern.compile(NAME_PATTERN.pattern() + Pattern.quote(OUTPUT_SUFFIX));

  private TopicNames() {}

  public static String updates(String repo) {
    return repo + UPDATES_SUFFIX;
  }

  /**
   * The topic a repo's rows arrive on: {@code <repo>.updates}, or a derived repo's source topic.
   */
  public static String updatesOf(io.tusk.schemas.RepoSpec repo) {
    return repo.getUpdatesTopic() == null ? updates(repo.getName()) : repo.getUpdatesTopic();
  }

  public static String byMember(String repo) {
    return repo + BY_MEMBER_SUFFIX;
  }

  public static String rowOwners(String repo) {
    return repo + ROW_OWNERS_SUFFIX;
  }

  public static String members(String repo) {
    return repo + MEMBERS_SUFFIX;
  }

  public static String rejected(String repo) {
    return repo + REJECTED_SUFFIX;
  }

  public static String datums(String pipeline) {
    return pipeline + DATUMS_SUFFIX;
  }

  /** The consumer group of a pipeline's datum processors, reading {@link #datums}. */
  public static String processorGroup(String pipeline) {
    return "tusk-processor-" + pipeline;
  }

  public static String output(String pipeline) {
    return pipeline + OUTPUT_SUFFIX;
  }

  public static String failed(String pipeline) {
    return pipeline + FAILED_SUFFIX;
  }

  /** Key of a branch in {@link #BRANCHES}. */
  public static String branchKey(String repo, String branch) {
    return repo + "/" + branch;
  }

  /**
   * Name of the repo derived from {@code pipeline}'s outputs, keyed by the output field {@code
   * memberKey}: {@code <pipeline>-by-<k>}, k being the key lower-cased with every character outside
   * the name charset replaced by '-'. It may be too long to be valid: check with {@link
   * #isValidName}.
   */
  public static String derivedRepo(String pipeline, String memberKey) {
    StringBuilder key = new StringBuilder();
    for (char c : memberKey.toLowerCase(java.util.Locale.ROOT).toCharArray()) {
      boolean allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      key.append(allowed ? c : '-');
    }
    return pipeline + "-by-" + key;
  }

  /** The repo or pipeline name of a {@code <name>.<suffix>} topic. */
  public static String owner(String topic, String suffix) {
    if (!topic.endsWith(suffix)) {
      throw new IllegalArgumentException("topic " + topic + " does not end with " + suffix);
    }
    return topic.substring(0, topic.length() - suffix.length());
  }

  /** True if {@code name} is a valid repo or pipeline name. */
  public static boolean isValidName(String name) {
    return name != null && NAME_PATTERN.matcher(name).matches() && !name.equals("tusk");
  }
}
