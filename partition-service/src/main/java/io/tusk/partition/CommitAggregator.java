package io.tusk.partition;

import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 4 of the commit protocol: collects the {@link CommitPart}s of a commit (key: commit ID) and,
 * once every member partition's part is in, writes the commit with its {@link CommitStats} to
 * {@code tusk.commits} and one {@link Job} per job of the commit to {@code tusk.job-starts}.
 * Duplicate parts, and parts of a commit already aggregated, are ignored.
 */
final class CommitAggregator implements Processor<String, CommitPart, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(CommitAggregator.class);

  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, CommitPart> parts;
  private KeyValueStore<String, Long> aggregated;

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    parts = context.getStateStore(PartitionTopology.COMMIT_PARTS_STORE);
    aggregated = context.getStateStore(PartitionTopology.AGGREGATED_COMMITS_STORE);
  }

  @Override
  public void process(Record<String, CommitPart> record) {
    CommitPart part = record.value();
    if (part == null) {
      log.warn("Empty commit part for key {} ignored", record.key());
      return;
    }
    Commit commit = part.getCommit();
    String id = commit.getId();
    int expected = part.getMemberPartitions();
    if (part.getMemberPartition() < 0 || part.getMemberPartition() >= expected) {
      log.error(
          "Part of commit {} names member partition {} of {}; ignored",
          id,
          part.getMemberPartition(),
          expected);
      return;
    }
    if (aggregated.get(id) != null) {
      log.debug("Part {} of aggregated commit {} ignored", part.getMemberPartition(), id);
      return;
    }
    Bytes key = StoreKeys.part(id, part.getMemberPartition());
    if (parts.get(key) != null) {
      log.debug("Duplicate part {} of commit {} ignored", part.getMemberPartition(), id);
      return;
    }
    parts.put(key, part);
    List<KeyValue<Bytes, CommitPart>> collected = new ArrayList<>();
    Bytes prefix = StoreKeys.commit(id);
    try (KeyValueIterator<Bytes, CommitPart> all =
        parts.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(collected::add);
    }
    if (collected.size() < expected) {
      return;
    }
    long now = context.currentSystemTimeMs();
    long rows = 0;
    long rejected = 0;
    long members = 0;
    long changed = 0;
    for (KeyValue<Bytes, CommitPart> entry : collected) {
      rows += entry.value.getRows();
      rejected += entry.value.getRejected();
      members += entry.value.getMembers();
      changed += entry.value.getChangedMembers();
      parts.delete(entry.key);
    }
    aggregated.put(id, now);
    CommitStats stats = new CommitStats(rows, rejected, members, changed, now);
    Commit completed = Commit.newBuilder(commit).setStats(stats).build();
    context.forward(new Record<>(id, completed, now), PartitionTopology.COMMITS_SINK);
    for (JobRef ref : commit.getJobs()) {
      context.forward(
          new Record<>(ref.getJobId(), jobStart(completed, ref, now), now),
          PartitionTopology.JOB_STARTS_SINK);
    }
    log.info(
        "Commit {} of repo {} complete: {} rows, {} rejected, {} of {} members changed, {} jobs",
        id,
        commit.getRepo(),
        rows,
        rejected,
        changed,
        members,
        commit.getJobs().size());
  }

  /** A job as created: nothing processed yet, done at once when no member changed. */
  static Job jobStart(Commit commit, JobRef ref, long now) {
    CommitStats stats = commit.getStats();
    boolean nothingToDo = stats.getChangedMembers() == 0;
    return Job.newBuilder()
        .setId(ref.getJobId())
        .setPipeline(ref.getPipeline())
        .setRepo(commit.getRepo())
        .setCommitId(commit.getId())
        .setGlobalId(commit.getGlobalId())
        .setState(nothingToDo ? JobState.SUCCESS : JobState.RUNNING)
        .setTotal(stats.getMembers())
        .setToProcess(stats.getChangedMembers())
        .setProcessed(0)
        .setSkipped(stats.getMembers() - stats.getChangedMembers())
        .setFailed(0)
        .setRecovered(0)
        .setCreatedAt(now)
        .setFinishedAt(nothingToDo ? now : null)
        .build();
  }
}
