package io.tusk.lineage;

import static io.tusk.lineage.QueryJson.found;
import static io.tusk.lineage.QueryJson.next;

import io.tusk.common.http.ApiException;
import io.tusk.common.json.AvroJson;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;

/**
 * The lineage queries of jobs and the commits that trigger them: a job with its output commits,
 * recent jobs, a commit with its jobs, a repo's commits, everything of a global ID, and the repos
 * and pipelines of the catalog. Each method returns the JSON body of one endpoint of {@link
 * LineageApi} or throws an {@link ApiException}. Reads block: call them on worker threads.
 */
final class JobQueries {
  private final IndexReads reads;
  private final Catalog catalog;

  JobQueries(IndexReads reads, Catalog catalog) {
    this.reads = Objects.requireNonNull(reads, "reads");
    this.catalog = Objects.requireNonNull(catalog, "catalog");
  }

  /** {@code GET /jobs/{id}}: the job, its output commits and duration. */
  JsonObject job(String id) {
    Job job = found(reads.job(id), "no job " + id);
    // In the order they were sealed: the job's end first, then each restart round's.
    List<Commit> sealed = new ArrayList<>();
    for (KeyValue<String, Commit> entry :
        reads.<Commit>range(
            LineageStores.COMMIT_INDEX_STORE,
            StoreKeys.prefix(IndexKeys.outputCommits(id)),
            null,
            IndexReads.MAX_LIMIT)) {
      sealed.add(entry.value);
    }
    sealed.sort(
        Comparator.comparingInt(Commit::getSourceRound)
            .thenComparingLong(Commit::getCreatedAt)
            .thenComparing(Commit::getId));
    JsonArray outputCommits = new JsonArray();
    sealed.forEach(commit -> outputCommits.add(commit.getId()));
    return AvroJson.toJson(job)
        .put("outputCommit", outputCommits.isEmpty() ? null : outputCommits.getString(0))
        .put("outputCommits", outputCommits)
        .put(
            "durationMs",
            job.getFinishedAt() == null ? null : job.getFinishedAt() - job.getCreatedAt());
  }

  /** {@code GET /jobs?pipeline=&limit=&after=}: recent jobs, newest first. */
  JsonObject jobs(String pipeline, int limit, String after) {
    String prefix =
        StoreKeys.prefix(pipeline == null ? IndexKeys.ALL_JOBS : IndexKeys.pipelineJobs(pipeline));
    List<KeyValue<String, Job>> page =
        reads.range(LineageStores.JOB_INDEX_STORE, prefix, Cursors.key(prefix, after), limit + 1);
    JsonArray jobs = new JsonArray();
    page.stream().limit(limit).forEach(entry -> jobs.add(AvroJson.toJson(entry.value)));
    return new JsonObject()
        .put("pipeline", pipeline)
        .put("jobs", jobs)
        .put("next", next(page, limit, entry -> Cursors.of(prefix, entry.key)));
  }

  /** {@code GET /commits/{id}}: the commit and the jobs it triggered. */
  JsonObject commit(String id) {
    Commit commit = found(reads.commit(id), "no commit " + id);
    return new JsonObject().put("commit", AvroJson.toJson(commit)).put("jobs", jobsOf(id));
  }

  /** {@code GET /repos/{repo}/commits?limit=&after=}: a repo's commits, newest first. */
  JsonObject repoCommits(String repo, int limit, String after) {
    String prefix = StoreKeys.prefix(IndexKeys.repoCommits(repo));
    // A deleted repo's commits stay in this index (a commit's tombstone carries no value to find
    // its index keys by): only commits of the repo of that name that exists now are listed, those
    // made since it was created.
    RepoSpec spec = catalog.repos().get(repo);
    long since = spec == null ? Long.MAX_VALUE : spec.getCreatedAt();
    List<KeyValue<String, Commit>> page = new ArrayList<>();
    String from = Cursors.key(prefix, after);
    while (page.size() <= limit) {
      List<KeyValue<String, Commit>> chunk =
          reads.range(LineageStores.COMMIT_INDEX_STORE, prefix, from, limit + 1);
      for (KeyValue<String, Commit> entry : chunk) {
        if (entry.value.getCreatedAt() >= since && page.size() <= limit) {
          page.add(entry);
        }
      }
      if (chunk.size() < limit + 1) {
        break;
      }
      from = chunk.get(chunk.size() - 1).key;
    }
    if (page.isEmpty() && after == null && spec == null) {
      throw ApiException.notFound("no repo " + repo);
    }
    JsonArray commits = new JsonArray();
    page.stream()
        .limit(limit)
        .forEach(
            entry ->
                commits.add(
                    AvroJson.toJson(entry.value).put("jobStates", jobStates(entry.value.getId()))));
    return new JsonObject()
        .put("repo", repo)
        .put("commits", commits)
        .put("next", next(page, limit, entry -> Cursors.of(prefix, entry.key)));
  }

