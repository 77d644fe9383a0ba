package io.tusk.commit;

import io.tusk.common.kafka.TopicFeed;
import io.tusk.schemas.Job;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The jobs of {@code tusk.jobs} (latest state of each, as the job tracker writes them), by ID and
 * by input commit: a commit's history lists every job that ran on it, including re-runs, branch
 * moves and pipeline updates, which the commit record itself does not name.
 *
 * <p>Fed in topic order by a {@link TopicFeed}, so the state kept is always the one written last.
 * Each job is kept once, as Avro binary ({@link AvroBytes}), and decoded when a request reads it:
 * about 350 bytes of heap per job, index included, against about 650 as objects ({@code
 * IndexFootprintTest}).
 */
final class JobIndex {
  private static final AvroBytes<Job> CODEC = AvroBytes.of(Job.class);
  private static final String[] NONE = new String[0];

  /** Sorted, so that a job ID prefix is a range (job references, {@code JobRefs}). */
  private final ConcurrentNavigableMap<String, byte[]> byId = new ConcurrentSkipListMap<>();

  /** Job IDs by input commit; each array is replaced, never changed, so readers need no lock. */
  private final Map<String, String[]> byCommit = new ConcurrentHashMap<>();

  /** Records a job read from the topic; null {@code job} is a tombstone. */
  synchronized void record(String id, Job job) {
    Objects.requireNonNull(id, "id");
    byte[] stored = job == null ? byId.remove(id) : byId.put(id, CODEC.encode(job));
    String oldCommit = stored == null ? null : CODEC.decode(stored).getCommitId();
    if (oldCommit != null && (job == null || !oldCommit.equals(job.getCommitId()))) {
      byCommit.computeIfPresent(oldCommit, (commit, ids) -> without(ids, id));
    }
    if (job != null && !job.getCommitId().equals(oldCommit)) {
      byCommit.merge(job.getCommitId(), new String[] {id}, JobIndex::concat);
    }
  }

  /** The job with {@code id}. */
  Optional<Job> get(String id) {
    return Optional.ofNullable(byId.get(id)).map(CODEC::decode);
  }

  /** Up to {@code limit} job IDs that start with {@code prefix}, in ID order. */
  List<String> idsWithPrefix(String prefix, int limit) {
    // Job IDs are lower-case hex: every ID with the prefix sorts below prefix + "g".
    return byId.subMap(prefix, true, prefix + "g", false).keySet().stream().limit(limit).toList();
  }

  /** The jobs whose input commit is {@code commitId}, oldest first. */
  List<Job> ofCommit(String commitId) {
    return Arrays.stream(byCommit.getOrDefault(commitId, NONE))
        .map(byId::get)
        .filter(Objects::nonNull)
        .map(CODEC::decode)
        .sorted(Comparator.comparingLong(Job::getCreatedAt).thenComparing(Job::getId))
        .toList();
  }

  private static String[] concat(String[] ids, String[] more) {
    String[] joined = Arrays.copyOf(ids, ids.length + more.length);
    System.arraycopy(more, 0, joined, ids.length, more.length);
    return joined;
  }

  /** {@code ids} without {@code id}; null (the commit is forgotten) when none is left. */
  private static String[] without(String[] ids, String id) {
    String[] left = Arrays.stream(ids).filter(other -> !other.equals(id)).toArray(String[]::new);
    return left.length == 0 ? null : left;
  }
}
