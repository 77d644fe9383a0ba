package io.tusk.partition;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.Datum;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.Reject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.Seal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 3 of the commit protocol (docs/internals.md): keeps the rows, reject notices, barriers and
 * seals of every repo's by-member partition of this task's number, and completes commit N once its
 * seal is known and every source partition's barrier has reached the commit's end offset. A ready
 * commit is applied in bounded slices: changed members are stored and emitted to {@code
 * <repo>.members} with one datum per job, and finally a {@link CommitPart} is emitted.
 *
 * <p>Every store key starts with the repo, because one task serves partition p of every repo.
 */
final class MemberProcessor implements Processor<String, MemberEvent, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(MemberProcessor.class);

  private final Function<String, Optional<RepoSpec>> repos;
  private final CompletionSettings settings;
  private final Map<String, RepoLayout> layouts = new HashMap<>();
  private final Set<String> reposWithoutSpec = new HashSet<>();

  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, Row> pendingRows;
  private KeyValueStore<Bytes, String> pendingRejects;
  private KeyValueStore<Bytes, Long> barriers;
  private KeyValueStore<Bytes, Seal> seals;
  private KeyValueStore<Bytes, MemberObject> memberObjects;
  private KeyValueStore<String, Progress> progressStore;

  MemberProcessor(Function<String, Optional<RepoSpec>> repos, CompletionSettings settings) {
    this.repos = Objects.requireNonNull(repos, "repos");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    pendingRows = context.getStateStore(PartitionTopology.PENDING_ROWS_STORE);
    pendingRejects = context.getStateStore(PartitionTopology.PENDING_REJECTS_STORE);
    barriers = context.getStateStore(PartitionTopology.BARRIERS_STORE);
    seals = context.getStateStore(PartitionTopology.SEALS_STORE);
    memberObjects = context.getStateStore(PartitionTopology.MEMBER_OBJECTS_STORE);
    progressStore = context.getStateStore(PartitionTopology.PROGRESS_STORE);
    // Barriers of idle partitions may have arrived long ago; a commit whose repo spec was missing
    // or whose slices are pending must complete without new input.
    context.schedule(settings.interval(), PunctuationType.WALL_CLOCK_TIME, now -> completeAll());
  }

  @Override
  public void process(Record<String, MemberEvent> record) {
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse(null);
    if (topic == null || !topic.endsWith(TopicNames.BY_MEMBER_SUFFIX)) {
      log.error("Member event from unexpected topic {} ignored", topic);
      return;
    }
    String repo = TopicNames.owner(topic, TopicNames.BY_MEMBER_SUFFIX);
    MemberEvent value = record.value();
    if (value == null || value.getEvent() == null) {
      log.warn("Empty member event in {} at offset {} ignored", topic, offset());
      return;
    }
    Object event = value.getEvent();
    if (event instanceof Row row) {
      if (record.key() == null) {
        log.warn("Row without member key in {} at offset {} ignored", topic, offset());
        return;
      }
      pendingRows.put(
          StoreKeys.row(repo, record.key(), row.getSourcePartition(), row.getSourceOffset()), row);
    } else if (event instanceof Reject reject) {
      pendingRejects.put(
          StoreKeys.reject(repo, reject.getSourcePartition(), reject.getSourceOffset()),
          reject.getReason());
    } else if (event instanceof Barrier barrier) {
      Bytes key = StoreKeys.barrier(repo, barrier.getSourcePartition());
      Long old = barriers.get(key);
      if (old == null || old < barrier.getPosition()) {
        barriers.put(key, barrier.getPosition());
      }
    } else if (event instanceof Seal seal) {
      addSeal(repo, seal);
    } else {
      log.warn("Unknown member event {} in {} ignored", event.getClass().getSimpleName(), topic);
      return;
    }
    complete(repo);
  }

  private long offset() {
    return context.recordMetadata().map(RecordMetadata::offset).orElse(-1L);
  }

  private void addSeal(String repo, Seal seal) {
    Commit commit = seal.getCommit();
    if (!repo.equals(commit.getRepo())) {
      log.error(
          "Seal of commit {} names repo {} but arrived for repo {}; ignored",
          commit.getId(),
          commit.getRepo(),
          repo);
      return;
    }
    Progress progress = progressStore.get(repo);
    if (progress == null) {
      // The punctuation finds the repos of this task through their progress.
      progressStore.put(repo, Progress.INITIAL);
      progress = Progress.INITIAL;
    }
    if (commit.getSequence() <= progress.lastCompleted()) {
      log.debug("Seal of completed commit {} of repo {} ignored", commit.getId(), repo);
      return;
    }
    Bytes key = StoreKeys.seal(repo, commit.getSequence());
    Seal known = seals.get(key);
    if (known == null) {
      seals.put(key, seal);
    } else if (!known.getCommit().getId().equals(commit.getId())) {
      log.error(
          "Repo {} has two seals for sequence {} (commits {} and {}); keeping the first",
          repo,
          commit.getSequence(),
          known.getCommit().getId(),
          commit.getId());
    }
  }

  private void completeAll() {
    List<String> repoNames = new ArrayList<>();
    try (KeyValueIterator<String, Progress> all = progressStore.all()) {
      all.forEachRemaining(kv -> repoNames.add(kv.key));
    }
    repoNames.forEach(this::complete);
  }

  /** Completes as much of the repo's next commits as one step's budget allows. */
  private void complete(String repo) {
    Progress progress = progressStore.get(repo);
    if (progress == null) {
      return;
    }
    Budget budget = new Budget(settings);
    while (!budget.exhausted()) {
      Bytes sealKey = StoreKeys.seal(repo, progress.lastCompleted() + 1);
      Seal seal = seals.get(sealKey);
      if (seal == null) {
        return;
      }
      Commit commit = seal.getCommit();
      if (progress.phase() == Progress.Phase.IDLE && !isReady(repo, commit)) {
        return;
      }
      RepoLayout layout = layout(repo);
      if (layout == null) {
        return;
      }
      if (progress.phase() == Progress.Phase.IDLE) {
        log.debug("Commit {} of repo {} is ready", commit.getId(), repo);
        progress = progress.start();
      }
      Map<Integer, Long> end = endOffsets(commit);
      if (progress.phase() == Progress.Phase.ROWS) {
        Step step = applyRows(repo, commit, end, layout, progress, budget);
        progress = step.done() ? step.progress().countRejects() : step.progress();
      }
      if (progress.phase() == Progress.Phase.REJECTS) {
        Step step = countRejects(repo, end, progress, budget);
        progress = step.progress();
        if (step.done()) {
          emitPart(repo, seal, progress);
          seals.delete(sealKey);
          progress = progress.completed();
        }
      }
      progressStore.put(repo, progress);
      if (progress.phase() != Progress.Phase.IDLE) {
        return; // the budget ran out mid-commit: the next event or punctuation goes on
      }
    }
  }

  /** Commit N is ready when every source partition has forwarded every row below its end. */
  private boolean isReady(String repo, Commit commit) {
    for (PartitionOffset end : commit.getEndOffsets()) {
      Long barrier = barriers.get(StoreKeys.barrier(repo, end.getPartition()));
      if ((barrier == null ? 0L : barrier) < end.getOffset()) {
        return false;
      }
    }
    return true;
  }

  private static Map<Integer, Long> endOffsets(Commit commit) {
    Map<Integer, Long> end = new HashMap<>();
    for (PartitionOffset o : commit.getEndOffsets()) {
      end.put(o.getPartition(), o.getOffset());
    }
    return end;
  }

  /** The repo's layout, or null (logged once) while its spec is unknown: rows stay pending. */
  private RepoLayout layout(String repo) {
    Optional<RepoSpec> spec = repos.apply(repo);
    if (spec.isEmpty()) {
      if (reposWithoutSpec.add(repo)) {
        log.warn("Repo {} has a ready commit but its spec is unknown; waiting for it", repo);
      }
      return null;
    }
    reposWithoutSpec.remove(repo);
    RepoLayout layout = layouts.get(repo);
    if (layout == null || layout.spec() != spec.get()) {
      layout = new RepoLayout(spec.get());
      layouts.put(repo, layout);
    }
    return layout;
  }

  /** The progress after a slice, and whether the phase's scan reached its end. */
  private record Step(Progress progress, boolean done) {}

  /**
   * Applies the commit's pending rows member by member, in key order (one member's rows are
   * contiguous and in source order), until the scan ends or the budget is spent. Rows of later
   * commits stay pending.
   */
  private Step applyRows(
      String repo,
      Commit commit,
      Map<Integer, Long> end,
      RepoLayout layout,
      Progress progress,
      Budget budget) {
    Bytes prefix = StoreKeys.repo(repo);
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> applied = new ArrayList<>();
    MemberSlice slice = new MemberSlice(repo, commit, layout, budget);
    Bytes resumeAt = null;
    try (KeyValueIterator<Bytes, Row> rows =
        pendingRows.range(from, StoreKeys.upperBound(prefix))) {
      while (rows.hasNext()) {
        KeyValue<Bytes, Row> entry = rows.next();
        StoreKeys.RowKey key = StoreKeys.decodeRow(entry.key);
        if (!key.member().equals(slice.member)) {
          slice.finishMember();
          if (budget.exhausted()) {
            resumeAt = entry.key;
            break;
          }
          slice.member = key.member();
        }
        budget.visited();
        Long endOffset = end.get(key.partition());
        if (endOffset != null && key.offset() < endOffset) {
          slice.rows.add(entry.value);
          applied.add(entry.key);
        }
      }
    }
    if (resumeAt == null) {
      slice.finishMember();
    }
    // Deleted after the scan: the iterator must not see its own store change underneath it.
    applied.forEach(pendingRows::delete);
    return new Step(
        progress.rowsApplied(resumeAt, applied.size(), slice.changed, slice.newMembers),
        resumeAt == null);
  }

  /** The rows of one member being collected, and the counts of the slice. */
  private final class MemberSlice {
    private final String repo;
    private final Commit commit;
    private final RepoLayout layout;
    private final Budget budget;
    private final List<Row> rows = new ArrayList<>();
    private String member;
    private long changed;
    private long newMembers;

    MemberSlice(String repo, Commit commit, RepoLayout layout, Budget budget) {
      this.repo = repo;
      this.commit = commit;
      this.layout = layout;
      this.budget = budget;
    }

    /** Applies the collected rows to the member; emits it if its content changed. */
    void finishMember() {
      if (member == null || rows.isEmpty()) {
        rows.clear();
        return;
      }
      Bytes key = StoreKeys.member(repo, member);
      MemberObject old = memberObjects.get(key);
      List<Row> merged = MemberObjects.apply(old == null ? List.of() : old.getRows(), rows, layout);
      rows.clear();
      String hash = Hashing.memberHash(merged);
      if (old != null && old.getHash().equals(hash)) {
        return; // same content: counted as skipped by the job, never emitted
      }
      MemberObject object =
          new MemberObject(repo, member, hash, commit.getId(), commit.getSequence(), merged);
      memberObjects.put(key, object);
      changed++;
      if (old == null) {
        newMembers++;
      }
      budget.changed();
      long now = context.currentSystemTimeMs();
      context.forward(new Record<>(member, object, now), PartitionTopology.MEMBERS_SINK);
      for (JobRef job : commit.getJobs()) {
        Datum datum =
            Datum.newBuilder()
                .setPipeline(job.getPipeline())
                .setJobId(job.getJobId())
                .setCommitId(commit.getId())
                .setGlobalId(commit.getGlobalId())
                .setDatumHash(Hashing.datumHash(job.getSpecHash(), hash))
                .setSpecHash(job.getSpecHash())
                .setMemberObject(object)
                .build();
        context.forward(new Record<>(member, datum, now), PartitionTopology.DATUMS_SINK);
      }
    }
  }

  /** Counts (and drops) the commit's reject notices until the scan ends or the budget is spent. */
  private Step countRejects(String repo, Map<Integer, Long> end, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.repo(repo);
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> counted = new ArrayList<>();
    Bytes resumeAt = null;
    try (KeyValueIterator<Bytes, String> rejects =
        pendingRejects.range(from, StoreKeys.upperBound(prefix))) {
      while (rejects.hasNext()) {
        KeyValue<Bytes, String> entry = rejects.next();
        if (budget.exhausted()) {
          resumeAt = entry.key;
          break;
        }
        budget.visited();
        StoreKeys.RejectKey key = StoreKeys.decodeReject(entry.key);
        Long endOffset = end.get(key.partition());
        if (endOffset != null && key.offset() < endOffset) {
          counted.add(entry.key);
        }
      }
    }
    counted.forEach(pendingRejects::delete);
    return new Step(progress.rejectsCounted(resumeAt, counted.size()), resumeAt == null);
  }

  private void emitPart(String repo, Seal seal, Progress progress) {
    Commit commit = seal.getCommit();
    int partition = context.taskId().partition();
    CommitPart part =
        new CommitPart(
            commit,
            partition,
            seal.getMemberPartitions(),
            progress.rows(),
            progress.rejected(),
            progress.members(),
            progress.changed());
    long now = context.currentSystemTimeMs();
    context.forward(new Record<>(commit.getId(), part, now), PartitionTopology.COMMIT_PARTS_SINK);
    for (JobRef job : commit.getJobs()) {
      JobPart jobPart =
          JobPart.newBuilder()
              .setJob(job)
              .setRepo(repo)
              .setCommitId(commit.getId())
              .setGlobalId(commit.getGlobalId())
              .setSequence(commit.getSequence())
              .setMemberPartition(partition)
              .setMemberPartitions(seal.getMemberPartitions())
              .setTotal(progress.members())
              .setToProcess(progress.changed())
              .setCreatedAt(now)
              .build();
      context.forward(new Record<>(job.getJobId(), jobPart, now), PartitionTopology.JOB_PARTS_SINK);
    }
    log.info(
        "Completed commit {} (sequence {}) of repo {} in member partition {}: {} rows, {} rejected,"
            + " {} of {} members changed",
        commit.getId(),
        commit.getSequence(),
        repo,
        partition,
        progress.rows(),
        progress.rejected(),
        progress.changed(),
        progress.members());
  }

  /** What one completion step may still do. */
  private static final class Budget {
    private int rowsLeft;
    private int membersLeft;

    Budget(CompletionSettings settings) {
      rowsLeft = settings.sliceRows();
      membersLeft = settings.sliceMembers();
    }

    void visited() {
      rowsLeft--;
    }

    void changed() {
      membersLeft--;
    }

    boolean exhausted() {
      return rowsLeft <= 0 || membersLeft <= 0;
    }
  }
}
