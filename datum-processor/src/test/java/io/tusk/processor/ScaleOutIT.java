package io.tusk.processor;

import static io.tusk.processor.ProcessorItSupport.assertOneOutputEach;
import static io.tusk.processor.ProcessorItSupport.assertOneSuccessEach;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scale-out: a second instance started in the middle of a job takes partitions from the first
 * (cooperative rebalancing) while the first goes on working; nothing is processed twice.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class ScaleOutIT {
  private static final Logger log = LoggerFactory.getLogger(ScaleOutIT.class);
  private static final int DATUMS = 2500;
  private static final Duration DEADLINE = Duration.ofSeconds(240);

  private final String suffix = Ids.newId().substring(0, 8);

  @Test
  void shouldShareTheJobWithoutDuplicatesWhenASecondInstanceJoinsMidJob(LocalStack stack)
      throws Exception {
    // Given one instance (one thread) on a pipeline of 6 partitions, 10 ms per datum
    String repoName = "scale-" + suffix;
    String pipeline = "scale-p-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "scale-it");
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = OmopFixtures.repo(repoName);
    PipelineSpec spec =
        ProcessorItSupport.javaPipeline(pipeline, repoName, SlowTransforms.TenMillis.class, 6);
    ProcessorItSupport.register(settings, topics, repo, spec);
    String instanceA = "scale-a-" + suffix;
    String instanceB = "scale-b-" + suffix;
    try (DatumProcessor a = DatumProcessor.start(config(stack, pipeline, instanceA))) {
      Map<String, Datum> datums = ProcessorItSupport.datums(spec, repo, DATUMS, 3);
      String jobId = datums.values().iterator().next().getJobId();
      Map<String, String> clean = ProcessorItSupport.cleanRunHashes(datums, repo);
      long joinedAt;
      try (ProcessorItSupport.ResultWatcher watcher =
          new ProcessorItSupport.ResultWatcher(settings, topics, jobId)) {
        ProcessorItSupport.writeDatums(settings, topics, pipeline, datums);
        Await.until("300 results", DEADLINE, () -> watcher.done() >= 300);

        // When a second instance starts mid-job
        joinedAt = System.currentTimeMillis();
        try (DatumProcessor b = DatumProcessor.start(config(stack, pipeline, instanceB))) {
          log.info("Second instance started at {} results", watcher.done());

          // Then both process datums until the job is done
          Await.until(
              "results from the second instance",
              DEADLINE,
              () -> watcher.processors().contains(instanceB + "-0"));
          Await.until("all " + DATUMS + " results", DEADLINE, () -> watcher.done() >= DATUMS);
        }
      }

      // And each datum has exactly one SUCCESS result and one clean output
      Map<String, DatumResult> results = assertOneSuccessEach(settings, topics, datums);
      assertOneOutputEach(settings, topics, pipeline, clean);
      long fromA =
          results.values().stream()
              .filter(r -> r.getProcessorId().equals(instanceA + "-0"))
              .count();
      long fromB =
          results.values().stream()
              .filter(r -> r.getProcessorId().equals(instanceB + "-0"))
              .count();
      log.info("Instance A processed {}, instance B {}", fromA, fromB);
      assertThat(fromA + fromB).isEqualTo(DATUMS);
      assertThat(fromB).isPositive();
      // And the first instance went on working while the second joined: no long pause in its
      // results around the join (a stop-the-world rebalance would pause it for the whole join)
      long[] starts =
          results.values().stream()
              .filter(r -> r.getProcessorId().equals(instanceA + "-0"))
              .mapToLong(DatumResult::getStartedAt)
              .filter(t -> t >= joinedAt - 5_000 && t <= joinedAt + 30_000)
              .sorted()
              .toArray();
      long longestPause = 0;
      for (int i = 1; i < starts.length; i++) {
        longestPause = Math.max(longestPause, starts[i] - starts[i - 1]);
      }
      log.info("Instance A's longest pause around the join: {} ms", longestPause);
      assertThat(starts).isNotEmpty();
      assertThat(longestPause).isLessThan(10_000);
    }
  }

  private static DatumProcessorConfig config(LocalStack stack, String pipeline, String instance) {
    return DatumProcessorConfig.from(
        ProcessorItSupport.env(
            stack.bootstrapServers(), stack.registryUrl(), pipeline, instance, 1));
  }
}
