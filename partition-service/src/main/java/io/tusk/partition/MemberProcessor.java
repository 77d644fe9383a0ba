package io.tusk.partition;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.Erase;
import io.tusk.schemas.JobDone;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Reject;
import io.tusk.schemas.Release;
import io.tusk.schemas.ReleasesDone;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowDelete;
import io.tusk.schemas.Seal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member side of the commit protocol (docs/internals.md step 3,
 * docs/versioning-and-processing.md "Jobs on the member side"), for every repo's by-member
 * partition of this task's number: it keeps each event where it belongs and, after each event that
 * may let work go on and on a wall-clock punctuation, takes one bounded completion step per repo:
 *
 * <ol>
 *   <li>{@link CommitCompletion}: complete ready commits (apply rows into member versions, count
 *       rejects, row moves through {@link RowMoves});
 *   <li>{@link VersionPruner}: drop versions past the repo's history retention;
 *   <li>{@link JobQueue}: start and emit the pipelines' queued jobs ({@link DatumEmission}).
 * </ol>
 *
 * <p>Every store key starts with the repo ({@link MemberStores}), because one task serves partition
 * p of every repo.
 */
final class MemberProcessor implements Processor<String, MemberEvent, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(MemberProcessor.class);

  private final Function<String, Optional<RepoSpec>> repos;
  private final ToLongFunction<String> oldestBranchHead;
  private final CompletionSettings settings;

  private ProcessorContext<String, Object> context;
  private MemberStores stores;
  private CommitCompletion completion;
  private VersionPruner pruner;
  private JobQueue jobs;
  private Erasures erasures;

  MemberProcessor(
      Function<String, Optional<RepoSpec>> repos,
      ToLongFunction<String> oldestBranchHead,
      CompletionSettings settings) {
    this.repos = Objects.requireNonNull(repos, "repos");
    this.oldestBranchHead = Objects.requireNonNull(oldestBranchHead, "oldestBranchHead");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    MemberTask task = new MemberTask(context, repos, settings);
    stores = task.stores;
    MemberUpdates updates = new MemberUpdates(task);
    erasures = new Erasures(task, updates);
    completion = new CommitCompletion(task, updates, new RowMoves(task, updates), erasures);
    jobs = new JobQueue(task, new DatumEmission(task, erasures), erasures);
    pruner = new VersionPruner(task, jobs, oldestBranchHead);
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
      stores
          .pendingRows()
          .put(
              StoreKeys.row(repo, record.key(), row.getSourcePartition(), row.getSourceOffset()),
              row);
    } else if (event instanceof Reject reject) {
      stores
          .pendingRejects()
          .put(
              StoreKeys.position(repo, reject.getSourcePartition(), reject.getSourceOffset()),
              reject.getReason());
    } else if (event instanceof RowDelete delete) {
      stores
          .pendingDeletes()
          .put(
              StoreKeys.position(repo, delete.getSourcePartition(), delete.getSourceOffset()),
              delete);
    } else if (event instanceof Barrier barrier) {
      Bytes key = StoreKeys.barrier(repo, barrier.getSourcePartition());
      Long old = stores.barriers().get(key);
      if (old == null || old < barrier.getPosition()) {
        stores.barriers().put(key, barrier.getPosition());
      }
    } else if (event instanceof Seal seal) {
      addSeal(repo, seal);
    } else if (event instanceof JobRequest request) {
      addJobRequest(repo, request);
    } else if (event instanceof DatumDone done) {
      jobs.onDatumDone(repo, record.key() == null ? done.getMember() : record.key(), done);
    } else if (event instanceof JobDone done) {
      jobs.onJobDone(repo, done);
    } else if (event instanceof Release release) {
      stores
          .pendingReleases()
          .put(
              StoreKeys.release(
                  repo,
                  release.getSequence(),
                  release.getMember(),
                  release.getTable(),
                  release.getRowKey()),
              release);
    } else if (event instanceof Erase erase) {
      if (record.key() == null) {
        log.error("Erasure {} without member key in {} ignored", erase.getRequest(), topic);
        return;
      }
      erasures.onErase(repo, record.key(), erase, progressOf(repo));
    } else if (event instanceof io.tusk.schemas.RepoPurge) {
      // The repo is being deleted: nothing of it may survive into a repo created again.
      int deleted = stores.purge(repo);
      log.info("Purged repo {} from member partition task: {} keys", repo, deleted);
      return;
    } else if (event instanceof ReleasesDone done) {
      stores
          .releaseMarkers()
          .put(StoreKeys.marker(repo, done.getSequence(), done.getRowOwnerPartition()), 1L);
    } else {
      log.warn("Unknown member event {} in {} ignored", event.getClass().getSimpleName(), topic);
      return;
    }
    // Rows, rejects, deletes, releases and datum outcomes cannot make a commit ready or start a
    // job by themselves; skipping the completion step for them keeps a bulk load cheap.
    if (!(event instanceof Row
        || event instanceof Reject
        || event instanceof RowDelete
        || event instanceof Release
        || event instanceof Erase
        || event instanceof DatumDone)) {
      complete(repo);
    }
  }

  private long offset() {
    return context.recordMetadata().map(RecordMetadata::offset).orElse(-1L);
  }

  private Progress progressOf(String repo) {
    Progress progress = stores.progress().get(repo);
    if (progress == null) {
      // The punctuation finds the repos of this task through their progress.
      stores.progress().put(repo, Progress.INITIAL);
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
    Seal known = stores.seals().get(key);
    if (known == null) {
      stores.seals().put(key, seal);
      jobs.onSeal(repo, seal);
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
    jobs.onJobRequest(repo, request);
  }

  private void completeAll() {
    List<String> repoNames = new ArrayList<>();
    try (KeyValueIterator<String, Progress> all = stores.progress().all()) {
      all.forEachRemaining(kv -> repoNames.add(kv.key));
    }
    repoNames.forEach(this::complete);
  }

  /** Completes as much of the repo's commits, pruning and jobs as one step's budget allows. */
  private void complete(String repo) {
    Progress before = stores.progress().get(repo);
    if (before == null) {
      return;
    }
    Budget budget = new Budget(settings);
    Progress progress = completion.apply(repo, before, budget);
    progress = pruner.prune(repo, progress, budget);
    // Written only when it moved: this runs on every punctuation, and an idle repo's unchanged
    // progress would otherwise go to the changelog each time (about 12 KB/s with 6 tasks)
    if (!progress.equals(before)) {
      stores.progress().put(repo, progress);
    }
    jobs.run(repo, progress, budget);
  }
}
