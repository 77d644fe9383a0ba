package io.tusk.lineage;

import static io.tusk.lineage.Fixtures.T0;
import static io.tusk.lineage.Fixtures.completedCommit;
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
import io.tusk.schemas.Commit;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.testfixtures.HeadlessChromium;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page at {@code /} in a real headless Chromium (Debian's chromium and chromedriver), over
 * the API on the topology's stores: signing in with a token, jobs with live progress, a click from
 * a job to one of its outputs' provenance, and the lineage graphs.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LineagePageIT extends ApiTestBase {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final String c1 = Ids.newId();
  private final String j1 = Ids.newId();
  private final String outputCommitId = Ids.newId();
  private final String summaryJob = Ids.newId();
  private WebDriver browser;
  private WebDriverWait wait;

  @BeforeEach
  void startBrowser(@TempDir Path profile) {
    HeadlessChromium.assumeInstalled();
    browser = HeadlessChromium.start(profile);
    wait = new WebDriverWait(browser, WAIT);
  }

  @AfterEach
  void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void shouldClickFromRunningJobToOutputProvenanceAndDrawLineageGraphs() throws Exception {
    // Given a repo, a running job with datums and outputs, and a downstream pipeline's output
    writeDag(JobState.RUNNING, 1);

    // When the page is opened without a token / Then it asks for one before showing anything
    browser.get("http://127.0.0.1:" + port() + "/");
    WebElement tokenInput =
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token-input")));
    assertThat(browser.findElements(By.cssSelector("tr.job-row"))).isEmpty();

    // When a token that is refused is pasted / Then the box stays, saying why
    tokenInput.sendKeys("not-a-token");
    browser.findElement(By.id("sign-in-button")).click();
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("sign-in-message"), "invalid bearer token"));

    // When the admin's token is pasted
    browser.findElement(By.id("token-input")).sendKeys(TestAuth.shared().adminToken());
    browser.findElement(By.id("sign-in-button")).click();

    // Then the repo's commit and the job with its progress are shown
    wait.until(
        ExpectedConditions.presenceOfElementLocated(
            By.cssSelector("tr.job-row[data-job='" + j1 + "']")));
    assertThat(text(By.cssSelector("div.repo[data-repo='claims']"))).contains("claims");
    assertThat(progressOf(j1)).isEqualTo("processed 1 / skipped 7 / failed 0 of 10");

    // When the job makes progress / Then the page shows it without a reload (polling)
    pipe(topics.jobs, j1, job(j1, c1, c1, "risk", T0, JobState.SUCCESS));
    wait.until(
        d ->
            progressOf(j1).equals("processed 0 / skipped 7 / failed 0 of 10")
                || progressOf(j1).startsWith("processed 3"));

    // When the job is clicked, then one of its datums' members
    browser.findElement(By.cssSelector("tr.job-row[data-job='" + j1 + "'] a.job-link")).click();
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-title"), "risk"));
    WebElement member =
        wait.until(
            ExpectedConditions.elementToBeClickable(
                By.cssSelector("#datums a.member-link[data-member='1001']")));
    assertThat(text(By.id("failed-datums"))).contains("1002");
    assertThat(text(By.cssSelector("pre.log-tail[data-member='1002']"))).isEqualTo("boom");
    assertThat(browser.findElements(By.cssSelector("#job-logs div.log")))
        .extracting(e -> e.getAttribute("data-member"))
        .containsExactlyInAnyOrder("1001", "1002");
    screenshot("job");
    member.click();

    // Then the output's provenance is shown: its job, input commit, repo, rows and graph
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("prov-job"), j1));
    assertThat(text(By.id("prov-commit"))).isEqualTo(c1);
    assertThat(text(By.id("prov-repo"))).isEqualTo("claims");
    assertThat(text(By.id("prov-input-count"))).isEqualTo("2");
    assertThat(nodes("commit")).hasSize(1);
    assertThat(nodes("job")).hasSize(1);
    assertThat(nodes("output"))
        .singleElement()
        .satisfies(n -> assertThat(n.getText()).contains("risk / 1001"));
    screenshot("provenance-risk");

    // When the downstream output's provenance is opened / Then the graph goes back to the source
    browser.get("http://127.0.0.1:" + port() + "/#/output/summary/p7");
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("prov-job"), summaryJob));
    wait.until(d -> nodes("job").size() == 2);
    assertThat(nodes("commit")).hasSize(2);
    assertThat(nodes("output")).hasSize(2);
    assertThat(browser.findElements(By.cssSelector("#lineage-graph path.edge")))
        .hasSizeGreaterThanOrEqualTo(5);
    screenshot("provenance-summary");

    // When the global ID's graph is opened / Then commit -> job -> output commit -> job
    browser.get("http://127.0.0.1:" + port() + "/#/global/" + c1);
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.cssSelector("#view h2"), "Global ID"));
    wait.until(
        ExpectedConditions.presenceOfElementLocated(
            By.cssSelector(
                "#lineage-graph path.edge[data-from='j:"
                    + j1
                    + "'][data-to='c:"
                    + outputCommitId
                    + "']")));
    wait.until(d -> nodes("job").size() == 2 && nodes("commit").size() == 2);
    screenshot("global");
  }

  @Test
  void shouldDrawDagWithNewestJobStatesAndChartsMatchingTheApiAndSearchByPrefix() throws Exception {
    // Given the DAG, and a second, completed commit of claims whose risk job failed
    writeDag(JobState.SUCCESS, 3);
    String c2 = Ids.newId();
    String j2 = Ids.newId();
    pipe(
        topics.commits,
        c2,
        completedCommit(
            Commit.newBuilder(sealedCommit(c2, "claims", j2, "risk"))
                .setSequence(2)
                .setGlobalId(c2)
                .setCreatedAt(T0 + 1_000)
                .build()));
    pipe(
        topics.jobs,
        j2,
        Job.newBuilder(job(j2, c2, c2, "risk", T0 + 1_000, JobState.FAILURE))
            .setProcessed(5)
            .build());
    JsonObject newest = get("/jobs?limit=1&pipeline=risk").bodyAsJsonObject();
    String newestState = newest.getJsonArray("jobs").getJsonObject(0).getString("state");
    JsonArray riskJobs =
        get("/jobs?limit=50&pipeline=risk").bodyAsJsonObject().getJsonArray("jobs");

    // When signed in / Then the DAG links claims -> risk -> risk-by-provider -> summary, and the
    // risk node shows the state of its newest job as the API gives it
    signIn();
    WebElement risk =
        wait.until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#dag-graph g.node.pipeline[data-id='p:risk']")));
    assertThat(risk.getAttribute("data-state")).isEqualTo(newestState);
    assertThat(browser.findElements(By.cssSelector("#dag-graph path.edge")))
        .extracting(e -> e.getAttribute("data-from") + ">" + e.getAttribute("data-to"))
        .contains("r:claims>p:risk", "p:risk>r:risk-by-provider", "r:risk-by-provider>p:summary");
    screenshot("dag");

    // When the risk node is clicked / Then its charts have one bar per job and series, with the
    // API's processed and skipped counts
    browser.findElement(By.cssSelector("#dag-graph a[href='#/pipeline/risk']")).click();
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("pipeline-job-count"), riskJobs.size() + " jobs"));
    List<String> processed = barValues("chart-datums", "processed");
    List<String> skipped = barValues("chart-datums", "skipped");
    assertThat(processed).hasSize(riskJobs.size());
    for (int i = 0; i < riskJobs.size(); i++) {
      // The chart runs oldest first, the API newest first.
      JsonObject apiJob = riskJobs.getJsonObject(riskJobs.size() - 1 - i);
      assertThat(processed.get(i)).isEqualTo(String.valueOf(apiJob.getLong("processed")));
      assertThat(skipped.get(i)).isEqualTo(String.valueOf(apiJob.getLong("skipped")));
    }
    assertThat(barValues("chart-duration", "duration")).containsOnly("0.3");
    screenshot("pipeline-risk");

    // When the repo's charts are opened / Then the completed commit's rows and changed members show
    browser.get("http://127.0.0.1:" + port() + "/#/repo/claims");
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("repo-commit-count"), "1 commits with stats"));
    assertThat(barValues("chart-rows", "rows")).containsExactly("40");
    assertThat(barValues("chart-rows", "changed")).containsExactly("3");
    screenshot("repo-claims");

    // When the commit's link on the home page is clicked / Then its page shows the API's counts
    JsonObject stats =
        get("/commits/" + c2).bodyAsJsonObject().getJsonObject("commit").getJsonObject("stats");
    browser.get("http://127.0.0.1:" + port() + "/#/");
    wait.until(
            ExpectedConditions.elementToBeClickable(
                By.cssSelector("tr.commit-row[data-commit='" + c2 + "'] a.commit-link")))
        .click();
    wait.until(ExpectedConditions.presenceOfElementLocated(By.id("commit-counts")));
    assertThat(browser.getCurrentUrl()).endsWith("#/commit/" + c2);
    assertThat(text(By.id("commit-rows"))).isEqualTo(String.valueOf(stats.getLong("rows")));
    assertThat(text(By.id("commit-rejected"))).isEqualTo(String.valueOf(stats.getLong("rejected")));
    assertThat(text(By.id("commit-changed")))
        .isEqualTo(String.valueOf(stats.getLong("changedMembers")));
    assertThat(
            browser.findElement(By.cssSelector("#commit-jobs tr.job-row")).getAttribute("data-job"))
        .isEqualTo(j2);
    screenshot("commit");

    // When a job ID prefix is searched / Then its job page opens
    WebElement search = browser.findElement(By.id("search-input"));
    search.clear();
    search.sendKeys(j2.substring(0, 10));
    search.submit();
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-title"), "risk"));
    assertThat(browser.getCurrentUrl()).endsWith("#/job/" + j2);

    // When nothing matches / Then the page says so
    search = browser.findElement(By.id("search-input"));
    search.clear();
    search.sendKeys("zzzz-no-such-id");
    search.submit();
    wait.until(ExpectedConditions.presenceOfElementLocated(By.id("search-miss")));

    // When a reader of risk without content rights opens the job / Then the logs say 403's why
    bindings.apply(
        RoleBindings.key(Resource.pipeline("risk"), Role.READER, "reader-" + j2),
        RoleBindings.binding(Resource.pipeline("risk"), Role.READER, "reader-" + j2, "test", 0));
    browser.findElement(By.id("sign-out")).click();
    browser.findElement(By.id("token-input")).sendKeys(TestAuth.shared().token("reader-" + j2));
    browser.findElement(By.id("sign-in-button")).click();
    browser.get("http://127.0.0.1:" + port() + "/#/job/" + j1);
    assertThat(text(By.id("logs-refused"))).isNotBlank();
    assertThat(text(By.id("failed-datums"))).contains("1002");
    screenshot("job-reader");
  }

  private void signIn() {
    browser.get("http://127.0.0.1:" + port() + "/");
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token-input")))
        .sendKeys(TestAuth.shared().adminToken());
    browser.findElement(By.id("sign-in-button")).click();
  }

  private List<String> barValues(String chart, String series) {
    return browser.findElements(By.cssSelector("#" + chart + " rect.bar-" + series)).stream()
        .map(bar -> bar.getAttribute("data-value"))
        .toList();
  }

  private void writeDag(JobState state, long processed) {
    catalog
        .repo("claims")
        .pipeline("risk", "claims")
        .derivedRepo("risk", "provider")
        .pipeline("summary", "risk-by-provider");
    pipe(topics.commits, c1, sealedCommit(c1, "claims", j1, "risk"));
    Job running =
        Job.newBuilder(job(j1, c1, c1, "risk", T0, state)).setProcessed(processed).build();
    pipe(topics.jobs, j1, running);
    pipe(topics.datumResults, j1, datumResult(j1, "1001", DatumState.SUCCESS, "ok", false));
    pipe(topics.datumResults, j1, datumResult(j1, "1002", DatumState.FAILED, "boom", false));
    pipe(
        topics.output("risk"),
        "1001",
        output(
            "risk",
            "1001",
            j1,
            c1,
            "application/json",
            "{\"provider\":\"p7\"}",
            List.of(
                inputRef("claims.updates", 0, 3L, "CONDITION_ERA"),
                inputRef("claims.updates", 1, 8L, "DRUG_ERA"))),
        new RecordHeaders(),
        T0 + 100);
    writeSummaryStage(outputCommitId, j1, c1, summaryJob);
  }

  private String progressOf(String jobId) {
    return text(By.cssSelector("tr.job-row[data-job='" + jobId + "'] .progress-text"));
  }

  /**
   * The text of the element {@code by} finds, once it is there. The pages re-render as they poll,
   * so an element found a moment ago may be replaced: it is found again rather than read stale.
   */
  private String text(By by) {
    return wait.ignoring(StaleElementReferenceException.class)
        .until(d -> d.findElement(by).getText());
  }

  private List<WebElement> nodes(String kind) {
    return browser.findElements(By.cssSelector("#lineage-graph g.node." + kind));
  }

  private void screenshot(String name) throws Exception {
    Path file = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
    Path target = Path.of("target", "page-" + name + ".png");
    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
  }
}
