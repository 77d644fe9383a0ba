package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.T0;
import static io.tusk.lineage.Fixtures.inputRef;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.output;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.topics.Headers;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Output;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Provenance, subvenance, history and changes over a two-pipeline DAG: {@code risk} reads repo
 * {@code claims}; {@code summary} reads {@code risk-by-provider}, the derived repo of risk's
 * outputs, so summary's input rows are risk's output records.
 */
class ProvenanceApiTest extends ApiTestBase {
  private final String c1 = Ids.newId();
  private final String c2 = Ids.newId();
  private final String c3 = Ids.newId();
  private final String j1 = Ids.newId();
  private final String j3 = Ids.newId();
  private final String outputCommitId = Ids.newId();
  private final String summaryJob = Ids.newId();

  @BeforeEach
  void writeDag() {
    catalog
        .repo("claims")
        .pipeline("risk", "claims")
        .derivedRepo("risk", "provider")
        .pipeline("summary", "risk-by-provider");
    // Commits 1 to 3 of claims; member 1001 changes in 1 and 3 only.
    pipe(topics.commits, c1, commit(c1, 1));
    pipe(topics.commits, c2, commit(c2, 2));
    pipe(topics.commits, c3, commit(c3, 3));
    pipe(topics.jobs, j1, job(j1, c1, c1, "risk", T0 + 1, JobState.SUCCESS));
    pipe(topics.jobs, j3, job(j3, c3, c3, "risk", T0 + 3, JobState.SUCCESS));
    // risk.output offset 0: job 1's output of member 1001, from two claims rows.
    pipe(
        topics.output("risk"),
        "1001",
        output(
            "risk",
            "1001",
            j1,
            c1,
            "application/json",
            "{\"provider\":\"p7\",\"score\":0.2,\"old\":true}",
            List.of(
                inputRef("claims.updates", 0, 3L, "CONDITION_ERA"),
                inputRef("claims.updates", 1, 8L, "DRUG_ERA"))),
        new RecordHeaders(),
        T0 + 100);
    rowValues.put(
        "claims.updates/0/3",
        new RowReader.StoredRow(
            "1001,C1,2020-01-01".getBytes(StandardCharsets.UTF_8), "CONDITION_ERA"));
    rowValues.put(
        "claims.updates/1/8", new RowReader.StoredRow(new byte[] {(byte) 0xff, 0x00, 0x01}, null));
    // summary reads risk's output record as a row of its derived repo.
    writeSummaryStage(outputCommitId, j1, c1, summaryJob);
  }

  @Test
  void shouldFollowProvenanceUpstreamToSourceRowsWhenOutputReadsAnotherPipeline() throws Exception {
    // Given the DAG

    // When the downstream output's provenance is asked for with content
    JsonObject body = json("/pipelines/summary/outputs/p7/provenance?content=true");

    // Then it names its datum, job, output commit and repo
    assertThat(body.getJsonObject("job").getString("id")).isEqualTo(summaryJob);
    assertThat(body.getJsonObject("commit").getString("sourceJob")).isEqualTo(j1);
    assertThat(body.getString("repo")).isEqualTo("risk-by-provider");
    assertThat(body.getJsonObject("datum").getString("member")).isEqualTo("p7");
    assertThat(body.getInteger("inputCount")).isEqualTo(1);
    // And its input row is risk's output, expanded to risk's job, commit and source rows
    JsonObject row = body.getJsonArray("inputs").getJsonObject(0);
    assertThat(row.getString("topic")).isEqualTo("risk.output");
    JsonObject upstream = row.getJsonObject("upstream");
    assertThat(upstream.getString("pipeline")).isEqualTo("risk");
    assertThat(upstream.getString("member")).isEqualTo("1001");
    assertThat(upstream.getJsonObject("job").getString("id")).isEqualTo(j1);
    assertThat(upstream.getJsonObject("commit").getString("id")).isEqualTo(c1);
    assertThat(upstream.getString("repo")).isEqualTo("claims");
    assertThat(upstream.getJsonObject("output").getJsonObject("data").getString("provider"))
        .isEqualTo("p7");
    JsonArray sourceRows = upstream.getJsonArray("inputs");
    assertThat(sourceRows).hasSize(2);
    // And the source rows' bytes: text when UTF-8, base64 otherwise
    assertThat(sourceRows.getJsonObject(0).getJsonObject("content"))
        .isEqualTo(new JsonObject().put("encoding", "utf-8").put("value", "1001,C1,2020-01-01"));
    assertThat(sourceRows.getJsonObject(1).getJsonObject("content").getString("encoding"))
        .isEqualTo("base64");
  }

