package io.tusk.lineage;

import static io.tusk.lineage.QueryJson.data;
import static io.tusk.lineage.QueryJson.inputs;
import static io.tusk.lineage.QueryJson.noOutput;
import static io.tusk.lineage.QueryJson.outputSummary;
import static io.tusk.lineage.QueryJson.rowsOf;
import static io.tusk.lineage.QueryJson.versionJson;

import io.tusk.common.http.ApiException;
import io.tusk.schemas.Job;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The lineage queries of one member's output of a pipeline over time: the latest output with its
 * data and input rows, every version newest first, and what changed between two versions (input
 * rows added and removed, a shallow diff of the data). Each method returns the JSON body of one
 * endpoint of {@link LineageApi} or throws an {@link ApiException}. Reads block: call them on
 * worker threads.
 */
final class OutputQueries {
  private final IndexReads reads;

  OutputQueries(IndexReads reads) {
    this.reads = Objects.requireNonNull(reads, "reads");
  }

  /** {@code GET /pipelines/{p}/outputs/{member}}: the latest output with data and inputs. */
  JsonObject output(String pipeline, String member) {
    OutputEvent event = reads.latest(pipeline, member);
    return outputSummary(event).put("data", data(event.output())).put("inputs", inputs(event));
  }

  /** {@code GET .../history?limit=&after=}: every version of a member's output, newest first. */
  JsonObject history(String pipeline, String member, int limit, String afterJob) {
    List<OutputEvent> versions = reads.versions(pipeline, member);
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
      Job job = reads.job(version.jobId());
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
    List<OutputEvent> versions = reads.versions(pipeline, member);
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
}
