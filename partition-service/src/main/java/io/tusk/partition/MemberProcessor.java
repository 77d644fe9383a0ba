package io.tusk.partition;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.MemberSkip;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.Claim;
import io.tusk.schemas.ClaimsDone;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.Reject;
import io.tusk.schemas.Release;
import io.tusk.schemas.ReleasesDone;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowOwnerEvent;
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
import org.apache.kafka.common.header.internals.RecordHeaders;
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
 * The member side of the commit protocol (docs/internals.md step 3,
 * docs/versioning-and-processing.md "Jobs on the member side"): keeps the rows, reject notices,
 * barriers and seals of every repo's by-member partition of this task's number, and completes
 * commit N once its seal is known and every source partition's barrier has reached the commit's end
 * offset.
 *
 * <p>A ready commit is applied in bounded slices: each changed member gets a new version at N (the
 * versions are the history as-of queries read; old ones are pruned past the repo's retention), the
 * commit's changed-member set records it, and it goes to {@code <repo>.members}. Repos with row
 * keys then take part in the row-owner round (claims of row keys new to a member, releases of rows
 * that moved away; see {@link RowOwnerProcessor}). Finally a {@link CommitPart} is emitted.
 *
 * <p>Jobs are separate from commits: a seal's jobs and job requests join a per-pipeline queue in
 * arrival order (the same in every partition), and the queue's head is emitted once its commit is
 * complete here and the pipeline's previous job has ended ({@link JobDone}), reading the member
 * versions as of the job's commit and each member's datum state (Pachyderm's skip, failed retries,
 * removal datums). After its datums a job sends this partition's {@link JobPart}.
 *
 * <p>Every store key starts with the repo, because one task serves partition p of every repo.
 */
final class MemberProcessor implements Processor<String, MemberEvent, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(MemberProcessor.class);

  /** Change kinds in the changed-member sets. */
  static final long ADDED = 0;

  static final long CHANGED = 1;
  static final long REMOVED = 2;

  private final Function<String, Optional<RepoSpec>> repos;
  private final CompletionSettings settings;
  private final Map<String, RepoLayout> layouts = new HashMap<>();
  private final Set<String> reposWithoutSpec = new HashSet<>();

  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, Row> pendingRows;
  private KeyValueStore<Bytes, String> pendingRejects;
  private KeyValueStore<Bytes, Long> barriers;
  private KeyValueStore<Bytes, Seal> seals;
  private KeyValueStore<Bytes, MemberObject> versions;
  private KeyValueStore<Bytes, Long> changedSets;
  private KeyValueStore<Bytes, CommitMark> commitMarks;
  private KeyValueStore<Bytes, DatumStatus> datumStates;
  private KeyValueStore<Bytes, String> failedDatums;
  private KeyValueStore<Bytes, JobRequest> jobQueue;
  private KeyValueStore<Bytes, PipelineJobs> pipelineJobs;
  private KeyValueStore<Bytes, Release> pendingReleases;
  private KeyValueStore<Bytes, Long> releaseMarkers;
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
    versions = context.getStateStore(PartitionTopology.MEMBER_VERSIONS_STORE);
    changedSets = context.getStateStore(PartitionTopology.CHANGED_MEMBERS_STORE);
    commitMarks = context.getStateStore(PartitionTopology.COMMIT_INDEX_STORE);
    datumStates = context.getStateStore(PartitionTopology.DATUM_STATES_STORE);
    failedDatums = context.getStateStore(PartitionTopology.FAILED_DATUMS_STORE);
    jobQueue = context.getStateStore(PartitionTopology.JOB_QUEUE_STORE);
    pipelineJobs = context.getStateStore(PartitionTopology.PIPELINE_JOBS_STORE);
    pendingReleases = context.getStateStore(PartitionTopology.PENDING_RELEASES_STORE);
    releaseMarkers = context.getStateStore(PartitionTopology.RELEASE_MARKERS_STORE);
    progressStore = context.getStateStore(PartitionTopology.PROGRESS_STORE);
    // Barriers of idle partitions may have arrived long ago; a commit whose repo spec was missing
    // or whose slices are pending must complete without new input, and so must waiting jobs.
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
    } else if (event instanceof JobRequest request) {
      addJobRequest(repo, request);
    } else if (event instanceof DatumDone done) {
      onDatumDone(repo, record.key() == null ? done.getMember() : record.key(), done);
    } else if (event instanceof JobDone done) {
      onJobDone(repo, done);
    } else if (event instanceof Release release) {
      pendingReleases.put(
          StoreKeys.release(
              repo,
              release.getSequence(),
              release.getMember(),
              release.getTable(),
              release.getRowKey()),
          release);
    } else if (event instanceof ReleasesDone done) {
      releaseMarkers.put(
          StoreKeys.marker(repo, done.getSequence(), done.getRowOwnerPartition()), 1L);
    } else {
      log.warn("Unknown member event {} in {} ignored", event.getClass().getSimpleName(), topic);
      return;
    }
    // Rows, rejects, releases and datum outcomes cannot make a commit ready or start a job by
    // themselves; skipping the completion step for them keeps a bulk load cheap.
    if (!(event instanceof Row
        || event instanceof Reject
        || event instanceof Release
        || event instanceof DatumDone)) {
      complete(repo);
    }
  }

  private long offset() {
    return context.recordMetadata().map(RecordMetadata::offset).orElse(-1L);
  }

  private Progress progressOf(String repo) {
    Progress progress = progressStore.get(repo);
    if (progress == null) {
      // The punctuation finds the repos of this task through their progress.
      progressStore.put(repo, Progress.INITIAL);
      progress = Progress.INITIAL;
    }
    return progress;
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
    Progress progress = progressOf(repo);
    if (commit.getSequence() <= progress.lastCompleted()) {
      log.debug("Seal of completed commit {} of repo {} ignored", commit.getId(), repo);
      return;
    }
    Bytes key = StoreKeys.seal(repo, commit.getSequence());
    Seal known = seals.get(key);
    if (known == null) {
      seals.put(key, seal);
      // Jobs queue in seal order, which every partition sees alike (one transaction wrote the
      // seal to all of them), so all partitions run a pipeline's jobs in the same order.
      for (JobRef job : commit.getJobs()) {
        enqueue(repo, commit, job, seal.getMemberPartitions());
      }
    } else if (!known.getCommit().getId().equals(commit.getId())) {
      log.error(
          "Repo {} has two seals for sequence {} (commits {} and {}); keeping the first",
          repo,
          commit.getSequence(),
          known.getCommit().getId(),
          commit.getId());
    }
  }

  private void addJobRequest(String repo, JobRequest request) {
    Commit commit = request.getCommit();
    if (!repo.equals(commit.getRepo())) {
      log.error(
          "Job request over commit {} of repo {} arrived for repo {}; ignored",
          commit.getId(),
          commit.getRepo(),
          repo);
      return;
    }
    progressOf(repo);
    for (JobRef job : request.getJobs()) {
      enqueue(repo, commit, job, request.getMemberPartitions());
    }
  }

  /** Appends a job to its pipeline's queue, unless the same job (and mode) is queued already. */
  private void enqueue(String repo, Commit commit, JobRef job, int memberPartitions) {
    Bytes key = StoreKeys.named(repo, job.getPipeline());
    PipelineJobs jobs = pipelineJobs.get(key);
    if (jobs == null) {
      jobs = PipelineJobs.EMPTY;
    }
    for (long n = jobs.head(); n < jobs.tail(); n++) {
      JobRequest queued = jobQueue.get(StoreKeys.queued(repo, job.getPipeline(), n));
      if (queued != null
          && queued.getJobs().get(0).getJobId().equals(job.getJobId())
          && queued.getJobs().get(0).getMode() == job.getMode()) {
        log.debug("Job {} is queued already; ignored", job.getJobId());
        return;
      }
    }
    jobQueue.put(
        StoreKeys.queued(repo, job.getPipeline(), jobs.tail()),
        JobRequest.newBuilder()
            .setCommit(commit)
            .setJobs(List.of(job))
            .setMemberPartitions(memberPartitions)
            .build());
    pipelineJobs.put(key, jobs.enqueued());
  }

  private void onDatumDone(String repo, String member, DatumDone done) {
    Bytes key = StoreKeys.pipelineMember(repo, done.getPipeline(), member);
    DatumStatus status = datumStates.get(key);
    DatumStatus next =
        (status == null ? DatumStatus.none() : status)
            .done(done.getDatumHash(), done.getJobId(), done.getSucceeded(), done.getOutputHash());
    datumStates.put(key, next);
    if (next.state() == DatumStatus.State.FAILED) {
      failedDatums.put(key, next.jobId());
    } else {
      failedDatums.delete(key);
    }
  }

  private void onJobDone(String repo, JobDone done) {
    Bytes key = StoreKeys.named(repo, done.getPipeline());
    PipelineJobs jobs = pipelineJobs.get(key);
    if (jobs == null || jobs.isEmpty() || jobs.state() == PipelineJobs.State.WAITING) {
      log.debug("End of job {} that is not running here ignored", done.getJobId());
      return;
    }
    Bytes head = StoreKeys.queued(repo, done.getPipeline(), jobs.head());
    JobRequest running = jobQueue.get(head);
    if (running == null || !running.getJobs().get(0).getJobId().equals(done.getJobId())) {
      log.debug("End of job {} that is not running here ignored", done.getJobId());
      return;
    }
    jobQueue.delete(head);
    pipelineJobs.put(key, jobs.next());
  }

  private void completeAll() {
    List<String> repoNames = new ArrayList<>();
    try (KeyValueIterator<String, Progress> all = progressStore.all()) {
      all.forEachRemaining(kv -> repoNames.add(kv.key));
    }
    repoNames.forEach(this::complete);
  }

  /** Completes as much of the repo's commits, pruning and jobs as one step's budget allows. */
  private void complete(String repo) {
    Progress progress = progressStore.get(repo);
    if (progress == null) {
      return;
    }
    Budget budget = new Budget(settings);
    progress = applyCommits(repo, progress, budget);
    progress = prune(repo, progress, budget);
    progressStore.put(repo, progress);
    runJobs(repo, progress, budget);
  }

  private Progress applyCommits(String repo, Progress progress, Budget budget) {
    while (!budget.exhausted()) {
      Bytes sealKey = StoreKeys.seal(repo, progress.lastCompleted() + 1);
      Seal seal = seals.get(sealKey);
      if (seal == null) {
        return progress;
      }
      Commit commit = seal.getCommit();
      if (progress.phase() == Progress.Phase.IDLE && !isReady(repo, commit)) {
        return progress;
      }
      RepoLayout layout = layout(repo);
      if (layout == null) {
        return progress;
      }
      if (progress.phase() == Progress.Phase.IDLE) {
        log.debug("Commit {} of repo {} is ready", commit.getId(), repo);
        progress = progress.start();
      }
      Map<Integer, Long> end = endOffsets(commit);
      if (progress.phase() == Progress.Phase.ROWS) {
        Step step = applyRows(repo, commit, end, layout, progress, budget);
        progress = step.done() ? step.progress().phase(Progress.Phase.REJECTS) : step.progress();
      }
      if (progress.phase() == Progress.Phase.REJECTS) {
        Step step = countRejects(repo, end, progress, budget);
        progress = step.progress();
        if (step.done()) {
          if (hasRowKeys(layout)) {
            forwardClaimsDone(repo, seal);
            progress = progress.phase(Progress.Phase.WAIT_RELEASES);
          } else {
            progress = finish(repo, seal, progress);
          }
        }
      }
      if (progress.phase() == Progress.Phase.WAIT_RELEASES
          && releasesDone(repo, commit.getSequence(), seal.getMemberPartitions())) {
        progress = progress.phase(Progress.Phase.RELEASES);
      }
      if (progress.phase() == Progress.Phase.RELEASES) {
        Step step = applyReleases(repo, commit, layout, progress, budget);
        progress = step.done() ? finish(repo, seal, step.progress()) : step.progress();
      }
      if (progress.phase() != Progress.Phase.IDLE) {
        return progress; // the budget ran out mid-commit, or releases are awaited
      }
    }
    return progress;
  }

  /** Records the completed commit, emits its part and moves on to the next. */
  private Progress finish(String repo, Seal seal, Progress progress) {
    Commit commit = seal.getCommit();
    commitMarks.put(
        StoreKeys.named(repo, commit.getId()),
        new CommitMark(commit.getSequence(), progress.members()));
    emitPart(repo, seal, progress);
    seals.delete(StoreKeys.seal(repo, commit.getSequence()));
    return progress.completed();
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

  private static boolean hasRowKeys(RepoLayout layout) {
    return layout.spec().getTables().stream().anyMatch(t -> !t.getRowKey().isEmpty());
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

  /** The member's newest version with a sequence {@code <= sequence}, or null. */
  private MemberObject versionAsOf(String repo, String member, long sequence) {
    try (KeyValueIterator<Bytes, MemberObject> newest =
        versions.reverseRange(
            StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence))) {
      return newest.hasNext() ? newest.next().value : null;
    }
  }

  /** Whether a version stands for a member that is present (not removed). */
  static boolean present(MemberObject version) {
    return version != null && !version.getRows().isEmpty();
  }

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
        progress.applied(resumeAt, applied.size(), slice.changes.changed, slice.changes.members),
        resumeAt == null);
  }

  /** Counts of member changes made in a slice. */
  private static final class Changes {
    private long changed;
    private long members;
  }

  /** The rows of one member being collected, and the counts of the slice. */
  private final class MemberSlice {
    private final String repo;
    private final Commit commit;
    private final RepoLayout layout;
    private final Budget budget;
    private final List<Row> rows = new ArrayList<>();
    private final Changes changes = new Changes();
    private String member;

    MemberSlice(String repo, Commit commit, RepoLayout layout, Budget budget) {
      this.repo = repo;
      this.commit = commit;
      this.layout = layout;
      this.budget = budget;
    }

    /** Applies the collected rows to the member; stores and emits it if its content changed. */
    void finishMember() {
      if (member == null || rows.isEmpty()) {
        rows.clear();
        return;
      }
      MemberObject old = versionAsOf(repo, member, commit.getSequence());
      List<Row> current = old == null ? List.of() : old.getRows();
      if (old != null
          && old.getSequence() < commit.getSequence()
          && MemberSkip.unchanged(current, rows, layout)) {
        // Re-sent rows the member already holds: no change, decided without applying or hashing.
        rows.clear();
        return;
      }
      List<Row> merged = MemberObjects.apply(current, rows, layout);
      rows.clear();
      if (hasRowKeys(layout)) {
        claimNewKeys(repo, member, commit.getSequence(), current, merged, layout);
      }
      update(repo, member, merged, commit, changes, budget);
    }
  }

  /**
   * Writes the member's new content as its version at the commit (or drops that version when the
   * content is back to what it was before the commit), records the change in the commit's set and
   * emits the member to {@code <repo>.members} (a tombstone once it has no rows).
   */
  private void update(
      String repo, String member, List<Row> rows, Commit commit, Changes changes, Budget budget) {
    long sequence = commit.getSequence();
    MemberObject latest = versionAsOf(repo, member, sequence);
    boolean atCommit = latest != null && latest.getSequence() == sequence;
    MemberObject before = atCommit ? versionAsOf(repo, member, sequence - 1) : latest;
    boolean wasPresent = present(before);
    boolean nowPresent = !rows.isEmpty();
    String hash = nowPresent ? Hashing.memberHash(rows) : "";
    boolean unchanged = before == null ? !nowPresent : before.getHash().equals(hash);
    long presentBefore = present(atCommit ? latest : before) ? 1 : 0;
    Bytes versionKey = StoreKeys.version(repo, member, sequence);
    Bytes changedKey = StoreKeys.changed(repo, sequence, member);
    if (unchanged) {
      if (atCommit) {
        // An earlier phase of this commit changed the member; a release undid it.
        versions.delete(versionKey);
        changedSets.delete(changedKey);
        changes.changed--;
        changes.members += (wasPresent ? 1 : 0) - presentBefore;
        emitMember(repo, member, before);
      }
      return;
    }
    MemberObject object =
        MemberObject.newBuilder()
            .setRepo(repo)
            .setMember(member)
            .setHash(hash)
            .setCommitId(commit.getId())
            .setSequence(sequence)
            .setRows(rows)
            .build();
    versions.put(versionKey, object);
    changedSets.put(changedKey, !wasPresent ? ADDED : nowPresent ? CHANGED : REMOVED);
    if (!atCommit) {
      changes.changed++;
    }
    changes.members += (nowPresent ? 1 : 0) - presentBefore;
    budget.changed();
    emitMember(repo, member, object);
  }

  private void emitMember(String repo, String member, MemberObject object) {
    MemberObject value = present(object) ? object : null;
    context.forward(
        new Record<String, Object>(member, value, context.currentSystemTimeMs(), repoHeader(repo)),
        PartitionTopology.MEMBERS_SINK);
  }

  private static RecordHeaders repoHeader(String repo) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.REPO, Headers.bytes(repo));
    return headers;
  }

  /** Claims every row key the member did not have before the commit (row moves). */
  private void claimNewKeys(
      String repo,
      String member,
      long sequence,
      List<Row> before,
      List<Row> after,
      RepoLayout layout) {
    Set<List<Object>> had = new HashSet<>();
    for (Row row : before) {
      TableLayout table = layout.table(row.getTable());
      if (table != null && table.hasRowKey()) {
        had.add(List.of(row.getTable(), table.rowKeyOf(row.getValues())));
      }
    }
    int partition = context.taskId().partition();
    long now = context.currentSystemTimeMs();
    for (Row row : after) {
      TableLayout table = layout.table(row.getTable());
      if (table == null || !table.hasRowKey()) {
        continue;
      }
      List<String> rowKey = table.rowKeyOf(row.getValues());
      if (had.contains(List.of(row.getTable(), rowKey))) {
        continue;
      }
      Claim claim =
          Claim.newBuilder()
              .setTable(row.getTable())
              .setRowKey(rowKey)
              .setMember(member)
              .setSequence(sequence)
              .setMemberPartition(partition)
              .build();
      context.forward(
          new Record<String, Object>(
              row.getTable()
                  + "/"
                  + String.join("/", rowKey.stream().map(String::valueOf).toList()),
              new RowOwnerEvent(claim),
              now,
              repoHeader(repo)),
          PartitionTopology.CLAIMS_SINK);
    }
  }

  private void forwardClaimsDone(String repo, Seal seal) {
    ClaimsDone done =
        ClaimsDone.newBuilder()
            .setSequence(seal.getCommit().getSequence())
            .setMemberPartition(context.taskId().partition())
            .setMemberPartitions(seal.getMemberPartitions())
            .build();
    context.forward(
        new Record<String, Object>(
            null, new RowOwnerEvent(done), context.currentSystemTimeMs(), repoHeader(repo)),
        PartitionTopology.CLAIM_MARKERS_SINK);
  }

  /** Whether every row-owner partition's releases of commit {@code sequence} are in. */
  private boolean releasesDone(String repo, long sequence, int rowOwnerPartitions) {
    Bytes prefix = StoreKeys.changedSet(repo, sequence);
    int markers = 0;
    try (KeyValueIterator<Bytes, Long> all =
        releaseMarkers.range(prefix, StoreKeys.upperBound(prefix))) {
      while (all.hasNext()) {
        all.next();
        markers++;
      }
    }
    return markers >= rowOwnerPartitions;
  }

  /** Removes released rows from their members, member by member, within the budget. */
  private Step applyReleases(
      String repo, Commit commit, RepoLayout layout, Progress progress, Budget budget) {
    Bytes prefix = StoreKeys.changedSet(repo, commit.getSequence());
    Bytes from = progress.cursor() == null ? prefix : progress.cursor();
    List<Bytes> applied = new ArrayList<>();
    List<Release> memberReleases = new ArrayList<>();
    Changes changes = new Changes();
    Bytes resumeAt = null;
    String member = null;
    try (KeyValueIterator<Bytes, Release> releases =
        pendingReleases.range(from, StoreKeys.upperBound(prefix))) {
      while (releases.hasNext()) {
        KeyValue<Bytes, Release> entry = releases.next();
        if (!entry.value.getMember().equals(member)) {
          release(repo, member, memberReleases, commit, layout, changes, budget);
          if (budget.exhausted()) {
            resumeAt = entry.key;
            break;
          }
          member = entry.value.getMember();
        }
        budget.visited();
        memberReleases.add(entry.value);
        applied.add(entry.key);
      }
    }
    if (resumeAt == null) {
      release(repo, member, memberReleases, commit, layout, changes, budget);
      List<Bytes> markers = new ArrayList<>();
      try (KeyValueIterator<Bytes, Long> all =
          releaseMarkers.range(prefix, StoreKeys.upperBound(prefix))) {
        all.forEachRemaining(kv -> markers.add(kv.key));
      }
      markers.forEach(releaseMarkers::delete);
    }
    applied.forEach(pendingReleases::delete);
    return new Step(
        progress.applied(resumeAt, 0, changes.changed, changes.members), resumeAt == null);
  }

  private void release(
      String repo,
      String member,
      List<Release> releases,
      Commit commit,
      RepoLayout layout,
      Changes changes,
      Budget budget) {
    if (member == null || releases.isEmpty()) {
      releases.clear();
      return;
    }
    MemberObject latest = versionAsOf(repo, member, commit.getSequence());
    if (present(latest)) {
      List<Row> rows = latest.getRows();
      for (Release release : releases) {
        rows = MemberObjects.remove(rows, release.getTable(), release.getRowKey(), layout);
      }
      if (rows.size() != latest.getRows().size()) {
        update(repo, member, rows, commit, changes, budget);
      }
    }
    releases.clear();
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
        CommitPart.newBuilder()
            .setCommit(commit)
            .setMemberPartition(partition)
            .setMemberPartitions(seal.getMemberPartitions())
            .setRows(progress.rows())
            .setRejected(progress.rejected())
            .setMembers(progress.members())
            .setChangedMembers(progress.changed())
            .build();
    context.forward(
        new Record<>(commit.getId(), part, context.currentSystemTimeMs()),
        PartitionTopology.COMMIT_PARTS_SINK);
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

  /**
   * Prunes member versions no as-of query within the retention needs: raising the floor to F drops,
   * for every member changed in commit F, its versions older than F (so older queries answer 410).
   * The floor never passes a queued job's commit, whose versions and changed set the job reads.
   */
  private Progress prune(String repo, Progress progress, Budget budget) {
    Optional<RepoSpec> spec = repos.apply(repo);
    if (spec.isEmpty() || budget.exhausted()) {
      return progress;
    }
    long retention = Math.max(1, spec.get().getHistoryRetention());
    long target = progress.lastCompleted() - retention + 1;
    if (progress.floor() >= target) {
      return progress;
    }
    target = Math.min(target, oldestQueuedCommit(repo) - 1);
    long floor = progress.floor();
    Bytes cursor = progress.pruneCursor();
    while (floor < target && !budget.exhausted()) {
      long level = floor + 1;
      Bytes prefix = StoreKeys.changedSet(repo, level);
      List<Bytes> done = new ArrayList<>();
      Bytes resumeAt = null;
      try (KeyValueIterator<Bytes, Long> changed =
          changedSets.range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (changed.hasNext()) {
          KeyValue<Bytes, Long> entry = changed.next();
          if (budget.exhausted()) {
            resumeAt = entry.key;
            break;
          }
          budget.visited();
          StoreKeys.Fields fields = StoreKeys.fields(entry.key);
          fields.string();
          fields.number();
          dropVersionsBefore(repo, fields.string(), level);
          done.add(entry.key);
        }
      }
      done.forEach(changedSets::delete);
      if (resumeAt == null) {
        floor = level;
        cursor = null;
      } else {
        cursor = resumeAt;
      }
    }
    return progress.pruned(floor, cursor);
  }

  private void dropVersionsBefore(String repo, String member, long sequence) {
    List<Bytes> old = new ArrayList<>();
    try (KeyValueIterator<Bytes, MemberObject> all =
        versions.range(
            StoreKeys.version(repo, member, 0), StoreKeys.version(repo, member, sequence - 1))) {
      all.forEachRemaining(kv -> old.add(kv.key));
    }
    old.forEach(versions::delete);
  }

  /** The smallest commit sequence of the repo's queued jobs (Long.MAX_VALUE: none). */
  private long oldestQueuedCommit(String repo) {
    long oldest = Long.MAX_VALUE;
    Bytes prefix = StoreKeys.repo(repo);
    try (KeyValueIterator<Bytes, JobRequest> all =
        jobQueue.range(prefix, StoreKeys.upperBound(prefix))) {
      while (all.hasNext()) {
        oldest = Math.min(oldest, all.next().value.getCommit().getSequence());
      }
    }
    return oldest;
  }

  /** Starts and emits the queued jobs of the repo's pipelines, within the budget. */
  private void runJobs(String repo, Progress progress, Budget budget) {
    List<KeyValue<Bytes, PipelineJobs>> all = new ArrayList<>();
    Bytes prefix = StoreKeys.repo(repo);
    try (KeyValueIterator<Bytes, PipelineJobs> it =
        pipelineJobs.range(prefix, StoreKeys.upperBound(prefix))) {
      it.forEachRemaining(all::add);
    }
    for (KeyValue<Bytes, PipelineJobs> kv : all) {
      StoreKeys.Fields fields = StoreKeys.fields(kv.key);
      fields.string();
      String pipeline = fields.string();
      PipelineJobs jobs = kv.value;
      while (!budget.exhausted() && !jobs.isEmpty()) {
        JobRequest head = jobQueue.get(StoreKeys.queued(repo, pipeline, jobs.head()));
        if (head == null) {
          log.error("Queue of pipeline {} lost entry {}; skipped", pipeline, jobs.head());
          jobs = jobs.next();
          continue;
        }
        if (jobs.state() == PipelineJobs.State.WAITING) {
          if (head.getCommit().getSequence() > progress.lastCompleted()) {
            break;
          }
          jobs = jobs.started();
        }
        if (jobs.state() == PipelineJobs.State.EMITTING) {
          jobs = new Emission(repo, pipeline, head, jobs, budget).run();
        }
        if (jobs.state() == PipelineJobs.State.RUNNING) {
          break;
        }
      }
      if (!jobs.equals(kv.value)) {
        pipelineJobs.put(kv.key, jobs);
      }
    }
  }

  /** One slice of the emission of a job's datums. */
  private final class Emission {
    private final String repo;
    private final String pipeline;
    private final JobRequest request;
    private final JobRef job;
    private final Commit commit;
    private final Budget budget;
    private final List<Bytes> retried = new ArrayList<>();
    private int scan;
    private long removals;
    private long toProcess;

    Emission(String repo, String pipeline, JobRequest request, PipelineJobs jobs, Budget budget) {
      this.repo = repo;
      this.pipeline = pipeline;
      this.request = request;
      this.job = request.getJobs().get(0);
      this.commit = request.getCommit();
      this.budget = budget;
      this.scan = jobs.scan();
      this.removals = jobs.removals();
      this.toProcess = jobs.toProcess();
      this.cursor = jobs.cursor();
      this.jobs = jobs;
    }

    private Bytes cursor;
    private final PipelineJobs jobs;

    /** Emits until the job's scans end or the budget is spent; the job's state after. */
    PipelineJobs run() {
      boolean done =
          switch (job.getMode()) {
            case FULL, REPROCESS -> scanVersions();
            case FAILED_ONLY -> scanFailed(false);
            case INCREMENTAL -> {
              if (scan == 0 && scanChanged()) {
                scan = 1;
                cursor = null;
              }
              yield scan == 1 && scanFailed(true);
            }
          };
      // Deleted after the scans: the failed-datum iterator must not see its own store change.
      retried.forEach(failedDatums::delete);
      if (!done) {
        return jobs.emitting(scan, cursor, removals, toProcess);
      }
      sendPart();
      return jobs.emitting(scan, null, removals, toProcess).running();
    }

    /** INCREMENTAL: the members changed in the job's commit. */
    private boolean scanChanged() {
      Bytes prefix = StoreKeys.changedSet(repo, commit.getSequence());
      try (KeyValueIterator<Bytes, Long> changed =
          changedSets.range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (changed.hasNext()) {
          KeyValue<Bytes, Long> entry = changed.next();
          if (budget.exhausted()) {
            cursor = entry.key;
            return false;
          }
          budget.visited();
          StoreKeys.Fields fields = StoreKeys.fields(entry.key);
          fields.string();
          fields.number();
          String member = fields.string();
          consider(member, versionAsOf(repo, member, commit.getSequence()));
        }
      }
      return true;
    }

    /**
     * Members whose datum failed: for INCREMENTAL every one not changed in the commit (those were
     * considered already), for FAILED_ONLY those that failed in this same job.
     */
    private boolean scanFailed(boolean skipChanged) {
      Bytes prefix = StoreKeys.named(repo, pipeline);
      try (KeyValueIterator<Bytes, String> failed =
          failedDatums.range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (failed.hasNext()) {
          KeyValue<Bytes, String> entry = failed.next();
          if (budget.exhausted()) {
            cursor = entry.key;
            return false;
          }
          budget.visited();
          StoreKeys.Fields fields = StoreKeys.fields(entry.key);
          fields.string();
          fields.string();
          String member = fields.string();
          if (!skipChanged && !job.getJobId().equals(entry.value)) {
            continue;
          }
          if (skipChanged
              && changedSets.get(StoreKeys.changed(repo, commit.getSequence(), member)) != null) {
            continue;
          }
          consider(member, versionAsOf(repo, member, commit.getSequence()));
        }
      }
      return true;
    }

    /** FULL and REPROCESS: every member, as of the job's commit. */
    private boolean scanVersions() {
      Bytes prefix = StoreKeys.repo(repo);
      String member = null;
      MemberObject asOf = null;
      try (KeyValueIterator<Bytes, MemberObject> all =
          versions.range(cursor == null ? prefix : cursor, StoreKeys.upperBound(prefix))) {
        while (all.hasNext()) {
          KeyValue<Bytes, MemberObject> entry = all.next();
          MemberObject version = entry.value;
          if (!version.getMember().equals(member)) {
            if (member != null) {
              consider(member, asOf);
            }
            if (budget.exhausted()) {
              cursor = entry.key;
              return false;
            }
            member = version.getMember();
            asOf = null;
          }
          budget.visited();
          if (version.getSequence() <= commit.getSequence()) {
            asOf = version;
          }
        }
      }
      if (member != null) {
        consider(member, asOf);
      }
      return true;
    }

    /** Emits the member's datum unless the mode's rules skip it. */
    private void consider(String member, MemberObject version) {
      if (version == null) {
        return; // not a member as of the commit
      }
      Bytes stateKey = StoreKeys.pipelineMember(repo, pipeline, member);
      DatumStatus status = datumStates.get(stateKey);
      boolean removed = !present(version);
      if (removed && (status == null || !status.hasSuccess())) {
        return; // nothing of it was ever output, so nothing to remove
      }
      String datumHash = Hashing.datumHash(job.getSpecHash(), removed ? "" : version.getHash());
      JobMode mode = job.getMode();
      if ((mode == JobMode.INCREMENTAL || mode == JobMode.FULL)
          && status != null
          && status.skips(datumHash)) {
        return;
      }
      if (mode == JobMode.FAILED_ONLY && (status == null || !status.failedIn(job.getJobId()))) {
        return;
      }
      Datum datum =
          Datum.newBuilder()
              .setPipeline(pipeline)
              .setJobId(job.getJobId())
              .setCommitId(commit.getId())
              .setGlobalId(commit.getGlobalId())
              .setDatumHash(datumHash)
              .setSpecHash(job.getSpecHash())
              .setMemberObject(version)
              .setMode(mode)
              .setCommitSequence(commit.getSequence())
              .setExpectedOutputHash(
                  mode == JobMode.REPROCESS && status != null
                      ? status.outputHashOf(datumHash)
                      : null)
              .build();
      context.forward(
          new Record<>(member, datum, context.currentSystemTimeMs()),
          PartitionTopology.DATUMS_SINK);
      datumStates.put(
          stateKey,
          (status == null ? DatumStatus.none() : status).emitted(datumHash, job.getJobId()));
      retried.add(stateKey);
      toProcess++;
      if (removed) {
        removals++;
      }
      budget.changed();
    }

    private void sendPart() {
      CommitMark mark = commitMarks.get(StoreKeys.named(repo, commit.getId()));
      if (mark == null) {
        log.warn(
            "Job {} runs over commit {} of repo {}, unknown in this partition: total 0",
            job.getJobId(),
            commit.getId(),
            repo);
      }
      long now = context.currentSystemTimeMs();
      JobPart part =
          JobPart.newBuilder()
              .setJob(job)
              .setRepo(repo)
              .setCommitId(commit.getId())
              .setGlobalId(commit.getGlobalId())
              .setSequence(commit.getSequence())
              .setMemberPartition(context.taskId().partition())
              .setMemberPartitions(request.getMemberPartitions())
              // A removal datum is a datum of the job, so total covers it and skipped stays >= 0.
              .setTotal((mark == null ? 0 : mark.members()) + removals)
              .setToProcess(toProcess)
              .setCreatedAt(now)
              .build();
      context.forward(new Record<>(job.getJobId(), part, now), PartitionTopology.JOB_PARTS_SINK);
      log.info(
          "Job {} ({} of pipeline {}) over commit {}: {} datums emitted in member partition {}",
          job.getJobId(),
          job.getMode(),
          pipeline,
          commit.getId(),
          toProcess,
          context.taskId().partition());
    }
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