  @Test
  void shouldSayTheRepoWasDeletedWhenItIsGoneOrCreatedAgainAfterTheOutput() throws Exception {
    // Given the DAG, its repos present: nothing is deleted
    JsonObject present = json("/pipelines/summary/outputs/p7/provenance");
    assertThat(present.getBoolean("repoDeleted")).isFalse();
    assertThat(
            present
                .getJsonArray("inputs")
                .getJsonObject(0)
                .getJsonObject("upstream")
                .getBoolean("repoDeleted"))
        .isFalse();

    // When claims is created again after the commits risk read
    catalog.repos.put(
        "claims",
        io.tusk.schemas.RepoSpec.newBuilder(catalog.repos.get("claims"))
            .setCreatedAt(Long.MAX_VALUE / 2)
            .build());

    // Then risk's output keeps its commit and job, and says its repo was deleted
    JsonObject upstream =
        json("/pipelines/summary/outputs/p7/provenance")
            .getJsonArray("inputs")
            .getJsonObject(0)
            .getJsonObject("upstream");
    assertThat(upstream.getBoolean("repoDeleted")).isTrue();
    assertThat(upstream.getString("repo")).isEqualTo("claims");
    assertThat(upstream.getJsonObject("job").getString("id")).isEqualTo(j1);
    assertThat(json("/pipelines/risk/outputs/1001/lineage").getBoolean("repoDeleted")).isTrue();

    // And when it is gone altogether, too
    catalog.repos.remove("claims");
    assertThat(json("/pipelines/risk/outputs/1001/lineage").getBoolean("repoDeleted")).isTrue();
  }

  @Test
  void shouldStopAtDepthWhenDepthIsLimited() throws Exception {
    // When the provenance is asked for with depth 0
    JsonObject body = json("/pipelines/summary/outputs/p7/provenance?depth=0");

    // Then the upstream output is named but not expanded
    JsonObject upstream = body.getJsonArray("inputs").getJsonObject(0).getJsonObject("upstream");
    assertThat(upstream.getString("member")).isEqualTo("1001");
    assertThat(upstream.getBoolean("truncated")).isTrue();
    assertThat(upstream.containsKey("inputs")).isFalse();
    assertThat(body.getInteger("depth")).isZero();
  }

