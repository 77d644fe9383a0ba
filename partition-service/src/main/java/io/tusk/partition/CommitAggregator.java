package io.tusk.partition;

import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.CommitStats;
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
 * {@code tusk.commits}. Jobs are not made here: the member partitions send job parts to the job
 * tracker. Duplicate parts, and parts of a commit already aggregated, are ignored.
 */
final class CommitAggregator implements Processor<String, CommitPart, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(CommitAggregator.class);

  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, CommitPart> parts;
  private KeyValueStore<String, Long> aggregated;

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    parts = context.getStateStore(PartitionStores.COMMIT_PARTS);
    aggregated = context.getStateStore(PartitionStores.AGGREGATED_COMMITS);
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
      StoreKeys.drop(parts, entry.key);
    }
    aggregated.put(id, now);
    CommitStats stats = new CommitStats(rows, rejected, members, changed, now);
    Commit completed = Commit.newBuilder(commit).setStats(stats).build();
    context.forward(new Record<>(id, completed, now), PartitionSinks.COMMITS);
    log.info(
        "Commit {} of repo {} complete: {} rows, {} rejected, {} of {} members changed",
        id,
        commit.getRepo(),
        rows,
        rejected,
        changed,
        members);
  }
}
