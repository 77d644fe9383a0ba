package io.tusk.lineage;

import io.tusk.common.http.ApiException;
import io.tusk.common.json.AvroJson;
import io.tusk.common.member.ParseResult;
import io.tusk.common.member.RowParser;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Output;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lineage queries, answered from the index stores through a {@link StoreLocator}. Each method
 * returns the JSON body of one endpoint of {@link LineageApi} or throws an {@link ApiException}.
 * Reads block: call them on worker threads.
 */
final class LineageQueries {
  private static final Logger log = LoggerFactory.getLogger(LineageQueries.class);

  /** Most entries one list answers. */
  static final int MAX_LIMIT = 1000;

  /** Deepest provenance or subvenance walk. */
  static final int MAX_DEPTH = 10;

  /** Most output versions of one member read for history, {@code at} and changes. */
  static final int MAX_VERSIONS = 10_000;

  /** Most upstream outputs one provenance answer expands. */
  static final int MAX_UPSTREAM_NODES = 1000;

  /** Most datums one logs page scans. */
  static final int MAX_LOG_SCAN = 10_000;

  /** Most bytes of logs one page answers. */
  static final int MAX_LOG_BYTES = 1 << 20;

  private static final Comparator<OutputEvent> NEWEST_FIRST =
      Comparator.comparingLong(OutputEvent::timestamp)
          .thenComparing(OutputEvent::topic)
          .thenComparingInt(OutputEvent::partition)
          .thenComparingLong(OutputEvent::offset)
          .reversed();

  private final StoreLocator stores;
  private final Catalog catalog;
  private final RowReader rows;

  LineageQueries(StoreLocator stores, Catalog catalog, RowReader rows) {
    this.stores = Objects.requireNonNull(stores, "stores");
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.rows = Objects.requireNonNull(rows, "rows");
  }

  // ---- jobs and commits ----

  /** {@code GET /jobs/{id}}: the job, its output commits and duration. */
  JsonObject job(String id) {
    Job job = found(job0(id), "no job " + id);
    JsonArray outputCommits = new JsonArray();
    for (KeyValue<String, Commit> entry :
        stores.<Commit>range(
            LineageService.COMMIT_INDEX_STORE,
            StoreKeys.prefix(IndexKeys.outputCommits(id)),
            null,
            MAX_LIMIT)) {
      outputCommits.add(entry.value.getId());
    }
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
        stores.range(LineageService.JOB_INDEX_STORE, prefix, Cursors.key(prefix, after), limit + 1);
    JsonArray jobs = new JsonArray();
    page.stream().limit(limit).forEach(entry -> jobs.add(AvroJson.toJson(entry.value)));
    return new JsonObject()
        .put("pipeline", pipeline)
        .put("jobs", jobs)
        .put("next", next(page, limit, entry -> Cursors.of(prefix, entry.key)));
  }

  /** {@code GET /commits/{id}}: the commit and the jobs it triggered. */
  JsonObject commit(String id) {
    Commit commit = found(commit0(id), "no commit " + id);
    return new JsonObject().put("commit", AvroJson.toJson(commit)).put("jobs", jobsOf(id));
  }

