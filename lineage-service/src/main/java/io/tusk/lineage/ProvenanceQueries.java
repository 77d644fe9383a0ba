package io.tusk.lineage;

import static io.tusk.lineage.QueryJson.data;
import static io.tusk.lineage.QueryJson.datum;
import static io.tusk.lineage.QueryJson.found;
import static io.tusk.lineage.QueryJson.inputs;
import static io.tusk.lineage.QueryJson.outputSummary;
import static io.tusk.lineage.QueryJson.repoOf;
import static io.tusk.lineage.QueryJson.utf8;

import io.tusk.common.http.ApiException;
import io.tusk.common.json.AvroJson;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Job;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * The lineage queries that walk from an output back to what it was computed from: its datum, job,
 * input commit and input rows (one level, or following upstream pipelines' outputs up to a depth),
 * as of the latest output or an input commit, optionally with the source rows' content. Each method
 * returns the JSON body of one endpoint of {@link LineageApi} or throws an {@link ApiException}.
 * Reads block: call them on worker threads.
 */
final class ProvenanceQueries {
  /** Deepest provenance or subvenance walk. */
  static final int MAX_DEPTH = 10;

  /** Most upstream outputs one provenance answer expands. */
  static final int MAX_UPSTREAM_NODES = 1000;

  private final IndexReads reads;
  private final RowReader rows;
  private final Catalog catalog;

  ProvenanceQueries(IndexReads reads, RowReader rows, Catalog catalog) {
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.reads = Objects.requireNonNull(reads, "reads");
    this.rows = Objects.requireNonNull(rows, "rows");
  }

  /** {@code GET .../lineage}: output -> datum -> job -> commit -> input rows (one level). */
  JsonObject lineage(String pipeline, String member) {
    OutputEvent event = reads.latest(pipeline, member);
    Job job = reads.job(event.jobId());
    Commit commit = reads.commit(event.commitId());
    return new JsonObject()
        .put("output", outputSummary(event))
        .put("datum", datum(event))
        .put("job", job == null ? null : AvroJson.toJson(job))
        .put("commit", commit == null ? null : AvroJson.toJson(commit))
        .put("repo", repoOf(job, commit))
        .put("repoDeleted", QueryJson.repoDeleted(catalog, job, commit))
        .put("inputRows", inputs(event))
        .put("inputRowCount", QueryJson.inputCount(event.output()));
  }

  /**
   * {@code GET .../provenance?at=&depth=&content=&limit=}: the output (latest, or as of input
   * commit {@code at}), its datum, job, input commit and input rows, following rows of upstream
   * pipelines' outputs up to {@code depth} levels.
   */
  JsonObject provenance(
      String pipeline, String member, String at, int depth, boolean content, int limit) {
    OutputEvent event = at == null ? reads.latest(pipeline, member) : asOf(pipeline, member, at);
    int[] budget = {MAX_UPSTREAM_NODES};
    return node(event, depth, content, limit, budget).put("at", at).put("depth", depth);
  }

  private JsonObject node(OutputEvent event, int depth, boolean content, int limit, int[] budget) {
    Job job = reads.job(event.jobId());
    Commit commit = reads.commit(event.commitId());
    JsonObject node =
        new JsonObject()
            .put("pipeline", event.pipeline())
            .put("member", event.member())
            .put("output", outputSummary(event))
            .put("datum", datum(event))
            .put("job", job == null ? null : AvroJson.toJson(job))
            .put("commit", commit == null ? null : AvroJson.toJson(commit))
            .put("repo", repoOf(job, commit))
            .put("repoDeleted", QueryJson.repoDeleted(catalog, job, commit));
    List<InputRef> inputs = event.output() == null ? List.of() : event.output().getInputs();
    JsonArray rows = new JsonArray();
    for (InputRef input : inputs.subList(0, Math.min(limit, inputs.size()))) {
      JsonObject row = AvroJson.toJson(input);
      if (TopicNames.OUTPUT_PATTERN.matcher(input.getTopic()).matches()) {
        OutputEvent pointer =
            reads.writtenAt(
                OutputEvent.position(input.getTopic(), input.getPartition(), input.getOffset()));
        if (pointer != null && pointer.redacted()) {
          // An erased member's output: the request only, no upstream node, never content.
          row.put("erased", true).put("erasure", pointer.erasure());
        } else {
          row.put("upstream", upstream(pointer, depth, content, limit, budget));
        }
      } else if (content) {
        row.put("content", content(input));
      }
      rows.add(row);
    }
    boolean cut = event.output() != null && QueryJson.inputsCut(event.output());
    return node.put("inputCount", event.output() == null ? 0 : QueryJson.inputCount(event.output()))
        .put("inputs", rows)
        .put("inputsTruncated", inputs.size() > limit || cut);
  }

  /**
   * The upstream output written at an input row on {@code <pipeline>.output} ({@code pointer}, its
   * rows-index entry, or null), expanded while allowed.
   */
  private JsonObject upstream(
      OutputEvent pointer, int depth, boolean content, int limit, int[] budget) {
    if (pointer == null) {
      return null;
    }
    OutputEvent version = reads.version(pointer.pipeline(), pointer.member(), pointer.jobId());
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

  /**
   * A source row's bytes from Kafka: UTF-8 text when it decodes, else base64; {@code expired} when
   * retention deleted it, {@code missing} when it is gone otherwise.
   */
  private JsonObject content(InputRef input) {
    RowReader.StoredRow row = rows.read(input.getTopic(), input.getPartition(), input.getOffset());
    if (row != null && row.expired()) {
      return new JsonObject().put("expired", true);
    }
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
    List<OutputEvent> versions = reads.versions(pipeline, member);
    for (OutputEvent version : versions) {
      if (version.commitId().equals(commitId)) {
        return present(version, pipeline, member, commitId);
      }
    }
    Commit at = found(reads.commit(commitId), "no commit " + commitId);
    // The member did not change in that commit: its output is the one of the latest earlier commit.
    for (OutputEvent version : versions) {
      Commit commit = reads.commit(version.commitId());
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
}