  @Test
  void shouldFindEveryDerivedOutputWhenSubvenanceOfSourceMemberOrRowIsAsked() throws Exception {
    // When the subvenance of source member 1001 is asked for
    JsonObject member = json("/repos/claims/members/1001/subvenance");

    // Then risk's output (depth 1) and summary's output computed from it (depth 2) are found
    JsonArray outputs = member.getJsonArray("outputs");
    assertThat(outputs).hasSize(2);
    assertThat(outputs.getJsonObject(0).getString("pipeline")).isEqualTo("risk");
    assertThat(outputs.getJsonObject(0).getString("commitId")).isEqualTo(c1);
    assertThat(outputs.getJsonObject(1).getString("pipeline")).isEqualTo("summary");
    assertThat(outputs.getJsonObject(1).getString("member")).isEqualTo("p7");
    assertThat(outputs.getJsonObject(1).getInteger("depth")).isEqualTo(2);
    assertThat(outputs.getJsonObject(1).getJsonObject("via").getString("member")).isEqualTo("1001");

    // When a source row's subvenance is asked for, one level / Then only risk's output
    JsonObject row = json("/rows/claims.updates/0/3/subvenance?depth=1");
    assertThat(row.getJsonArray("outputs")).hasSize(1);
    assertThat(row.getJsonArray("outputs").getJsonObject(0).getString("jobId")).isEqualTo(j1);
    // And all levels from the row reach summary's output
    assertThat(json("/rows/claims.updates/0/3/subvenance").getJsonArray("outputs")).hasSize(2);
    // And from risk's output record (a row of the derived repo) only summary's output
    JsonArray fromOutput = json("/rows/risk.output/0/0/subvenance").getJsonArray("outputs");
    assertThat(fromOutput)
        .singleElement()
        .satisfies(o -> assertThat(((JsonObject) o).getString("pipeline")).isEqualTo("summary"));
    // And a row that is not there, or not a row of the repo, is a 404
    assertError(get("/rows/claims.updates/2/5/subvenance"), 404, "not_found", "no row");
    assertError(get("/rows/claims.updates/1/8/subvenance"), 404, "not_found", "not a row");
    assertError(get("/rows/other.updates/0/1/subvenance"), 404, "not_found", "no repo");
    // And paging one at a time walks the same list
    JsonObject first = json("/repos/claims/members/1001/subvenance?limit=1");
    assertThat(first.getString("next")).isEqualTo("1");
    JsonObject second = json("/repos/claims/members/1001/subvenance?limit=1&after=1");
    assertThat(second.getJsonArray("outputs").getJsonObject(0).getString("pipeline"))
        .isEqualTo("summary");
    assertThat(second.getValue("next")).isNull();
  }

  @Test
  void shouldExplainWhatChangedWhenMemberIsRecomputedByLaterJob() throws Exception {
    // Given job 3 recomputes 1001 from one row kept, one row replaced, with new data
    writeJob3Output();

    // When the history is asked for / Then both versions, newest first, with their jobs
    JsonObject history = json("/pipelines/risk/outputs/1001/history");
    JsonArray versions = history.getJsonArray("outputs");
    assertThat(versions).hasSize(2);
    assertThat(versions.getJsonObject(0).getString("jobId")).isEqualTo(j3);
    assertThat(versions.getJsonObject(0).getJsonObject("job").getLong("sequence")).isZero();
    assertThat(versions.getJsonObject(1).getString("jobId")).isEqualTo(j1);

    // When the changes from job 1 to job 3 are asked for
    JsonObject changes = json("/pipelines/risk/outputs/1001/changes?from=" + j1 + "&to=" + j3);

    // Then the rows added and removed, and the output's field changes are answered
    JsonObject inputs = changes.getJsonObject("inputs");
    assertThat(inputs.getJsonArray("added"))
        .containsExactly(row("claims.updates", 1, 20L, "DRUG_ERA"));
    assertThat(inputs.getJsonArray("removed"))
        .containsExactly(row("claims.updates", 1, 8L, "DRUG_ERA"));
    assertThat(inputs.getLong("unchanged")).isEqualTo(1L);
    JsonObject output = changes.getJsonObject("output");
    assertThat(output.getBoolean("changed")).isTrue();
    JsonObject fields = output.getJsonObject("fields");
    assertThat(fields.getJsonObject("changed").getJsonObject("score"))
        .isEqualTo(new JsonObject().put("before", 0.2).put("after", 0.9));
    assertThat(fields.getJsonObject("added")).isEqualTo(new JsonObject().put("new", "x"));
    assertThat(fields.getJsonObject("removed")).isEqualTo(new JsonObject().put("old", true));
    // And without from/to the latest change is explained
    assertThat(
            json("/pipelines/risk/outputs/1001/changes").getJsonObject("from").getString("jobId"))
        .isEqualTo(j1);
  }

