package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.LocalStack;
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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console (the lineage service's page) in headless Chromium against the running stack after the
 * demo's two commits: the DAG's job states, the pipeline's charts and a commit's counts equal what
 * the API answers.
 */
@Tag("integration")
@ExtendWith(LocalStackExtension.class)
class ConsoleIT {
  private static final ObjectMapper JSON = new ObjectMapper();
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
        screenshot(browser, "commit");

        // When the second job's ID prefix is searched / Then its job page opens
        WebElement search = browser.findElement(By.id("search-input"));
        search.sendKeys(result.second().jobId().substring(0, 10));
        search.submit();
        wait.until(
            ExpectedConditions.textToBePresentInElementLocated(By.id("job-title"), pipeline));
        assertThat(browser.getCurrentUrl()).endsWith("#/job/" + result.second().jobId());
        screenshot(browser, "job");
      } finally {
        browser.quit();
      }
    }
  }

  private static JsonNode api(String base, String token, String path) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(base + path))
                    .header("Authorization", "Bearer " + token)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(path).isEqualTo(200);
    return JSON.readTree(response.body());
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
