package io.tusk.commit;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.json.AvroJson;
import io.tusk.common.security.Principal;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Erasure;
import io.tusk.schemas.ErasureVerification;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Erasure requests: seals the erasure commit of a member (README "Erasure and retention"), records
 * the request in the {@link ErasureLog}, and reports its state: the jobs it caused, through derived
 * repos, and whether they ended. Logs request and commit IDs only, never the member.
 */
final class ErasureControl {
  private static final Logger log = LoggerFactory.getLogger(ErasureControl.class);
  private static final int MAX_REASON_CHARS = 1000;
  private static final int MAX_MEMBER_CHARS = 1024;

  private final ControlPlane control;
  private final JobControl jobs;
  private final ErasureLog erasures;
  private final ErasurePlaces places;
  private final ErasureScan scan;
  private final ExecutorService scans =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread thread = new Thread(r, "tusk-erasure-scan");
            thread.setDaemon(true);
            return thread;
          });

  ErasureControl(
      ControlPlane control,
      JobControl jobs,
      ErasureLog erasures,
      ErasurePlaces places,
      ErasureScan scan) {
    this.control = control;
    this.jobs = jobs;
    this.erasures = erasures;
    this.places = places;
    this.scan = scan;
  }

  /** Stops a scan in progress (its result is not recorded). */
  void close() {
    scans.shutdownNow();
  }

  ErasureLog log() {
    return erasures;
  }

  /**
   * Seals an erasure commit of {@code member} on the branch the body names (default master): 404
   * for an unknown repo or branch, 409 for a derived repo or when a pipeline reading the repo
   * follows another branch (its outputs of the member would stay), 400 without a reason.
   */
  Future<Erasure> erase(String repoName, String member, JsonObject body, Principal by) {
    RepoSpec repo = control.repo(repoName);
    ControlPlane.requireNotDerived(repo);
    if (member == null || member.isEmpty() || member.length() > MAX_MEMBER_CHARS) {
      throw ApiException.badRequest("member must be 1 to " + MAX_MEMBER_CHARS + " characters");
    }
    String reason = body.getValue("reason") instanceof String text ? text.strip() : null;
    if (reason == null || reason.isEmpty() || reason.length() > MAX_REASON_CHARS) {
      throw ApiException.badRequest(
          "reason must be a text of 1 to "
              + MAX_REASON_CHARS
              + " characters (why the member is"
              + " erased: it is kept in the erasure log)");
    }
    Object branchValue = body.getValue("branch", ControlPlane.MASTER);
    if (!(branchValue instanceof String branch)) {
      throw ApiException.badRequest("branch must be a branch name");
    }
    control.branch(repoName, branch);
    List<String> elsewhere =
        control.pipelines.snapshot().values().stream()
            .filter(p -> p.getInputRepo().equals(repoName) && !p.getInputBranch().equals(branch))
            .map(p -> p.getName() + " (follows " + p.getInputBranch() + ")")
            .sorted()
            .toList();
    if (!elsewhere.isEmpty()) {
      throw ApiException.conflict(
          "pipelines reading repo '"
              + repoName
              + "' follow another branch than '"
              + branch
              + "', so their outputs of the member would stay: "
              + String.join(", ", elsewhere));
    }
    return control.tasks.submit(
        ControlPlane.repoQueue(repoName),
        () -> {
          String salt = ErasureLog.newSalt();
          Erasure requested =
              Erasure.newBuilder()
                  .setId(Ids.newId())
                  .setRepo(repoName)
                  .setSalt(salt)
                  .setMemberHash(ErasureLog.memberHash(salt, repoName, member))
                  .setRequestedBy(by.subject())
                  .setRequestedAt(System.currentTimeMillis())
                  .setReason(reason)
                  .setBranch(branch)
                  .build();
          // The request is in the log before its commit: a seal that fails leaves a request
          // without commit, never an erasure nobody recorded.
          record(requested);
          Commit commit =
              control.sealNow(
                  repoName, branch, null, new CommitSealer.Erasing(requested.getId(), member));
          Erasure withCommit =
              Erasure.newBuilder(requested)
                  .setCommitId(commit.getId())
                  .setCommitSequence(commit.getSequence())
                  .build();
          record(withCommit);
          log.info(
              "Erasure {} in repo {} requested by {}: sealed as commit {} (sequence {}, {} jobs)",
              withCommit.getId(),
              repoName,
              by.subject(),
              commit.getId(),
              commit.getSequence(),
              commit.getJobs().size());
          return withCommit;
        });
  }

  /** Writes a request's new state to the log (worker threads only). */
  void record(Erasure erasure) {
    control.write(control.topics.erasures, erasure.getId(), erasure);
    erasures.recorded(erasure);
  }

  /** A request by ID: 400 for a malformed ID, 404 for an unknown one. */
  Erasure erasure(String id) {
    String checked = Requests.erasureId("id", id);
    return erasures
        .get(checked)
        .orElseThrow(() -> ApiException.notFound("no erasure request '" + checked + "'"));
  }

  /**
   * The jobs the erasure caused, and whether they all ended: the jobs its commit started and,
   * through derived repos, those of the output commits their ends sealed, breadth first. A job not
   * indexed yet, or a successful one whose derived repo's output commit is not there yet, means not
   * ended.
   */
  record Caused(List<Job> jobs, boolean ended) {}

  Caused caused(Erasure erasure) {
    List<Job> found = new ArrayList<>();
    boolean ended = erasure.getCommitId() != null;
    Deque<Commit> commits = new ArrayDeque<>();
    control
        .commits
        .get(erasure.getCommitId() == null ? "" : erasure.getCommitId())
        .ifPresent(commits::add);
    while (!commits.isEmpty()) {
      Commit commit = commits.poll();
      for (JobRef ref : commit.getJobs()) {
        Job job = jobs.find(ref.getJobId()).orElse(null);
        if (job == null) {
          ended = false;
          continue;
        }
        found.add(job);
        ended &= job.getState() != JobState.CREATED && job.getState() != JobState.RUNNING;
        if (job.getState() != JobState.SUCCESS) {
          continue;
        }
        for (RepoSpec derived : control.repos.snapshot().values()) {
          if (job.getPipeline().equals(derived.getSourcePipeline())) {
            Commit output =
                control.commits.bySource(derived.getName(), job.getId(), 0).orElse(null);
            if (output == null) {
              ended = false;
            } else {
              commits.add(output);
            }
          }
        }
      }
    }
    return new Caused(found, ended);
  }

  /**
   * The request's state: {@code requested} (no commit: its seal failed), {@code processing} (the
   * commit or a job it caused has not ended), {@code purged} (every job ended: the stores are
   * purged, raw copies wait for retention), {@code verified} (a scan after that found nothing).
   */
  static String state(Erasure erasure, Caused caused, boolean commitComplete) {
    if (erasure.getCommitId() == null) {
      return "requested";
    }
    if (!commitComplete || !caused.ended()) {
      return "processing";
    }
    var verification = erasure.getVerification();
    long purgedAt = purgedAt(caused.jobs());
    if (verification != null
        && verification.getFound() == 0
        && verification.getCheckedAt() >= purgedAt) {
      return "verified";
    }
    return "purged";
  }

  /** When the last job ended (0 if none). */
  static long purgedAt(List<Job> caused) {
    return caused.stream()
        .map(Job::getFinishedAt)
        .filter(t -> t != null)
        .mapToLong(Long::longValue)
        .max()
        .orElse(0L);
  }

  /** Whether the erasure commit is sealed and complete on the member side. */
  private boolean commitComplete(Erasure erasure) {
    return erasure.getCommitId() != null
        && control.commits.get(erasure.getCommitId()).map(c -> c.getStats() != null).orElse(false);
  }

  /** When every job the erasure caused had ended (0: not yet, or not sealed). */
  long purgedAt(Erasure erasure) {
    Caused caused = caused(erasure);
    boolean complete = commitComplete(erasure);
    return complete && caused.ended() ? Math.max(1, purgedAt(caused.jobs())) : 0L;
  }

  /** Whether a scan after the purge found nothing. */
  boolean isVerified(Erasure erasure) {
    return "verified".equals(state(erasure, caused(erasure), purgedAt(erasure) > 0));
  }

  /**
   * Starts the verification scan of a request in the background (one at a time); its result goes to
   * the erasure log. 400 when {@code member} is not the member the request erased (the log only
   * holds its salted hash, so the caller must say it again).
   */
  Erasure verify(String id, Object member, Principal by) {
    Erasure erasure = erasure(id);
    if (!(member instanceof String key) || !ErasureLog.names(erasure, erasure.getRepo(), key)) {
      throw ApiException.badRequest(
          "member must be the member key erasure " + erasure.getId() + " erased");
    }
    scans.submit(
        () -> {
          try {
            ErasureScan.Result result =
                scan.scan(places.topicsOf(erasure.getRepo()), (String) member);
            Erasure checked =
                Erasure.newBuilder(erasures.get(erasure.getId()).orElse(erasure))
                    .setVerification(
                        ErasureVerification.newBuilder()
                            .setCheckedAt(System.currentTimeMillis())
                            .setCheckedBy(by.subject())
                            .setRecordsScanned(result.scanned())
                            .setFound(result.found())
                            .setPlaces(result.places())
                            .build())
                    .build();
            record(checked);
            log.info(
                "Erasure {} verified by {}: {} records scanned, {} found in {}",
                erasure.getId(),
                by.subject(),
                result.scanned(),
                result.found(),
                result.places());
          } catch (RuntimeException e) {
            log.warn("Verification of erasure {} failed: {}", erasure.getId(), e.toString());
          }
        });
    return erasure;
  }

  /** The JSON of a request: the log record (without salt and hash), its state and its jobs. */
  JsonObject json(Erasure erasure) {
    Caused caused = caused(erasure);
    boolean complete = commitComplete(erasure);
    JsonObject json = AvroJson.toJson(erasure);
    json.remove("salt");
    json.remove("memberHash");
    JsonArray jobItems = new JsonArray();
    for (Job job : caused.jobs()) {
      jobItems.add(
          new JsonObject()
              .put("jobId", job.getId())
              .put("pipeline", job.getPipeline())
              .put("repo", job.getRepo())
              .put("commitId", job.getCommitId())
              .put("state", job.getState().name()));
    }
    long purgedAt = caused.ended() && complete ? Math.max(1, purgedAt(caused.jobs())) : 0L;
    JsonObject report = places.report(erasure.getRepo(), purgedAt, System.currentTimeMillis());
    return json.put("requestedAtTime", Instant.ofEpochMilli(erasure.getRequestedAt()).toString())
        .put("state", state(erasure, caused, complete))
        .put("purgedAt", purgedAt == 0 ? null : Instant.ofEpochMilli(purgedAt).toString())
        .put("jobs", jobItems)
        .put("clearBy", report.getValue("clearBy"))
        .put("clearByTime", report.getValue("clearByTime"))
        .put("keptForever", report.getValue("keptForever"))
        .put("places", report.getValue("places"));
  }
}
