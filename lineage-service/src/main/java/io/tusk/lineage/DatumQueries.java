package io.tusk.lineage;

import static io.tusk.lineage.QueryJson.afterKey;
import static io.tusk.lineage.QueryJson.found;
import static io.tusk.lineage.QueryJson.next;

import io.tusk.common.http.ApiException;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.streams.KeyValue;

/**
 * The lineage queries of a job's datums: the datums by member (all, or those in one state), one
 * datum's captured log, and the logs of a job's datums a page at a time. Each method returns the
 * JSON body of one endpoint of {@link LineageApi} or throws an {@link ApiException}. Reads block:
 * call them on worker threads.
 */
final class DatumQueries {
  /** Most datums one logs page scans. */
  static final int MAX_LOG_SCAN = 10_000;

  /** Most bytes of logs one page answers. */
  static final int MAX_LOG_BYTES = 1 << 20;

  private final IndexReads reads;

  DatumQueries(IndexReads reads) {
    this.reads = Objects.requireNonNull(reads, "reads");
  }

  /** {@code GET /jobs/{id}/datums?state=&limit=&after=}: a job's datums by member. */
  JsonObject datums(String jobId, DatumState state, int limit, String after) {
    JsonArray datums = new JsonArray();
    String next;
    if (state == null) {
      String prefix = IndexKeys.datumsOf(jobId);
      List<KeyValue<String, DatumResult>> page =
          reads.range(LineageStores.DATUMS_STORE, prefix, afterKey(prefix, after), limit + 1);
      page.stream().limit(limit).forEach(entry -> datums.add(datumJson(entry.value)));
      next = next(page, limit, entry -> entry.value.getMember());
    } else {
      String prefix = IndexKeys.DatumStateKey.prefix(jobId, state);
      List<KeyValue<String, String>> page =
          reads.range(LineageStores.DATUM_STATES_STORE, prefix, afterKey(prefix, after), limit + 1);
      for (KeyValue<String, String> entry : page.subList(0, Math.min(limit, page.size()))) {
        String member = IndexKeys.DatumStateKey.decode(entry.key).member();
        DatumResult result = reads.get(LineageStores.DATUMS_STORE, IndexKeys.datum(jobId, member));
        if (result != null) {
          datums.add(datumJson(result));
        }
      }
      next = next(page, limit, entry -> IndexKeys.DatumStateKey.decode(entry.key).member());
    }
    if (datums.isEmpty() && after == null && reads.job(jobId) == null) {
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
            reads.get(LineageStores.DATUMS_STORE, IndexKeys.datum(jobId, member)),
            "no datum of job " + jobId + " for member " + member);
    return logJson(result);
  }

  /**
   * {@code GET /jobs/{id}/logs?limit=&after=}: logs of a job's datums, bounded in count and size.
   */
  JsonObject jobLogs(String jobId, int limit, String after) {
    String prefix = IndexKeys.datumsOf(jobId);
    List<KeyValue<String, DatumResult>> scanned =
        reads.range(LineageStores.DATUMS_STORE, prefix, afterKey(prefix, after), MAX_LOG_SCAN);
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
    if (scanned.isEmpty() && after == null && reads.job(jobId) == null) {
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
}
