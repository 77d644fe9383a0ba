package io.tusk.processor;

import static io.tusk.processor.ProcessorItSupport.assertOneOutputEach;
import static io.tusk.processor.ProcessorItSupport.assertOneSuccessEach;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly once under crashes: three processor processes (separate JVMs) share a job of 5,000 datums
 * while one of them is killed with SIGKILL at random points, five times, and started again. Every
 * datum still has exactly one SUCCESS result, one output and one DatumDone, and the outputs are
 * those of a clean run.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class ExactlyOnceUnderCrashesIT {
  private static final Logger log = LoggerFactory.getLogger(ExactlyOnceUnderCrashesIT.class);
  private static final int DATUMS = 5000;
  private static final int PROCESSES = 3;
  private static final int KILLS = 5;
  private static final int PARTITIONS = 6;
  private static final Duration DEADLINE = Duration.ofSeconds(240);

  private final String suffix = Ids.newId().substring(0, 8);

  @Test
  void shouldCommitEveryDatumExactlyOnceWhenProcessorsAreKilledMidJob(LocalStack stack)
      throws Exception {
    // Given a pipeline of 6 datum partitions with a transform taking 10 ms per datum
    String repoName = "crash-" + suffix;
    String pipeline = "crash-p-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "crash-it");
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = OmopFixtures.repo(repoName);
    PipelineSpec spec =
        ProcessorItSupport.javaPipeline(
            pipeline, repoName, SlowTransforms.TenMillis.class, PARTITIONS);
    ProcessorItSupport.register(settings, topics, repo, spec);

    // And three processor processes, each its own JVM, in the pipeline's group
    Path logs = Files.createDirectories(Paths.get("target", "crash-it-" + suffix));
    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < PROCESSES; i++) {
      processes.add(startProcessor(stack, pipeline, i, logs, 0));
    }
    try {
      awaitGroup(settings, "tusk-processor-" + pipeline, PROCESSES);

      // When a job of 5,000 datums is written
      Map<String, Datum> datums = ProcessorItSupport.datums(spec, repo, DATUMS, 42);
      String jobId = datums.values().iterator().next().getJobId();
      Map<String, String> clean = ProcessorItSupport.cleanRunHashes(datums, repo);
      try (ProcessorItSupport.ResultWatcher watcher =
          new ProcessorItSupport.ResultWatcher(settings, topics, jobId)) {
        long started = System.nanoTime();
        ProcessorItSupport.writeDatums(settings, topics, pipeline, datums);

        // And, five times, one of the processes is killed (SIGKILL) at a random point of the job
        // and started again with the same instance ID
        Random random = new Random();
        for (int kill = 1; kill <= KILLS; kill++) {
          int target = Math.min(DATUMS - 1, watcher.done() + 150 + random.nextInt(500));
          Await.until(
              "the job to reach " + target + " results", DEADLINE, () -> watcher.done() >= target);
          int victim = random.nextInt(PROCESSES);
          Process process = processes.get(victim);
          process.destroyForcibly();
          assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
          log.info(
              "Kill {}: SIGKILLed processor {} (pid {}) at {} results",
              kill,
              victim,
              process.pid(),
              watcher.done());
          processes.set(victim, startProcessor(stack, pipeline, victim, logs, kill));
        }

        // Then the job completes
        Await.until("all " + DATUMS + " results", DEADLINE, () -> watcher.done() >= DATUMS);
        log.info(
            "{} datums with {} kills took {} s",
            DATUMS,
            KILLS,
            String.format("%.1f", (System.nanoTime() - started) / 1e9));
      }

      // And every datum has exactly one result, a SUCCESS
      assertOneSuccessEach(settings, topics, datums);
      // And a read_committed consumer sees exactly one output per member, as a clean run gives
      assertOneOutputEach(settings, topics, pipeline, clean);
      // And the member side heard of each datum exactly once, in the same transactions
      Map<String, Integer> done = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record :
          ProcessorItSupport.readAll(settings, TopicNames.byMember(repoName))) {
        MemberEvent event = topics.byMember(repoName).readValue(record.value());
        if (event.getEvent() instanceof DatumDone datumDone && datumDone.getJobId().equals(jobId)) {
          assertThat(datumDone.getSucceeded()).isTrue();
          assertThat(datumDone.getOutputHash()).isEqualTo(clean.get(datumDone.getMember()));
          done.merge(datumDone.getMember(), 1, Integer::sum);
        }
      }
      assertThat(done.keySet()).isEqualTo(datums.keySet());
      assertThat(done.values()).containsOnly(1);
    } finally {
      for (Process process : processes) {
        process.destroy();
      }
      for (Process process : processes) {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }

  /** A processor in a JVM of its own, with the test JVM's classpath and TUSK_* environment. */
  private static Process startProcessor(
      LocalStack stack, String pipeline, int index, Path logs, int generation) throws IOException {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                DatumProcessor.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(
                logs.resolve("processor-" + index + "-" + generation + ".log").toFile());
    builder
        .environment()
        .putAll(
            ProcessorItSupport.env(
                stack.bootstrapServers(), stack.registryUrl(), pipeline, "crash-" + index, 1));
    Process process = builder.start();
    log.info("Started processor {} as pid {} ({}{})", index, process.pid(), logs, File.separator);
    return process;
  }

  private static void awaitGroup(KafkaSettings settings, String group, int members) {
    try (Admin admin = Admin.create(settings.admin("crash-it-admin"))) {
      Await.until(
          "group " + group + " stable with " + members + " members holding partitions",
          Duration.ofSeconds(120),
          () -> {
            try {
              ConsumerGroupDescription description =
                  admin.describeConsumerGroups(List.of(group)).all().get().get(group);
              return description.groupState() == GroupState.STABLE
                  && description.members().size() == members
                  && description.members().stream()
                      .allMatch(m -> !m.assignment().topicPartitions().isEmpty());
            } catch (Exception e) {
              return false;
            }
          });
    }
  }
}
