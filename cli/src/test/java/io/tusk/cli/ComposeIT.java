package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.AuthKeys;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.containers.wait.strategy.WaitStrategy;

/**
 * The walking skeleton as {@code compose.yaml} deploys it: 3 KRaft brokers, Apicurio Registry, the
 * four services built from the repository's {@code Dockerfile} and two datum processors for
 * pipeline {@code gibleed-insights}, started with {@code docker compose up --build}. It creates the
 * demo's repo and per-member pipeline, loads part of the OMOP sample through the brokers' external
 * listeners, seals a commit, and checks that the job processes every member loaded once and that
 * the lineage service traces an output to that job and commit. This proves the images, the
 * environment variables and the broker setup of the compose file work together, which {@link
 * ComposeConfigTest} can only check on paper.
 *
 * <p>It needs a Docker engine with the {@code docker compose} plugin. Where there is none (the
 * development machines) it is reported as skipped, never failed; {@link DemoIT} runs the same
 * services in one JVM there.
 */
@Tag("integration")
class ComposeIT {
  private static final Path ROOT =
      Paths.get(System.getProperty("tusk.root", "..")).toAbsolutePath().normalize();

  /** The pipeline compose.yaml's datum processors run ({@code TUSK_PIPELINE}). */
  private static final String PIPELINE = "gibleed-insights";

  private static final String REPO = "omop";
  private static final int MEMBERS = 20;

  /** The image build runs Maven for each service, so the first start is slow. */
  private static final Duration STARTUP = Duration.ofMinutes(10);

  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(5);

  // Checked per test, not in @BeforeAll: an aborted class is reported as "Tests run: 0", a skipped
  // test as skipped.
  @BeforeEach
  void requireDocker() {
    assumeTrue(
        DockerClientFactory.instance().isDockerAvailable(),
        "no Docker engine: compose.yaml cannot run here (DemoIT covers the services in one JVM)");
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.MINUTES)
  void shouldProcessAndTraceACommitOnTheComposeDeployment() {
    // Given compose.yaml up, with the brokers advertising their external listeners on the Docker
    // host and both HTTP services healthy
    String dockerHost = DockerClientFactory.instance().dockerHostIpAddress();
    File composeFile = ROOT.resolve("compose.yaml").toFile();
    // And a key set the services trust (mounted from TUSK_AUTH_DIR), with the admin's token
    Path authDir;
    try {
      authDir = Files.createTempDirectory(ROOT.resolve("cli/target"), "compose-auth-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    AuthKeys keys = AuthKeys.loadOrCreate(authDir);
    try (ComposeContainer compose =
        new ComposeContainer(composeFile)
            .withBuild(true)
            // The four images are built under this run's random project name: remove them after.
            .withRemoveImages(ComposeContainer.RemoveImages.LOCAL)
            .withEnv("KAFKA_EXTERNAL_HOST", dockerHost)
            .withEnv("TUSK_AUTH_DIR", authDir.toString())
            .withEnv("TUSK_INTERNAL_SECRET", keys.internalSecret())
            .withExposedService("commit-service", 8080, health())
            .withExposedService("lineage-service", 8082, health())
            .withExposedService(
                "registry", 8080, Wait.forListeningPort().withStartupTimeout(STARTUP))) {
      compose.start();
      TuskClient client =
          new TuskClient(
              url(compose, "commit-service", 8080),
              url(compose, "lineage-service", 8082),
              keys.mint("tusk-admin", Duration.ofHours(1)));
      KafkaSettings settings =
          KafkaSettings.of(
              dockerHost + ":19092," + dockerHost + ":29092," + dockerHost + ":39092",
              url(compose, "registry", 8080) + "/apis/ccompat/v7",
              "compose-it");

      // And the demo's repo and per-member pipeline
      OmopDataset data = OmopDataset.read(ROOT.resolve("data/omop-gibleed"));
      client.createRepo(OmopDemo.repoSpec(data, REPO, 3));
      client.createPipeline(OmopDemo.pipelineSpec(PIPELINE, REPO));

      // When the rows of a few members, as of the demo's cut-off, are loaded and committed
      List<OmopDataset.Row> rows = rowsOfFirstMembers(data, MEMBERS);
      Set<String> members = new TreeSet<>();
      rows.forEach(row -> members.add(row.member()));
      try (RowLoader loader = new RowLoader(settings, REPO)) {
        rows.forEach(row -> loader.send(row.table(), row.member(), row.line()));
        loader.flush();
      }
      JsonNode commit = client.commit(REPO);
      String commitId = commit.path("id").asText();
      List<String> jobIds =
          StreamSupport.stream(commit.path("jobs").spliterator(), false)
              .filter(job -> PIPELINE.equals(job.path("pipeline").asText()))
              .map(job -> job.path("jobId").asText())
              .toList();

      // Then the commit triggers one job of the pipeline, which processes every member once
      assertThat(members).hasSize(MEMBERS);
      assertThat(commitId).isNotBlank();
      assertThat(jobIds).as("jobs of %s in commit %s", PIPELINE, commit).hasSize(1);
      String jobId = jobIds.get(0);
      JsonNode job = client.awaitJobEnd(jobId, JOB_TIMEOUT);
      assertThat(job.path("state").asText()).as("job %s", job).isEqualTo("SUCCESS");
      assertThat(job.path("processed").asLong()).as("job %s", job).isEqualTo(members.size());
      assertThat(job.path("failed").asLong()).as("job %s", job).isZero();

      // And the lineage service traces a member's output to that job and commit
      String member = members.iterator().next();
      JsonNode lineage =
          TuskClient.await(
              () -> client.lineage(PIPELINE, member),
              l -> !l.path("job").path("id").asText().isEmpty(),
              JOB_TIMEOUT,
              "the lineage of " + member + "'s output");
      assertThat(lineage.path("job").path("id").asText()).isEqualTo(jobId);
      assertThat(lineage.path("commit").path("id").asText()).isEqualTo(commitId);
      assertThat(lineage.path("repo").asText()).isEqualTo(REPO);
    }
  }

  private static WaitStrategy health() {
    return Wait.forHttp("/health").forStatusCode(200).withStartupTimeout(STARTUP);
  }

  private static String url(ComposeContainer compose, String service, int port) {
    return "http://"
        + compose.getServiceHost(service, port)
        + ":"
        + compose.getServicePort(service, port);
  }

  /** The rows dated before the demo's cut-off of the first {@code count} members in PERSON. */
  private static List<OmopDataset.Row> rowsOfFirstMembers(OmopDataset data, int count) {
    List<OmopDataset.Row> before = data.before(OmopDemo.CUTOFF);
    Set<String> chosen = new LinkedHashSet<>();
    for (OmopDataset.Row row : before) {
      if (row.table().equals("PERSON") && chosen.size() < count) {
        chosen.add(row.member());
      }
    }
    List<OmopDataset.Row> rows = new ArrayList<>();
    for (OmopDataset.Row row : before) {
      if (chosen.contains(row.member())) {
        rows.add(row);
      }
    }
    return rows;
  }
}
