package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.HeadlessChromium;
import io.tusk.testfixtures.LocalStackExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console (the lineage service's page) in headless Chromium against the running stack after the
 * demo's two commits: the DAG's job states, the pipeline's charts, a commit's counts, diff and
 * rejected rows, a member's rows as of a commit and its output's history equal what the APIs
 * answer; the restart button restarts for a writer and shows a reader's refusal.
 */
@Tag("integration")
@ExtendWith(LocalStackExtension.class)
class ConsoleIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final Path DATA =
      Paths.get(System.getProperty("tusk.root", "..")).resolve("data/omop-gibleed");

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void shouldShowTheDemosJobsChartsAndCommitsAsTheApiGivesThem(
      LocalStack stack, @TempDir Path profile) throws Exception {
    HeadlessChromium.assumeInstalled();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "console-" + suffix;
    String pipeline = "insights-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "console-it-");
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 2)) {
      // Given the demo's two commits and jobs on the running stack
      OmopDemo.Result result =
          new OmopDemo(
                  services.client(),
                  KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "console-it"),
                  OmopDataset.read(DATA),
                  new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                  repo,
                  pipeline,
                  3)
              .run();
      String admin = services.auth().adminToken();
      String base = services.lineageUrl();
      JsonNode jobs = api(base, admin, "/jobs?limit=50&pipeline=" + pipeline).get("jobs");
      assertThat(jobs).hasSize(2);
      String newestState = jobs.get(0).get("state").asText();

      WebDriver browser = HeadlessChromium.start(profile);
      try {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        // When signed in as the admin / Then the DAG shows the pipeline with its newest job's state
        browser.get(base + "/");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token-input")))
            .sendKeys(admin);
        browser.findElement(By.id("sign-in-button")).click();
        WebElement node =
            wait.until(
                ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("#dag-graph g.node[data-id='p:" + pipeline + "']")));
        assertThat(node.getAttribute("data-state")).isEqualTo(newestState).isEqualTo("SUCCESS");
        assertThat(browser.findElements(By.cssSelector("#dag-graph path.edge")))
            .extracting(e -> e.getAttribute("data-from") + ">" + e.getAttribute("data-to"))
            .contains("r:" + repo + ">p:" + pipeline);
        screenshot(browser, "dag");

        // When the pipeline is opened / Then its chart has the two jobs' counts, oldest first
        browser
            .findElement(By.cssSelector("#dag-graph a[href='#/pipeline/" + pipeline + "']"))
            .click();
        wait.until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("pipeline-job-count"), "2 jobs"));
        assertThat(values(browser, "chart-datums", "processed"))
            .containsExactly(
                String.valueOf(result.first().processed()),
                String.valueOf(result.second().processed()));
        assertThat(values(browser, "chart-datums", "skipped"))
            .containsExactly(
                String.valueOf(result.first().skipped()),
                String.valueOf(result.second().skipped()));
        screenshot(browser, "pipeline");

        // When the second commit's page is opened / Then its counts are the API's
        String commit = result.second().commitId();
        JsonNode stats = api(base, admin, "/commits/" + commit).get("commit").get("stats");
        browser.get(base + "/#/commit/" + commit);
        wait.until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("commit-rows"), stats.get("rows").asText()));
        assertThat(text(wait, By.id("commit-changed")))
            .isEqualTo(stats.get("changedMembers").asText());
        assertThat(text(wait, By.id("commit-rejected"))).isEqualTo(stats.get("rejected").asText());

        // When the second job's ID prefix is searched / Then its job page opens
        WebElement search = browser.findElement(By.id("search-input"));
        search.sendKeys(result.second().jobId().substring(0, 10));
        search.submit();
        wait.until(
            ExpectedConditions.textToBePresentInElementLocated(By.id("job-title"), pipeline));
        assertThat(browser.getCurrentUrl()).endsWith("#/job/" + result.second().jobId());
        screenshot(browser, "job");

        String commits = services.commitUrl();
        String first = result.first().commitId();
        diffAndMemberPages(browser, wait, commits, base, admin, repo, pipeline, first, commit);
        rejectedRows(browser, wait, stack, services, base, admin, repo);
        restartButton(browser, wait, services, admin, repo, suffix);
      } finally {
        browser.quit();
      }
    }
  }

  /**
   * The second commit's diff (first page and the next) is the commit service's, and a changed
   * member's page shows its rows as of either commit and its output's history as the APIs give
   * them.
   */
  private static void diffAndMemberPages(
      WebDriver browser,
      WebDriverWait wait,
      String commits,
      String base,
      String admin,
      String repo,
      String pipeline,
      String first,
      String second)
      throws Exception {
    // When the second commit's page is open / Then its diff is the commit service's first page
    String diffPath = "/repos/" + repo + "/diff?from=" + first + "&to=" + second + "&limit=50";
    JsonNode diff = api(commits, admin, diffPath);
    browser.get(base + "/#/commit/" + second);
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("diff-changed"), diff.get("changed").asText()));
    assertThat(text(wait, By.id("diff-added"))).isEqualTo(diff.get("added").asText());
    assertThat(text(wait, By.id("diff-removed"))).isEqualTo(diff.get("removed").asText());
    List<String> expected = new ArrayList<>();
    diff.get("members").forEach(m -> expected.add(m.get("member").asText()));
    assertThat(attributes(browser, "#diff-members tr.diff-row", "data-member"))
        .containsExactlyElementsOf(expected);
    screenshot(browser, "commit");
    if (diff.hasNonNull("next")) {
      // When the next page is opened / Then it is the API's page after the last member shown
      JsonNode next = api(commits, admin, diffPath + "&after=" + diff.get("next").asText());
      browser.findElement(By.id("diff-next")).click();
      wait.until(
          ExpectedConditions.textToBePresentInElementLocated(
              By.id("diff-page"), diff.get("next").asText()));
      List<String> nextMembers = new ArrayList<>();
      next.get("members").forEach(m -> nextMembers.add(m.get("member").asText()));
      assertThat(attributes(browser, "#diff-members tr.diff-row", "data-member"))
          .containsExactlyElementsOf(nextMembers);
      browser.get(base + "/#/commit/" + second);
    }
    String member = null;
    for (JsonNode m : diff.get("members")) {
      if (m.get("change").asText().equals("changed")) {
        member = m.get("member").asText();
        break;
      }
    }
    assertThat(member).as("a changed member in the demo's update").isNotNull();

    // When a changed member is opened from the diff / Then its rows are the API's as of the commit
    wait.ignoring(StaleElementReferenceException.class)
        .until(
            ExpectedConditions.elementToBeClickable(
                By.cssSelector("#diff-members tr[data-member='" + member + "'] a")))
        .click();
    JsonNode atSecond =
        api(commits, admin, "/repos/" + repo + "/members/" + member + "?at=" + second);
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("member-version"), atSecond.get("rows").size() + " rows as of commit"));
    assertThat(browser.findElements(By.cssSelector("#member-rows tr.member-row")))
        .hasSize(atSecond.get("rows").size());
    JsonNode history =
        api(base, admin, "/pipelines/" + pipeline + "/outputs/" + member + "/history");
    assertThat(
            browser.findElements(
                By.cssSelector(
                    "table.output-history[data-pipeline='" + pipeline + "'] tr.output-version")))
        .hasSize(history.get("outputs").size())
        .hasSizeGreaterThanOrEqualTo(2);
    screenshot(browser, "member");

    // When the first commit is picked / Then the rows are the API's as of that commit
    JsonNode atFirst =
        api(commits, admin, "/repos/" + repo + "/members/" + member + "?at=" + first);
    assertThat(atFirst.get("rows")).isNotEqualTo(atSecond.get("rows"));
    new Select(browser.findElement(By.id("member-at"))).selectByValue(first);
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("member-version"), "commit #" + atFirst.get("sequence").asText() + " "));
    assertThat(browser.findElements(By.cssSelector("#member-rows tr.member-row")))
        .hasSize(atFirst.get("rows").size());
  }

  /** A commit with bad lines shows its rejected rows counted by reason. */
  private static void rejectedRows(
      WebDriver browser,
      WebDriverWait wait,
      LocalStack stack,
      TuskServices services,
      String base,
      String admin,
      String repo)
      throws Exception {
    // Given two lines that do not parse and one with too few fields, committed
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      for (String line : List.of("\"unbalanced,1", "\"also unbalanced,2", "only-one-field")) {
        producer.send(new ProducerRecord<>(TopicNames.updates(repo), line)).get();
      }
    }
    String id = services.client().commit(repo).get("id").asText();
    JsonNode stats =
        Await.until(
            "the commit with bad lines is complete",
            TIMEOUT,
            () -> whenAnswered(base, admin, "/commits/" + id).path("commit").path("stats"),
            found -> !found.isMissingNode() && !found.isNull());
    assertThat(stats.get("rejected").asInt()).isEqualTo(3);

    // When its page is opened / Then the reasons are counted as the rejected rows give them
    browser.get(base + "/#/commit/" + id);
    wait.until(
        ExpectedConditions.presenceOfElementLocated(
            By.cssSelector("#rejected-reasons tr[data-reason='MALFORMED_CSV']")));
    assertThat(text(wait, By.cssSelector("#rejected-reasons tr[data-reason='MALFORMED_CSV'] td")))
        .isEqualTo("2");
    assertThat(
            text(wait, By.cssSelector("#rejected-reasons tr[data-reason='WRONG_FIELD_COUNT'] td")))
        .isEqualTo("1");
    assertThat(browser.findElements(By.cssSelector("#rejected-rows tr.rejected-row"))).hasSize(3);
    screenshot(browser, "commit-rejected");
  }

  /**
   * The restart button of a job with failed datums: a reader is refused with the 403's message, a
   * writer (the admin) restarts the failed datums into the same job.
   */
  private static void restartButton(
      WebDriver browser,
      WebDriverWait wait,
      TuskServices services,
      String admin,
      String repo,
      String suffix)
      throws Exception {
    String base = services.lineageUrl();
    String failing = "failing-" + suffix;
    ObjectNode spec = TuskClient.object().put("name", failing).put("datumTries", 1);
    spec.putObject("input").put("repo", repo);
    spec.putObject("transform").put("java", FailsForSomeMembers.class.getName());
    services.client().createPipeline(spec);
    JsonNode job =
        Await.until(
            "the failing pipeline's first job ended",
            TIMEOUT,
            () ->
                whenAnswered(base, admin, "/jobs?limit=1&pipeline=" + failing).path("jobs").path(0),
            found -> found.path("state").asText().equals("FAILURE"));
    String jobId = job.get("id").asText();
    assertThat(job.get("failed").asLong()).isPositive();
    String reader = "console-reader-" + suffix;
    services.client().grant("pipeline:" + failing, "reader", reader);
    services.client().grant("repo:" + repo, "reader", reader);

    String readerToken = services.auth().token(reader, Duration.ofMinutes(10));
    Await.until(
        "the reader's grant reached the lineage service",
        TIMEOUT,
        () -> status(base, readerToken, "/jobs/" + jobId),
        code -> code == 200);

    // When a reader presses restart / Then the page shows why not, and nothing restarts
    signIn(browser, wait, readerToken);
    browser.get(base + "/#/job/" + jobId);
    wait.until(ExpectedConditions.elementToBeClickable(By.id("restart-job"))).click();
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(By.id("restart-answer"), "writer"));
    screenshot(browser, "job-restart-refused");

    // When the admin presses it / Then the failed datums run again in the same job
    signIn(browser, wait, admin);
    browser.get(base + "/#/job/" + jobId);
    wait.until(ExpectedConditions.elementToBeClickable(By.id("restart-job"))).click();
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("restart-answer"), "Restarted the failed datums"));
    Await.until(
        "the restarted datums ended again in round 1",
        TIMEOUT,
        () -> whenAnswered(base, admin, "/jobs/" + jobId + "/datums?state=failed&limit=1000"),
        datums ->
            datums.path("datums").size() == job.get("failed").asInt()
                && allMatch(datums.get("datums"), d -> d.get("restart").asInt() == 1));
  }

  private static boolean allMatch(JsonNode items, java.util.function.Predicate<JsonNode> test) {
    for (JsonNode item : items) {
      if (!test.test(item)) {
        return false;
      }
    }
    return true;
  }

  private static void signIn(WebDriver browser, WebDriverWait wait, String token) {
    browser.findElement(By.id("sign-out")).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token-input"))).sendKeys(token);
    browser.findElement(By.id("sign-in-button")).click();
  }

  private static List<String> attributes(WebDriver browser, String css, String attribute) {
    return browser.findElements(By.cssSelector(css)).stream()
        .map(e -> e.getAttribute(attribute))
        .toList();
  }

  /**
   * The answer to {@code path} inside a wait: a missing node while the service answers anything but
   * 200 (a 503 while its indexes rebalance means "not yet").
   */
  private static JsonNode whenAnswered(String base, String token, String path) throws Exception {
    HttpResponse<String> response = get(base, token, path);
    return response.statusCode() == 200
        ? JSON.readTree(response.body())
        : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  private static int status(String base, String token, String path) throws Exception {
    return get(base, token, path).statusCode();
  }

  private static JsonNode api(String base, String token, String path) throws Exception {
    HttpResponse<String> response = get(base, token, path);
    assertThat(response.statusCode()).as(path).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  private static HttpResponse<String> get(String base, String token, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + token)
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> values(WebDriver browser, String chart, String series) {
    return browser.findElements(By.cssSelector("#" + chart + " rect.bar-" + series)).stream()
        .map(bar -> bar.getAttribute("data-value"))
        .toList();
  }

  /**
   * The text of the element {@code by} finds, once it is there. The pages re-render as they poll,
   * so an element found a moment ago may be replaced: it is found again rather than read stale.
   */
  private static String text(WebDriverWait wait, By by) {
    return wait.ignoring(StaleElementReferenceException.class)
        .until(d -> d.findElement(by).getText());
  }

  private static void screenshot(WebDriver browser, String name) throws Exception {
    Path file = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
    Files.copy(
        file, Path.of("target", "console-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }
}
