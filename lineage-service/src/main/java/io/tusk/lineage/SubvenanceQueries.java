package io.tusk.lineage;

import static io.tusk.lineage.QueryJson.position;

import io.tusk.common.http.ApiException;
import io.tusk.common.member.ParseResult;
import io.tusk.common.member.RowParser;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The lineage queries that walk forward from a source member or row to every output derived from
 * it, breadth first through the pipelines that read each output. Each method returns the JSON body
 * of one endpoint of {@link LineageApi} or throws an {@link ApiException}. Reads block: call them
 * on worker threads.
 */
final class SubvenanceQueries {
  private final IndexReads reads;
  private final Catalog catalog;
  private final RowReader rows;

  SubvenanceQueries(IndexReads reads, Catalog catalog, RowReader rows) {
    this.reads = Objects.requireNonNull(reads, "reads");
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.rows = Objects.requireNonNull(rows, "rows");
  }

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
        .forEach(p -> first.addAll(reads.versions(p, member)));
    JsonObject body = subvenance(first, depth, limit, after);
    return new JsonObject().put("repo", repo).put("member", member).mergeIn(body);
  }

  /** {@code GET /rows/{topic}/{partition}/{offset}/subvenance}: every output derived from a row. */
  JsonObject rowSubvenance(
      String topic, int partition, long offset, int depth, int limit, int after) {
    List<OutputEvent> first =
        TopicNames.OUTPUT_PATTERN.matcher(topic).matches()
            ? reads.readers(OutputEvent.position(topic, partition, offset))
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
        for (OutputEvent reader : reads.readers(upstream.position())) {
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
                reads.versions(p, accepted.member()).stream()
                    .filter(version -> readsRow(version, topic, partition, offset, reads))
                    .forEach(readers::add));
    return readers;
  }

  /**
   * True if {@code version} read the row at the position: it lists it among its inputs, or, when
   * its list was cut short (a member with more input rows than one output record lists), the row
   * was in the repo before the version's commit ended (the member's rows as of that commit, which
   * the member API lists, may have replaced it since: the answer can be wider, never narrower).
   */
  private static boolean readsRow(
      OutputEvent version, String topic, int partition, long offset, IndexReads reads) {
    if (version.output() == null) {
      return false;
    }
    boolean listed =
        version.output().getInputs().stream()
            .anyMatch(
                input ->
                    input.getOffset() == offset
                        && input.getPartition() == partition
                        && input.getTopic().equals(topic));
    if (listed || !QueryJson.inputsCut(version.output())) {
      return listed;
    }
    Commit commit = reads.commit(version.commitId());
    return commit != null
        && commit.getEndOffsets().stream()
            .anyMatch(end -> end.getPartition() == partition && offset < end.getOffset());
  }

  private static String versionId(OutputEvent event) {
    return StoreKeys.join(event.pipeline(), event.member(), event.jobId());
  }
}