  /** {@code GET /repos/{repo}/commits?limit=&after=}: a repo's commits, newest first. */
  JsonObject repoCommits(String repo, int limit, String after) {
    String prefix = StoreKeys.prefix(IndexKeys.repoCommits(repo));
    List<KeyValue<String, Commit>> page =
        stores.range(
            LineageService.COMMIT_INDEX_STORE, prefix, Cursors.key(prefix, after), limit + 1);
    if (page.isEmpty() && after == null && !catalog.repos().containsKey(repo)) {
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
        stores.range(LineageService.COMMIT_INDEX_STORE, prefix, null, MAX_LIMIT);
    List<KeyValue<String, Job>> jobs =
        stores.range(LineageService.JOB_INDEX_STORE, prefix, null, MAX_LIMIT);
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

  // ---- datums and logs ----

  /** {@code GET /jobs/{id}/datums?state=&limit=&after=}: a job's datums by member. */
  JsonObject datums(String jobId, DatumState state, int limit, String after) {
    JsonArray datums = new JsonArray();
    String next;
    if (state == null) {
      String prefix = StoreKeys.prefix(jobId);
      List<KeyValue<String, DatumResult>> page =
          stores.range(LineageService.DATUMS_STORE, prefix, afterKey(prefix, after), limit + 1);
      page.stream().limit(limit).forEach(entry -> datums.add(datumJson(entry.value)));
      next = next(page, limit, entry -> entry.value.getMember());
    } else {
      String prefix = StoreKeys.prefix(jobId, state.name());
      List<KeyValue<String, String>> page =
          stores.range(
              LineageService.DATUM_STATES_STORE, prefix, afterKey(prefix, after), limit + 1);
      for (KeyValue<String, String> entry : page.subList(0, Math.min(limit, page.size()))) {
        DatumResult result =
            stores.get(
                LineageService.DATUMS_STORE,
                DatumIndexer.key(jobId, entry.key.substring(prefix.length())));
        if (result != null) {
          datums.add(datumJson(result));
        }
      }
      next = next(page, limit, entry -> entry.key.substring(prefix.length()));
    }
    if (datums.isEmpty() && after == null && job0(jobId) == null) {
      throw ApiException.notFound("no job " + jobId);
    }
    return new JsonObject()
        .put("jobId", jobId)
        .put("state", state == null ? null : state.name())
        .put("datums", datums)
        .put("next", next);
  }

  /** {@code GET /jobs/{id}/datums/{member}/logs}: the captured log of one datum. */
  JsonObject datumLog(String jobId, String member) {
    DatumResult result =
        found(
            stores.get(LineageService.DATUMS_STORE, DatumIndexer.key(jobId, member)),
            "no datum of job " + jobId + " for member " + member);
    return logJson(result);
  }

  /**
   * {@code GET /jobs/{id}/logs?limit=&after=}: logs of a job's datums, bounded in count and size.
   */
  JsonObject jobLogs(String jobId, int limit, String after) {
    String prefix = StoreKeys.prefix(jobId);
    List<KeyValue<String, DatumResult>> scanned =
        stores.range(LineageService.DATUMS_STORE, prefix, afterKey(prefix, after), MAX_LOG_SCAN);
    JsonArray logs = new JsonArray();
    int bytes = 0;
    String next = null;
    for (int i = 0; i < scanned.size(); i++) {
      DatumResult result = scanned.get(i).value;
      if (result.getLog() == null) {
        continue;
      }
      if (logs.size() == limit || (bytes > 0 && bytes + result.getLog().length() > MAX_LOG_BYTES)) {
        next = scanned.get(i - 1).value.getMember();
        break;
      }
      bytes += result.getLog().length();
      logs.add(logJson(result));
    }
    if (next == null && scanned.size() == MAX_LOG_SCAN) {
      next = scanned.get(scanned.size() - 1).value.getMember();
    }
    if (scanned.isEmpty() && after == null && job0(jobId) == null) {
      throw ApiException.notFound("no job " + jobId);
    }
    return new JsonObject().put("jobId", jobId).put("logs", logs).put("next", next);
  }

  private static JsonObject datumJson(DatumResult result) {
    return new JsonObject()
        .put("member", result.getMember())
        .put("datumHash", result.getDatumHash())
        .put("state", result.getState().name())
        .put("attempts", result.getAttempts())
        .put("error", result.getError())
        .put("durationMicros", result.getDurationMicros())
        .put("processorId", result.getProcessorId())
        .put("restart", result.getRestart())
        .put("startedAt", result.getStartedAt())
        .put("hasLog", result.getLog() != null);
  }

  private static JsonObject logJson(DatumResult result) {
    return new JsonObject()
        .put("jobId", result.getJobId())
        .put("member", result.getMember())
        .put("state", result.getState().name())
        .put("attempts", result.getAttempts())
        .put("log", result.getLog());
  }

  // ---- outputs ----

  /** {@code GET /pipelines/{p}/outputs/{member}}: the latest output with data and inputs. */
  JsonObject output(String pipeline, String member) {
    OutputEvent event = latest(pipeline, member);
    return outputSummary(event).put("data", data(event.output())).put("inputs", inputs(event));
  }

  /** {@code GET .../lineage}: output -> datum -> job -> commit -> input rows (one level). */
  JsonObject lineage(String pipeline, String member) {
    OutputEvent event = latest(pipeline, member);
    Job job = job0(event.jobId());
    Commit commit = commit0(event.commitId());
    return new JsonObject()
        .put("output", outputSummary(event))
        .put("datum", datum(event))
        .put("job", job == null ? null : AvroJson.toJson(job))
        .put("commit", commit == null ? null : AvroJson.toJson(commit))
        .put("repo", repoOf(job, commit))
        .put("inputRows", inputs(event))
        .put("inputRowCount", event.output().getInputs().size());
  }

  /**
   * {@code GET .../provenance?at=&depth=&content=&limit=}: the output (latest, or as of input
   * commit {@code at}), its datum, job, input commit and input rows, following rows of upstream
   * pipelines' outputs up to {@code depth} levels.
   */
  JsonObject provenance(
      String pipeline, String member, String at, int depth, boolean content, int limit) {
    OutputEvent event = at == null ? latest(pipeline, member) : asOf(pipeline, member, at);
    int[] budget = {MAX_UPSTREAM_NODES};
    return node(event, depth, content, limit, budget).put("at", at).put("depth", depth);
  }

  /** {@code GET .../history?limit=&after=}: every version of a member's output, newest first. */
  JsonObject history(String pipeline, String member, int limit, String afterJob) {
    List<OutputEvent> versions = versions(pipeline, member);
    if (versions.isEmpty()) {
      throw ApiException.notFound(noOutput(pipeline, member));
    }
    int start = 0;
    if (afterJob != null) {
      start = indexOfJob(versions, afterJob) + 1;
      if (start == 0) {
        throw ApiException.badRequest(
            "query parameter 'after' must be a job of this member's history: " + afterJob);
      }
    }
    JsonArray items = new JsonArray();
    int end = Math.min(versions.size(), start + limit);
    for (OutputEvent version : versions.subList(start, end)) {
      Job job = job0(version.jobId());
      JsonObject item = versionJson(version);
      item.put(
          "job",
          job == null
              ? null
              : new JsonObject()
                  .put("state", job.getState().name())
                  .put("kind", job.getKind().name())
                  .put("mode", job.getMode().name())
                  .put("sequence", job.getSequence())
                  .put("createdAt", job.getCreatedAt()));
      items.add(item);
    }
    return new JsonObject()
        .put("pipeline", pipeline)
        .put("member", member)
        .put("outputs", items)
        .put("next", end < versions.size() ? versions.get(end - 1).jobId() : null);
  }

  /**
   * {@code GET .../changes?from=&to=}: what changed between two versions of a member's output: the
   * input rows added and removed (by position and table) and the output's data with a shallow diff
   * of top-level JSON fields. {@code to} defaults to the latest version, {@code from} to the
   * version before {@code to}.
   */
  JsonObject changes(String pipeline, String member, String fromJob, String toJob) {
    List<OutputEvent> versions = versions(pipeline, member);
    if (versions.isEmpty()) {
      throw ApiException.notFound(noOutput(pipeline, member));
    }
    int toIndex = toJob == null ? 0 : indexOfJob(versions, toJob);
    if (toIndex < 0) {
      throw ApiException.notFound("job " + toJob + " wrote no output for member " + member);
    }
    int fromIndex;
    if (fromJob == null) {
      fromIndex = toIndex + 1 < versions.size() ? toIndex + 1 : -1;
    } else {
      fromIndex = indexOfJob(versions, fromJob);
      if (fromIndex < 0) {
        throw ApiException.notFound("job " + fromJob + " wrote no output for member " + member);
      }
    }
    OutputEvent to = versions.get(toIndex);
    OutputEvent from = fromIndex < 0 ? null : versions.get(fromIndex);
    return new JsonObject()
        .put("pipeline", pipeline)
        .put("member", member)
        .put("from", from == null ? null : versionJson(from))
        .put("to", versionJson(to))
        .put("inputs", inputChanges(from, to))
        .put("output", outputChanges(from, to));
  }

  // ---- subvenance ----

  /** {@code GET /repos/{repo}/members/{member}/subvenance}: every output derived from a member. */
  JsonObject memberSubvenance(String repo, String member, int depth, int limit, int after) {
    if (!catalog.repos().containsKey(repo)) {
      throw ApiException.notFound("no repo " + repo);
    }
    List<OutputEvent> first = new ArrayList<>();
    catalog.pipelines().values().stream()
        .filter(p -> repo.equals(p.getInputRepo()))
        .map(PipelineSpec::getName)
        .sorted()
        .forEach(p -> first.addAll(versions(p, member)));
    JsonObject body = subvenance(first, depth, limit, after);
    return new JsonObject().put("repo", repo).put("member", member).mergeIn(body);
  }

  /** {@code GET /rows/{topic}/{partition}/{offset}/subvenance}: every output derived from a row. */
  JsonObject rowSubvenance(
      String topic, int partition, long offset, int depth, int limit, int after) {
    List<OutputEvent> first =
        TopicNames.OUTPUT_PATTERN.matcher(topic).matches()
            ? readers(OutputEvent.position(topic, partition, offset))
            : sourceRowReaders(topic, partition, offset);
    JsonObject body = subvenance(first, depth, limit, after);
    return new JsonObject()
        .put("topic", topic)
        .put("partition", partition)
        .put("offset", offset)
        .mergeIn(body);
  }

  /**
   * Breadth first from {@code first} (depth 1): an output's own record is a row of its pipeline's
   * output topic, so the outputs that read that row are the next level. Deterministic order, so
   * {@code after} (the number of items already answered) pages through the same walk.
   */
  private JsonObject subvenance(List<OutputEvent> first, int depth, int limit, int after) {
    int wanted = after + limit + 1;
    List<JsonObject> items = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    List<OutputEvent> level = new ArrayList<>();
    for (OutputEvent event : first) {
      if (seen.add(versionId(event))) {
        level.add(event);
        items.add(subvenanceItem(event, 1, null));
      }
    }
    for (int d = 2; d <= depth && items.size() < wanted && !level.isEmpty(); d++) {
      List<OutputEvent> nextLevel = new ArrayList<>();
      for (OutputEvent upstream : level) {
        if (upstream.removed()) {
          continue;
        }
        for (OutputEvent reader : readers(upstream.position())) {
          if (items.size() >= wanted) {
            break;
          }
          if (seen.add(versionId(reader))) {
            nextLevel.add(reader);
            items.add(subvenanceItem(reader, d, upstream));
          }
        }
      }
      level = nextLevel;
    }
    JsonArray page = new JsonArray();
    items.stream().skip(after).limit(limit).forEach(page::add);
    return new JsonObject()
        .put("depth", depth)
        .put("outputs", page)
        .put("next", items.size() > after + limit ? String.valueOf(after + limit) : null);
  }

  private static JsonObject subvenanceItem(OutputEvent event, int depth, OutputEvent via) {
    return new JsonObject()
        .put("pipeline", event.pipeline())
        .put("member", event.member())
        .put("jobId", event.jobId())
        .put("commitId", event.commitId())
        .put("globalId", event.globalId())
        .put("datumHash", event.datumHash())
        .put("removed", event.removed())
        .put("position", position(event))
        .put("depth", depth)
        .put(
            "via",
            via == null
                ? null
                : new JsonObject()
                    .put("pipeline", via.pipeline())
                    .put("member", via.member())
                    .put("jobId", via.jobId()));
  }

  /** The output versions that list a source repo's row among their inputs. */
  private List<OutputEvent> sourceRowReaders(String topic, int partition, long offset) {
    RepoSpec repo =
        catalog.repos().values().stream()
            .filter(spec -> TopicNames.updatesOf(spec).equals(topic))
            .findFirst()
            .orElseThrow(() -> ApiException.notFound("no repo reads topic " + topic));
    RowReader.StoredRow row = rows.read(topic, partition, offset);
    if (row == null || row.value() == null) {
      throw ApiException.notFound("no row at " + OutputEvent.position(topic, partition, offset));
    }
    if (!(new RowParser(repo).parse(row.value(), row.table(), partition, offset)
        instanceof ParseResult.Accepted accepted)) {
      throw ApiException.notFound(
          "the record at "
              + OutputEvent.position(topic, partition, offset)
              + " is not a row of repo "
              + repo.getName());
    }
    List<OutputEvent> readers = new ArrayList<>();
    catalog.pipelines().values().stream()
        .filter(p -> repo.getName().equals(p.getInputRepo()))
        .map(PipelineSpec::getName)
        .sorted()
        .forEach(
            p ->
                versions(p, accepted.member()).stream()
                    .filter(version -> reads(version, topic, partition, offset))
                    .forEach(readers::add));
    return readers;
  }

  private static boolean reads(OutputEvent version, String topic, int partition, long offset) {
    return version.output() != null
        && version.output().getInputs().stream()
            .anyMatch(
                input ->
                    input.getOffset() == offset
                        && input.getPartition() == partition
                        && input.getTopic().equals(topic));
  }

  private List<OutputEvent> readers(String position) {
    List<OutputEvent> readers = new ArrayList<>();
    for (KeyValue<String, OutputEvent> entry :
        stores.<OutputEvent>range(
            LineageService.ROWS_STORE, IndexKeys.readersPrefix(position), null, MAX_LIMIT)) {
      readers.add(entry.value);
    }
    return readers;
  }

  // ---- provenance internals ----

  private JsonObject node(OutputEvent event, int depth, boolean content, int limit, int[] budget) {
    Job job = job0(event.jobId());
    Commit commit = commit0(event.commitId());
    JsonObject node =
        new JsonObject()
            .put("pipeline", event.pipeline())
            .put("member", event.member())
            .put("output", outputSummary(event))
            .put("datum", datum(event))
            .put("job", job == null ? null : AvroJson.toJson(job))
            .put("commit", commit == null ? null : AvroJson.toJson(commit))
            .put("repo", repoOf(job, commit));
    List<InputRef> inputs = event.output() == null ? List.of() : event.output().getInputs();
    JsonArray rows = new JsonArray();
    for (InputRef input : inputs.subList(0, Math.min(limit, inputs.size()))) {
      JsonObject row = AvroJson.toJson(input);
      if (TopicNames.OUTPUT_PATTERN.matcher(input.getTopic()).matches()) {
        row.put("upstream", upstream(input, depth, content, limit, budget));
      } else if (content) {
        row.put("content", content(input));
      }
      rows.add(row);
    }
    return node.put("inputCount", inputs.size())
        .put("inputs", rows)
        .put("inputsTruncated", inputs.size() > limit);
  }

  /** The upstream output an input row on {@code <pipeline>.output} is, expanded while allowed. */
  private JsonObject upstream(InputRef input, int depth, boolean content, int limit, int[] budget) {
    String position =
        OutputEvent.position(input.getTopic(), input.getPartition(), input.getOffset());
    OutputEvent pointer = stores.get(LineageService.ROWS_STORE, IndexKeys.writtenAt(position));
    if (pointer == null) {
      return null;
    }
    OutputEvent version =
        stores.get(
            LineageService.OUTPUTS_STORE,
            IndexKeys.outputVersion(pointer.pipeline(), pointer.member(), pointer.jobId()));
    if (depth <= 0 || budget[0] <= 0 || version == null) {
      JsonObject summary = outputSummary(version == null ? pointer : version);
      if (content && version != null && version.output() != null) {
        summary.put("data", data(version.output()));
      }
      return new JsonObject()
          .put("pipeline", pointer.pipeline())
          .put("member", pointer.member())
          .put("output", summary)
          .put("truncated", true);
    }
    budget[0]--;
    JsonObject node = node(version, depth - 1, content, limit, budget);
    if (content && version.output() != null) {
      node.getJsonObject("output").put("data", data(version.output()));
    }
    return node;
  }

  /** A source row's bytes from Kafka: UTF-8 text when it decodes, else base64. */
  private JsonObject content(InputRef input) {
    RowReader.StoredRow row = rows.read(input.getTopic(), input.getPartition(), input.getOffset());
    if (row == null || row.value() == null) {
      return new JsonObject().put("missing", true);
    }
    byte[] value = row.value();
    String text = utf8(value);
    return text != null
        ? new JsonObject().put("encoding", "utf-8").put("value", text)
        : new JsonObject()
            .put("encoding", "base64")
            .put("value", Base64.getEncoder().encodeToString(value));
  }

  /** The output a member had as of input commit {@code commitId}. */
  private OutputEvent asOf(String pipeline, String member, String commitId) {
    List<OutputEvent> versions = versions(pipeline, member);
    for (OutputEvent version : versions) {
      if (version.commitId().equals(commitId)) {
        return present(version, pipeline, member, commitId);
      }
    }
    Commit at = found(commit0(commitId), "no commit " + commitId);
    // The member did not change in that commit: its output is the one of the latest earlier commit.
    for (OutputEvent version : versions) {
      Commit commit = commit0(version.commitId());
      if (commit != null
          && commit.getRepo().equals(at.getRepo())
          && commit.getSequence() <= at.getSequence()) {
        return present(version, pipeline, member, commitId);
      }
    }
    throw ApiException.notFound(
        "no output of pipeline "
            + pipeline
            + " for member "
            + member
            + " as of commit "
            + commitId);
  }

  private static OutputEvent present(
      OutputEvent version, String pipeline, String member, String commitId) {
    if (version.removed()) {
      throw ApiException.notFound(
          "member " + member + " was removed from pipeline " + pipeline + " as of " + commitId);
    }
    return version;
  }

  private OutputEvent latest(String pipeline, String member) {
    return found(
        stores.get(LineageService.OUTPUTS_STORE, OutputKeyer.key(pipeline, member)),
        noOutput(pipeline, member));
  }

  /** Every version of a member's output, newest first. */
  private List<OutputEvent> versions(String pipeline, String member) {
    List<OutputEvent> versions = new ArrayList<>();
    for (KeyValue<String, OutputEvent> entry :
        stores.<OutputEvent>range(
            LineageService.OUTPUTS_STORE,
            StoreKeys.prefix(OutputKeyer.key(pipeline, member)),
            null,
            MAX_VERSIONS)) {
      versions.add(entry.value);
    }
    versions.sort(NEWEST_FIRST);
    return versions;
  }

  private static int indexOfJob(List<OutputEvent> versions, String jobId) {
    for (int i = 0; i < versions.size(); i++) {
      if (versions.get(i).jobId().equals(jobId)) {
        return i;
      }
    }
    return -1;
  }

  private JsonObject inputChanges(OutputEvent from, OutputEvent to) {
    Set<JsonObject> before = new LinkedHashSet<>(rowsOf(from));
    Set<JsonObject> after = new LinkedHashSet<>(rowsOf(to));
    JsonArray added = new JsonArray();
    after.stream().filter(row -> !before.contains(row)).forEach(added::add);
    JsonArray removed = new JsonArray();
    before.stream().filter(row -> !after.contains(row)).forEach(removed::add);
    long unchanged = after.stream().filter(before::contains).count();
    return new JsonObject().put("added", added).put("removed", removed).put("unchanged", unchanged);
  }

  private static List<JsonObject> rowsOf(OutputEvent event) {
    if (event == null || event.output() == null) {
      return List.of();
    }
    return event.output().getInputs().stream().map(AvroJson::toJson).toList();
  }

  private static JsonObject outputChanges(OutputEvent from, OutputEvent to) {
    Object before = from == null ? null : data(from.output());
    Object after = data(to.output());
    String beforeHash =
        from == null || from.output() == null ? null : from.output().getOutputHash();
    String afterHash = to.output() == null ? null : to.output().getOutputHash();
    JsonObject changes =
        new JsonObject()
            .put("changed", !Objects.equals(beforeHash, afterHash))
            .put("before", before)
            .put("after", after);
    if (before instanceof JsonObject b && after instanceof JsonObject a) {
      changes.put("fields", shallowDiff(b, a));
    } else {
      changes.put("fields", null);
    }
    return changes;
  }

  /** Top-level fields added, removed and changed from {@code before} to {@code after}. */
  static JsonObject shallowDiff(JsonObject before, JsonObject after) {
    JsonObject added = new JsonObject();
    JsonObject removed = new JsonObject();
    JsonObject changed = new JsonObject();
    for (String field : new TreeMap<>(after.getMap()).keySet()) {
      if (!before.containsKey(field)) {
        added.put(field, after.getValue(field));
      } else if (!Objects.equals(before.getValue(field), after.getValue(field))) {
        changed.put(
            field,
            new JsonObject()
                .put("before", before.getValue(field))
                .put("after", after.getValue(field)));
      }
    }
    for (String field : new TreeMap<>(before.getMap()).keySet()) {
      if (!after.containsKey(field)) {
        removed.put(field, before.getValue(field));
      }
    }
    return new JsonObject().put("added", added).put("removed", removed).put("changed", changed);
  }

  // ---- shared pieces ----

  private Job job0(String id) {
    return stores.get(LineageService.JOBS_STORE, id);
  }

  private Commit commit0(String id) {
    return id.isEmpty() ? null : stores.get(LineageService.COMMITS_STORE, id);
  }

  /** The jobs a commit triggered that are indexed so far, by pipeline. */
  private JsonArray jobsOf(String commitId) {
    List<String> jobIds = stores.get(LineageService.COMMIT_JOBS_STORE, commitId);
    JsonArray jobs = new JsonArray();
    if (jobIds == null) {
      return jobs;
    }
    jobIds.stream()
        .map(this::job0)
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

  private static String repoOf(Job job, Commit commit) {
    return commit != null ? commit.getRepo() : job != null ? job.getRepo() : null;
  }

  private static JsonObject datum(OutputEvent event) {
    return new JsonObject()
        .put("hash", event.datumHash())
        .put("member", event.member())
        .put("pipeline", event.pipeline());
  }

  /** The output's provenance fields, without its data and input rows. */
  private static JsonObject outputSummary(OutputEvent event) {
    JsonObject json;
    if (event.output() != null) {
      json = AvroJson.toJson(event.output());
      json.remove("data");
      json.remove("inputs");
    } else {
      json =
          new JsonObject()
              .put("pipeline", event.pipeline())
              .put("member", event.member())
              .put("jobId", event.jobId())
              .put("commitId", event.commitId())
              .put("globalId", event.globalId())
              .put("datumHash", event.datumHash());
    }
    return json.put("removed", event.removed())
        .put("timestamp", event.timestamp())
        .put("position", position(event));
  }

  private static JsonObject versionJson(OutputEvent event) {
    Output output = event.output();
    return new JsonObject()
        .put("jobId", event.jobId())
        .put("commitId", event.commitId())
        .put("globalId", event.globalId())
        .put("datumHash", event.datumHash())
        .put("outputHash", output == null ? null : output.getOutputHash())
        .put("contentType", output == null ? null : output.getContentType())
        .put("removed", event.removed())
        .put("timestamp", event.timestamp())
        .put("position", position(event))
        .put("inputCount", output == null ? 0 : output.getInputs().size());
  }

  private static JsonObject position(OutputEvent event) {
    return new JsonObject()
        .put("topic", event.topic())
        .put("partition", event.partition())
        .put("offset", event.offset());
  }

  private static JsonArray inputs(OutputEvent event) {
    JsonArray inputs = new JsonArray();
    for (JsonObject row : rowsOf(event)) {
      inputs.add(row);
    }
    return inputs;
  }

  private static String versionId(OutputEvent event) {
    return StoreKeys.join(event.pipeline(), event.member(), event.jobId());
  }

  /** JSON data as JSON; anything else (and JSON that does not parse) as UTF-8 text. */
  static Object data(Output output) {
    if (output == null) {
      return null;
    }
    ByteBuffer buffer = output.getData().duplicate();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    if (isJson(output.getContentType())) {
      try {
        return Json.decodeValue(Buffer.buffer(bytes));
      } catch (DecodeException e) {
        // A transform declared JSON but wrote something else: still show what it wrote.
        log.debug(
            "Output of pipeline {} for member {} is not valid JSON; answering it as text",
            output.getPipeline(),
            output.getMember(),
            e);
      }
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static boolean isJson(String contentType) {
    String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return mediaType.equals("application/json");
  }

  private static String utf8(byte[] bytes) {
    try {
      CharBuffer chars =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
      return chars.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String afterKey(String prefix, String after) {
    return after == null ? null : prefix + after;
  }

  private static <T> String next(
      List<T> page, int limit, java.util.function.Function<T, String> cursor) {
    return page.size() > limit ? cursor.apply(page.get(limit - 1)) : null;
  }

  private static <T> T found(T value, String message) {
    if (value == null) {
      throw ApiException.notFound(message);
    }
    return value;
  }

  private static String noOutput(String pipeline, String member) {
    return "no output of pipeline " + pipeline + " for member " + member;
  }
}