  /** {@code GET /repos}: every repo, by name. */
  JsonObject repos() {
    JsonArray repos = new JsonArray();
    new TreeMap<>(catalog.repos())
        .values()
        .forEach(
            repo ->
                repos.add(AvroJson.toJson(repo).put("updatesTopic", TopicNames.updatesOf(repo))));
    return new JsonObject().put("repos", repos);
  }

  /** {@code GET /pipelines}: every pipeline, by name. */
  JsonObject pipelines() {
    JsonArray pipelines = new JsonArray();
    new TreeMap<>(catalog.pipelines()).values().forEach(p -> pipelines.add(AvroJson.toJson(p)));
    return new JsonObject().put("pipelines", pipelines);
  }

  /** {@code GET /global/{id}}: every commit and job of a global ID, oldest first. */
  JsonObject global(String globalId) {
    String prefix = StoreKeys.prefix(IndexKeys.global(globalId));
    List<KeyValue<String, Commit>> commits =
        reads.range(LineageStores.COMMIT_INDEX_STORE, prefix, null, IndexReads.MAX_LIMIT);
    List<KeyValue<String, Job>> jobs =
        reads.range(LineageStores.JOB_INDEX_STORE, prefix, null, IndexReads.MAX_LIMIT);
    if (commits.isEmpty() && jobs.isEmpty()) {
      throw ApiException.notFound("no commit or job with global ID " + globalId);
    }
    JsonArray commitJson = new JsonArray();
    commits.forEach(entry -> commitJson.add(AvroJson.toJson(entry.value)));
    JsonArray jobJson = new JsonArray();
    jobs.forEach(entry -> jobJson.add(AvroJson.toJson(entry.value)));
    return new JsonObject()
        .put("globalId", globalId)
        .put("state", globalState(commits, jobs))
        .put("commits", commitJson)
        .put("jobs", jobJson);
  }

  /**
   * failure if a job failed or was killed; running while anything is unfinished: a job created or
   * running, a commit not complete or naming a job not indexed yet, or a successful job whose
   * pipeline feeds downstream pipelines but whose output commit is not there yet (the commit
   * service seals it after the job ends); else success.
   */
  private String globalState(
      List<KeyValue<String, Commit>> commits, List<KeyValue<String, Job>> jobs) {
    Set<String> jobIds = new HashSet<>();
    jobs.forEach(e -> jobIds.add(e.value.getId()));
    Set<String> sealedBy = new HashSet<>();
    commits.forEach(e -> sealedBy.add(e.value.getSourceJob()));
    boolean failed =
        jobs.stream()
            .anyMatch(
                e ->
                    e.value.getState() == JobState.FAILURE
                        || e.value.getState() == JobState.KILLED);
    if (failed) {
      return "failure";
    }
    boolean running =
        jobs.stream()
                .anyMatch(
                    e ->
                        e.value.getState() == JobState.RUNNING
                            || e.value.getState() == JobState.CREATED
                            || (!sealedBy.contains(e.value.getId())
                                && feedsDownstream(e.value.getPipeline())))
            || commits.stream()
                .anyMatch(
                    e ->
                        (e.value.getStats() == null && !e.value.getJobs().isEmpty())
                            || e.value.getJobs().stream()
                                .anyMatch(ref -> !jobIds.contains(ref.getJobId())));
    return running ? "running" : "success";
  }

  /** True if some pipeline reads {@code pipeline}'s outputs (through a derived repo). */
  private boolean feedsDownstream(String pipeline) {
    Set<String> derived = new HashSet<>();
    catalog.repos().values().stream()
        .filter(repo -> pipeline.equals(repo.getSourcePipeline()))
        .forEach(repo -> derived.add(repo.getName()));
    return catalog.pipelines().values().stream()
        .anyMatch(p -> pipeline.equals(p.getInputPipeline()) || derived.contains(p.getInputRepo()));
  }

  /** The jobs a commit triggered that are indexed so far, by pipeline. */
  private JsonArray jobsOf(String commitId) {
    List<String> jobIds = reads.get(LineageStores.COMMIT_JOBS_STORE, commitId);
    JsonArray jobs = new JsonArray();
    if (jobIds == null) {
      return jobs;
    }
    jobIds.stream()
        .map(reads::job)
        .filter(Objects::nonNull)
        .sorted(Comparator.comparing(Job::getPipeline).thenComparing(Job::getId))
        .forEach(job -> jobs.add(AvroJson.toJson(job)));
    return jobs;
  }

  /** The states of a commit's jobs, by pipeline. */
  private JsonObject jobStates(String commitId) {
    JsonObject states = new JsonObject();
    for (Object job : jobsOf(commitId)) {
      JsonObject json = (JsonObject) job;
      states.put(json.getString("pipeline"), json.getString("state"));
    }
    return states;
  }
}
