package io.tusk.processor;

import static io.tusk.processor.ProcessorItSupport.assertOneOutputEach;
import static io.tusk.processor.ProcessorItSupport.assertOneSuccessEach;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.EmbeddedKafka;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Datum;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.testfixtures.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker stops in the middle of a job and starts again on the same data and ports: the
 * processor rides it out and the job completes with nothing lost and nothing twice. Uses a local
 * stack of its own (the shared one must not go down under other tests).
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class BrokerRestartIT {
  private static final Logger log = LoggerFactory.getLogger(BrokerRestartIT.class);
  private static final int DATUMS = 2000;
  private static final Duration DEADLINE = Duration.ofSeconds(240);

  private final String suffix = Ids.newId().substring(0, 8);

  @Test
  void shouldCompleteTheJobLosingNothingWhenTheBrokerRestartsMidJob(@TempDir Path home)
      throws Exception {
    // Given a local stack of its own on fixed ports, so the broker can come back on them
    int[] ports = freePorts();
    LocalStack stack = LocalStack.start(home, new LocalStack.Ports(ports[0], ports[1], 0));
    EmbeddedKafka restarted = null;
    DatumProcessor processor = null;
    try {
      // And a processor with two threads on a pipeline whose transform takes 4 ms per datum
      String repoName = "restart-" + suffix;
      String pipeline = "restart-p-" + suffix;
      KafkaSettings settings =
          KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "restart-it");
      Topics topics = new Topics(settings.registryClient());
      RepoSpec repo = OmopFixtures.repo(repoName);
      PipelineSpec spec =
          ProcessorItSupport.javaPipeline(pipeline, repoName, SlowTransforms.FourMillis.class, 4);
      ProcessorItSupport.register(settings, topics, repo, spec);
      processor =
          DatumProcessor.start(
              DatumProcessorConfig.from(
                  ProcessorItSupport.env(
                      stack.bootstrapServers(), stack.registryUrl(), pipeline, "restart-a", 2)));

      // When a job of 2,000 datums is under way
      Map<String, Datum> datums = ProcessorItSupport.datums(spec, repo, DATUMS, 7);
      String jobId = datums.values().iterator().next().getJobId();
      Map<String, String> clean = ProcessorItSupport.cleanRunHashes(datums, repo);
      try (ProcessorItSupport.ResultWatcher watcher =
          new ProcessorItSupport.ResultWatcher(settings, topics, jobId)) {
        ProcessorItSupport.writeDatums(settings, topics, pipeline, datums);
        Await.until("300 results", DEADLINE, () -> watcher.done() >= 300);

        // And the broker stops and starts again on the same data directory and ports
        long down = System.nanoTime();
        stack.kafka().close();
        log.info("Broker stopped at {} results", watcher.done());
        restarted = EmbeddedKafka.start(stack.kafka().dataDir(), ports[0], ports[1]);
        log.info(
            "Broker back after {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - down));

        // Then the job completes
        Await.until("all " + DATUMS + " results", DEADLINE, () -> watcher.done() >= DATUMS);
      }

      // And nothing was lost or done twice: one SUCCESS result and one clean output per datum
      assertOneSuccessEach(settings, topics, datums);
      assertOneOutputEach(settings, topics, pipeline, clean);
      // And the processor is healthy (no worker gave up)
      assertThat(health(processor.httpPort())).isEqualTo(200);
    } finally {
      if (processor != null) {
        processor.close();
      }
      if (restarted != null) {
        restarted.close();
      }
      stack.close();
    }
  }

  private static int health(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  /** Two free loopback ports (broker, controller), both chosen before either is released. */
  private static int[] freePorts() throws IOException {
    try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return new int[] {a.getLocalPort(), b.getLocalPort()};
    }
  }
}