  @Test
  void shouldAnswerOutputAsOfInputCommitWhenAtIsGiven() throws Exception {
    // Given job 3's newer output
    writeJob3Output();

    // When provenance is asked as of commits 1, 2 (member unchanged) and 3
    String at1 =
        json("/pipelines/risk/outputs/1001/provenance?at=" + c1)
            .getJsonObject("job")
            .getString("id");
    String at2 =
        json("/pipelines/risk/outputs/1001/provenance?at=" + c2)
            .getJsonObject("job")
            .getString("id");
    String at3 =
        json("/pipelines/risk/outputs/1001/provenance?at=" + c3)
            .getJsonObject("job")
            .getString("id");

    // Then commit 2 answers job 1's output, the latest one as of it
    assertThat(at1).isEqualTo(j1);
    assertThat(at2).isEqualTo(j1);
    assertThat(at3).isEqualTo(j3);
    assertError(
        get("/pipelines/risk/outputs/1001/provenance?at=" + Ids.newId()),
        404,
        "not_found",
        "no commit");
  }

  @Test
  void shouldKeepRemovalInHistoryWhenMemberIsRemoved() throws Exception {
    // Given a removal of 1001 by a later job (a tombstone with provenance headers)
    String removingJob = Ids.newId();
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.JOB_ID, Headers.bytes(removingJob));
    headers.add(Headers.COMMIT_ID, Headers.bytes(c3));
    pipe(topics.output("risk"), "1001", (Output) null, headers, T0 + 500);

