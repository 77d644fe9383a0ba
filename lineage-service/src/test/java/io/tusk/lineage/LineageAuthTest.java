package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.T0;
import static io.tusk.lineage.Fixtures.datumResult;
import static io.tusk.lineage.Fixtures.inputRef;
import static io.tusk.lineage.Fixtures.job;
import static io.tusk.lineage.Fixtures.output;
import static io.tusk.lineage.Fixtures.sealedCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.security.Resource;
import io.tusk.common.security.Role;
import io.tusk.common.security.RoleBindings;
import io.tusk.schemas.AuditEvent;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.JobState;
import io.tusk.testfixtures.Await;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may read what on the lineage service, over the real topology's stores: a token for every
 * query (the page's files are open), reader on the pipeline of a job found through the index,
 * content for outputs, logs and source rows, lists showing only what the caller may read, the
 * internal store endpoints absent from the public router.
 */
class LineageAuthTest extends ApiTestBase {
  private final String c1 = Ids.newId();
  private final String j1 = Ids.newId();

  @BeforeEach
  void writeJob() {
    catalog.repo("claims").pipeline("risk", "claims").repo("other").pipeline("hidden", "other");
    pipe(topics.commits, c1, sealedCommit(c1, "claims", j1, "risk"));
    pipe(topics.jobs, j1, job(j1, c1, c1, "risk", T0, JobState.SUCCESS));
    pipe(topics.datumResults, j1, datumResult(j1, "member-4711", DatumState.FAILED, "boom", false));
    pipe(
        topics.output("risk"),
        "member-4711",
        output(
            "risk",
            "member-4711",
            j1,
            c1,
            "application/json",
            "{\"score\":1}",
            List.of(inputRef("claims.updates", 0, 3L, "CLAIM"))),
        new RecordHeaders(),
        T0 + 100);
  }

  private void bind(String subject, Resource resource, Role role) {
    bindings.apply(
        RoleBindings.key(resource, role, subject),
        RoleBindings.binding(resource, role, subject, "test", 0));
  }

  @Test
  void shouldServeThePageOpenlyAndEveryQueryOnlyWithAToken() throws Exception {
    assertThat(getAs(null, "/").statusCode()).isEqualTo(200);
    assertThat(getAs(null, "/ui/app.js").statusCode()).isEqualTo(200);
    for (String path : List.of("/repos", "/jobs/" + j1, "/global/" + c1)) {
      assertError(getAs(null, path), 401, "unauthenticated", "bearer token");
    }
  }

  @Test
  void shouldNeedReaderOnTheJobsPipelineAndContentForLogsAndOutputs() throws Exception {
    // Given ann reader of risk, without the content right
    bind("ann", Resource.pipeline("risk"), Role.READER);

    // Then she reads the job, its datums, the commit, the lineage; not logs nor the output's data
    assertThat(getAs("ann", "/jobs/" + j1).statusCode()).isEqualTo(200);
    assertThat(getAs("ann", "/jobs/" + j1 + "/datums").statusCode()).isEqualTo(200);
    assertThat(getAs("ann", "/pipelines/risk/outputs/member-4711/lineage").statusCode())
        .isEqualTo(200);
    assertError(
        getAs("ann", "/jobs/" + j1 + "/datums/member-4711/logs"),
        403,
        "forbidden",
        "'content' right on the pipeline of job " + j1);
    assertError(
        getAs("ann", "/pipelines/risk/outputs/member-4711"), 403, "forbidden", "'content' right");
    assertError(
        getAs("ann", "/pipelines/risk/outputs/member-4711/provenance?content=true"),
        403,
        "forbidden",
        "'content' right");
    // And an unknown job is refused the same way as one of a pipeline she cannot read
    String unknown = Ids.newId();
    assertError(
        getAs("ann", "/jobs/" + unknown), 403, "forbidden", "on the pipeline of job " + unknown);
    assertError(getAs("bob", "/jobs/" + j1), 403, "forbidden", "on the pipeline of job " + j1);
    assertError(getAs("ann", "/commits/" + c1), 403, "forbidden", "the repo of commit " + c1);

    // When she is given the content right / Then the output and logs are hers, and audited
    bind("ann", Resource.pipeline("risk"), Role.CONTENT);
    audited.clear();
    HttpResponse<Buffer> out = getAs("ann", "/pipelines/risk/outputs/member-4711");
    assertThat(out.statusCode()).as(out.bodyAsString()).isEqualTo(200);
    // (The audit is asynchronous: an earlier denial may be recorded after the clear.)
    AuditEvent read =
        Await.until(
                "the content read audited",
                Duration.ofSeconds(10),
                () ->
                    List.copyOf(audited).stream()
                        .filter(
                            e -> e.getAction().equals("GET /pipelines/:pipeline/outputs/:member"))
                        .findFirst(),
                Optional::isPresent)
            .get();
    assertThat(read.getResource()).isEqualTo("pipeline:risk");
    assertThat(read.toString()).doesNotContain("member-4711");
  }

  /**
   * The console's forwarded commit-service routes check the caller here first (the same needs as on
   * the commit service), and without TUSK_COMMIT_URL answer 503 not_configured.
   */
  @Test
  void shouldCheckTheCallerOfAForwardedRouteAndNameTheMissingCommitUrl() throws Exception {
    bind("dee", Resource.repo("claims"), Role.READER);
    assertError(getAs(null, "/repos/claims/diff"), 401, "unauthenticated", "bearer token");
    assertError(getAs("dee", "/repos/claims/members/1001"), 403, "forbidden", "content");
    assertError(getAs("dee", "/repos/other/diff"), 403, "forbidden", "reader");
    assertError(getAs("dee", "/repos/claims/diff"), 503, "not_configured", "TUSK_COMMIT_URL");
  }

  @Test
  void shouldListOnlyWhatTheCallerMayReadWhenAListIsAsked() throws Exception {
    bind("cy", Resource.repo("claims"), Role.READER);
    bind("cy", Resource.pipeline("risk"), Role.READER);
    JsonObject repos = getAs("cy", "/repos").bodyAsJsonObject();
    assertThat(repos.getJsonArray("repos").stream().map(r -> ((JsonObject) r).getString("name")))
        .containsExactly("claims");
    JsonObject pipelines = getAs("cy", "/pipelines").bodyAsJsonObject();
    assertThat(
            pipelines.getJsonArray("pipelines").stream()
                .map(p -> ((JsonObject) p).getString("name")))
        .containsExactly("risk");
    assertThat(getAs("dee", "/jobs").bodyAsJsonObject().getJsonArray("jobs")).isEmpty();
    assertThat(getAs("cy", "/jobs").bodyAsJsonObject().getJsonArray("jobs")).hasSize(1);
    assertError(getAs("dee", "/jobs?pipeline=risk"), 403, "forbidden", "pipeline 'risk'");
    assertThat(getAs("cy", "/global/" + c1).statusCode()).isEqualTo(200);
  }

  @Test
  void shouldNotServeInternalEndpointsWhenAskedOnThePublicRouter() throws Exception {
    HttpResponse<Buffer> internal = get("/internal/stores/jobs-store/get?key=YQ");
    assertThat(internal.statusCode()).isEqualTo(404);
  }

  @Test
  void shouldDeclareEveryRouteOfTheRouterWithWhatItNeeds() {
    assertThat(routes.undeclaredRoutes()).isEmpty();
    assertThat(routes.routes()).isNotEmpty();
  }
}
