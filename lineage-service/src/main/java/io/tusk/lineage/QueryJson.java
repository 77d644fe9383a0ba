package io.tusk.lineage;

import io.tusk.common.http.ApiException;
import io.tusk.common.json.AvroJson;
import io.tusk.common.transform.OutputContent;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Job;
import io.tusk.schemas.Output;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSON pieces several lineage queries answer alike (an output's summary, its data, its position, a
 * datum), and the small helpers of paged and not-found answers.
 */
final class QueryJson {
  private static final Logger log = LoggerFactory.getLogger(QueryJson.class);

  private QueryJson() {}

  /** The repo of a job's input: its commit's, else the job's own (null if neither is known). */
  static String repoOf(Job job, Commit commit) {
    return commit != null ? commit.getRepo() : job != null ? job.getRepo() : null;
  }

  /**
   * Whether the repo an output's job read was deleted since ({@code DELETE /repos/{repo}}): it is
   * no longer in the catalog, or the repo of that name now was created after the commit (or, once
   * the commit record is gone, the job). The output keeps its commit and job IDs.
   */
  static boolean repoDeleted(Catalog catalog, Job job, Commit commit) {
    String repo = repoOf(job, commit);
    if (repo == null) {
      return false;
    }
    io.tusk.schemas.RepoSpec spec = catalog.repos().get(repo);
    long madeAt =
        commit != null ? commit.getCreatedAt() : job != null ? job.getCreatedAt() : Long.MAX_VALUE;
    return spec == null || spec.getCreatedAt() > madeAt;
  }

  /** The datum an output came from: its hash, member and pipeline. */
  static JsonObject datum(OutputEvent event) {
    return new JsonObject()
        .put("hash", event.datumHash())
        .put("member", event.member())
        .put("pipeline", event.pipeline());
  }

  /** The output's provenance fields, without its data and input rows. */
  static JsonObject outputSummary(OutputEvent event) {
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

  /** One version of a member's output, without its data and input rows. */
  static JsonObject versionJson(OutputEvent event) {
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
        .put("inputCount", output == null ? 0 : inputCount(output));
  }

  /**
   * How many input rows made an output: its input list, or for a member with more input rows than
   * one record lists ({@code Output.inputCount}), the full count.
   */
  static long inputCount(Output output) {
    return output.getInputCount() >= 0 ? output.getInputCount() : output.getInputs().size();
  }

  /** Whether an output's input list was cut short by the processor (a very large member). */
  static boolean inputsCut(Output output) {
    return output.getInputCount() > output.getInputs().size();
  }

  /** Where an output record was written: topic, partition, offset. */
  static JsonObject position(OutputEvent event) {
    return new JsonObject()
        .put("topic", event.topic())
        .put("partition", event.partition())
        .put("offset", event.offset());
  }

  /** An output's input rows (none for a removal). */
  static JsonArray inputs(OutputEvent event) {
    JsonArray inputs = new JsonArray();
    for (JsonObject row : rowsOf(event)) {
      inputs.add(row);
    }
    return inputs;
  }

  /** An output's input rows as JSON objects (none for a removal or no event). */
  static List<JsonObject> rowsOf(OutputEvent event) {
    if (event == null || event.output() == null) {
      return List.of();
    }
    return event.output().getInputs().stream().map(AvroJson::toJson).toList();
  }

  /** JSON data as JSON; anything else (and JSON that does not parse) as UTF-8 text. */
  static Object data(Output output) {
    if (output == null) {
      return null;
    }
    ByteBuffer buffer = output.getData().duplicate();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    if (OutputContent.isJson(output.getContentType())) {
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

  /** The text {@code bytes} encode as UTF-8, or null if they are not valid UTF-8. */
  static String utf8(byte[] bytes) {
    return OutputContent.utf8(bytes);
  }

  /** The store key a page starts after: {@code after} under {@code prefix} (null: the first). */
  static String afterKey(String prefix, String after) {
    return after == null ? null : prefix + after;
  }

  /**
   * The cursor of the page after {@code page}, read {@code limit + 1} entries long: the last
   * answered entry's, or null when nothing follows.
   */
  static <T> String next(List<T> page, int limit, Function<T, String> cursor) {
    return page.size() > limit ? cursor.apply(page.get(limit - 1)) : null;
  }

  /**
   * {@code value}, if there is one.
   *
   * @throws ApiException 404 with {@code message} if it is null
   */
  static <T> T found(T value, String message) {
    if (value == null) {
      throw ApiException.notFound(message);
    }
    return value;
  }

  /** The message of a 404 for a member without output. */
  static String noOutput(String pipeline, String member) {
    return "no output of pipeline " + pipeline + " for member " + member;
  }
}