    // When the latest output and the history are asked for
    // Then the output is gone but the history shows the removal first
    assertError(get("/pipelines/risk/outputs/1001"), 404, "not_found", "no output");
    JsonArray versions = json("/pipelines/risk/outputs/1001/history").getJsonArray("outputs");
    assertThat(versions.getJsonObject(0).getString("jobId")).isEqualTo(removingJob);
    assertThat(versions.getJsonObject(0).getBoolean("removed")).isTrue();
    assertThat(versions.getJsonObject(1).getString("jobId")).isEqualTo(j1);
  }

  @Test
  void shouldShowARedactedInputAndAnswer404ForTheMemberWhenItsOutputsAreErased() throws Exception {
    // Given a second version of 1001, then the tombstone of its erasure
    writeJob3Output();
    String erasingJob = Ids.newId();
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.JOB_ID, Headers.bytes(erasingJob));
    headers.add(Headers.COMMIT_ID, Headers.bytes(c3));
    headers.add(Headers.ERASURE, Headers.bytes("erasure-1"));
    pipe(topics.output("risk"), "1001", (Output) null, headers, T0 + 600);

    // When the downstream output's provenance is asked for with content
    HttpAnswer answer = HttpAnswer.of(get("/pipelines/summary/outputs/p7/provenance?content=true"));
    JsonObject body = new JsonObject(answer.body());

    // Then its input row is marked erased with the request: no upstream node, no content
    assertThat(body.getJsonArray("inputs").getJsonObject(0))
        .isEqualTo(
            row("risk.output", 0, 0L, "output").put("erased", true).put("erasure", "erasure-1"));
    assertThat(answer.body()).doesNotContain("\"1001\"").doesNotContain("score");
    // And the erased member's outputs are not found, nor in any subvenance
    assertError(get("/pipelines/risk/outputs/1001"), 404, "not_found", "no output");
    assertError(get("/pipelines/risk/outputs/1001/history"), 404, "not_found", "no output");
    assertError(get("/pipelines/risk/outputs/1001/changes"), 404, "not_found", "no output");
    assertThat(get("/pipelines/risk/outputs/1001/provenance").statusCode()).isEqualTo(404);
    assertThat(json("/repos/claims/members/1001/subvenance").getJsonArray("outputs")).isEmpty();
    // (summary's output read the purged row: it is not purged, so the row still leads to it)
    JsonArray fromRow = json("/rows/risk.output/0/0/subvenance").getJsonArray("outputs");
    assertThat(fromRow).hasSize(1);
    assertThat(fromRow.getJsonObject(0).getString("pipeline")).isEqualTo("summary");
    // And the downstream output itself is unchanged
    assertThat(body.getJsonObject("job").getString("id")).isEqualTo(summaryJob);
    assertThat(body.getJsonObject("datum").getString("member")).isEqualTo("p7");
  }

  @Test
  void shouldSayExpiredWhenRetentionDeletedTheSourceRowAndMissingOtherwise() throws Exception {
    // Given one source row below its partition's log start and one gone for another reason
    rowValues.put("claims.updates/0/3", RowReader.StoredRow.expiredRow());
    rowValues.remove("claims.updates/1/8");

    // When the provenance is asked for with content
    JsonArray rows =
        json("/pipelines/risk/outputs/1001/provenance?content=true").getJsonArray("inputs");

    // Then the first says expired, the second missing
    assertThat(rows.getJsonObject(0).getJsonObject("content"))
        .isEqualTo(new JsonObject().put("expired", true));
    assertThat(rows.getJsonObject(1).getJsonObject("content"))
        .isEqualTo(new JsonObject().put("missing", true));
  }

  @Test
  void shouldGiveTheFullInputCountWhenTheOutputListsOnlyTheFirstInputs() throws Exception {
    // Given job 3's output of member 1001, a member so large its output lists 2 of 5,000 inputs
    Output cut =
        Output.newBuilder(
                output(
                    "risk",
                    "1001",
                    j3,
                    c3,
                    "application/json",
                    "{\"provider\":\"p7\"}",
                    List.of(
                        inputRef("claims.updates", 0, 3L, "CONDITION_ERA"),
                        inputRef("claims.updates", 0, 4L, "CONDITION_ERA"))))
            .setInputCount(5_000)
            .build();
    pipe(topics.output("risk"), "1001", cut, new RecordHeaders(), T0 + 300);

    // When its provenance is asked for
    JsonObject body = json("/pipelines/risk/outputs/1001/provenance");

    // Then it counts every input and says the list is cut short
    assertThat(body.getLong("inputCount")).isEqualTo(5_000);
    assertThat(body.getJsonArray("inputs")).hasSize(2);
    assertThat(body.getBoolean("inputsTruncated")).isTrue();
  }

  @Test
  void shouldAnswer400Or404WhenProvenanceParametersAreBad() throws Exception {
    assertError(
        get("/pipelines/risk/outputs/1001/provenance?depth=11"), 400, "bad_request", "'depth'");
    assertError(
        get("/pipelines/risk/outputs/1001/provenance?content=yes"),
        400,
        "bad_request",
        "'content'");
    assertError(get("/pipelines/risk/outputs/1001/provenance?at=nope"), 400, "bad_request", "'at'");
    assertError(
        get("/pipelines/risk/outputs/1001/changes?from=" + Ids.newId()),
        404,
        "not_found",
        "wrote no output");
    assertError(get("/rows/claims.updates/x/3/subvenance"), 400, "bad_request", "'partition'");
    assertError(get("/rows/claims.updates/0/-1/subvenance"), 400, "bad_request", "'offset'");
    assertError(get("/repos/unknown/members/1001/subvenance"), 404, "not_found", "no repo");
    assertError(get("/pipelines/risk/outputs/nobody/history"), 404, "not_found", "no output");
  }

  private void writeJob3Output() {
    pipe(
        topics.output("risk"),
        "1001",
        output(
            "risk",
            "1001",
            j3,
            c3,
            "application/json",
            "{\"provider\":\"p7\",\"score\":0.9,\"new\":\"x\"}",
            List.of(
                inputRef("claims.updates", 0, 3L, "CONDITION_ERA"),
                inputRef("claims.updates", 1, 20L, "DRUG_ERA"))),
        new RecordHeaders(),
        T0 + 300);
  }

  private static Commit commit(String id, long sequence) {
    return Commit.newBuilder(sealedCommit(id, "claims", Ids.newId(), "risk"))
        .setSequence(sequence)
        .build();
  }

  private static JsonObject row(String topic, int partition, long offset, String table) {
    return new JsonObject()
        .put("topic", topic)
        .put("partition", partition)
        .put("offset", offset)
        .put("table", table);
  }
}
