package io.tusk.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.cli.TuskClient;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.LocalAuth;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.commit.CommitService;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.lineage.LineageService;
import io.tusk.localstack.FreePorts;
import io.tusk.localstack.LocalStack;
import io.tusk.partition.PartitionService;
import io.tusk.processor.DatumProcessor;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Output;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TopicReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Machines lost while Tusk works: the demo's two commits over the GiBleed tables, with two
 * pipelines in a DAG, run against services that each run as a process of their own (two commit
 * services, one of them leading), while a seeded schedule kills a commit service, the partition
 * service, the lineage service or a datum processor with SIGKILL every few seconds and starts it
 * again (as a supervisor would), and once pauses the leading commit service with SIGSTOP past its
 * group session, so the other takes the lead while the paused one still believes it leads. Seals
 * survive a killed commit service through the client's idempotency key. Afterwards every job
 * succeeded, every repo's commits form one chain (no sequence sealed twice), no output appears
 * twice for a job under read_committed, and both pipelines' outputs equal, member by member, those
 * of a clean in-process run over the same rows.
 *
 * <p>One broker; the 3-broker cluster and broker pauses are issue 11's next steps.
 */
@Tag("integration")
@ExtendWith(LocalStackExtension.class)
class KillRestartIT {
  private static final Path DATA =
      Paths.get(System.getProperty("tusk.root", "..")).resolve("data/omop-gibleed");
  private static final long SEED = Long.getLong("tusk.chaos.seed", 11);
  private static final int KILLS = Integer.getInteger("tusk.chaos.kills", 7);

  /** The leader's pause: past its group session (10 s), so the other commit service leads. */
  private static final Duration LEADER_PAUSE = Duration.ofSeconds(16);

  private static final Duration HEALTHY = Duration.ofMinutes(2);

  @Test
  @Timeout(value = 20, unit = TimeUnit.MINUTES)
  void shouldGiveTheOutputsOfACleanRunWhenServicesAreKilledMidJob(LocalStack stack)
      throws Exception {
    System.out.printf("chaos: seed %d, %d kills%n", SEED, KILLS);
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "chaos-" + suffix;
    String pipeline = "chaos-insights-" + suffix;
    String cohorts = pipeline + "-cohorts";
    Path home = Files.createTempDirectory(Paths.get("target"), "chaos-it-");
    String bootstrap = stack.bootstrapServers();
    String registry = stack.registryUrl();
    KafkaSettings settings = KafkaSettings.of(bootstrap, registry, "chaos-it");
    OmopDataset data = OmopDataset.read(DATA);

    // Given the services as processes of their own, two commit services among them
    int[] ports = FreePorts.resolve(0, 0, 0, 0, 0, 0, 0, 0);
    int commitPort = ports[0];
    int partitionPort = ports[1];
    int lineagePort = ports[2];
    int otherCommitPort = ports[7];
    Map<String, String> lineageEnv =
        TuskServices.serviceEnv(
            bootstrap, registry, home, "chaos-lineage", lineagePort, home.resolve("lineage"));
    lineageEnv.put("TUSK_INTERNAL_PORT", Integer.toString(ports[3]));
    lineageEnv.put("TUSK_COMMIT_URL", "http://127.0.0.1:" + commitPort);
    List<ServiceProcess> victims = new ArrayList<>();
    List<ServiceProcess> all = new ArrayList<>();
    List<ServiceProcess> commits = new ArrayList<>();
    for (int port : new int[] {commitPort, otherCommitPort}) {
      String instance = "chaos-commit-" + commits.size();
      Map<String, String> env =
          TuskServices.serviceEnv(bootstrap, registry, home, instance, port, null);
      env.put("TUSK_PARTITION_URL", "http://127.0.0.1:" + partitionPort);
      env.put("TUSK_MEMBER_PARTITIONS", Integer.toString(TuskServices.MEMBER_PARTITIONS));
      commits.add(
          new ServiceProcess(
              "commit-" + commits.size() + "-" + suffix, CommitService.class.getName(), env, port));
    }
    victims.add(
        new ServiceProcess(
            "partition-" + suffix,
            PartitionService.class.getName(),
            TuskServices.serviceEnv(
                bootstrap,
                registry,
                home,
                "chaos-partition",
                partitionPort,
                home.resolve("partition")),
            partitionPort));
    victims.add(
        new ServiceProcess(
            "lineage-" + suffix, LineageService.class.getName(), lineageEnv, lineagePort));
    for (String p : List.of(pipeline, pipeline, cohorts)) {
      int port = ports[2 + victims.size()];
      String instance = "chaos-processor-" + victims.size();
      Map<String, String> env =
          TuskServices.serviceEnv(bootstrap, registry, home, instance, port, null);
      env.put("TUSK_PIPELINE", p);
      env.put("TUSK_PIPELINE_WAIT_SECONDS", "600");
      victims.add(
          new ServiceProcess(
              "processor-" + victims.size() + "-" + suffix,
              DatumProcessor.class.getName(),
              env,
              port));
    }
    victims.addAll(commits);
    all.addAll(victims);
    String token = LocalAuth.of(home).adminToken();
    Chaos chaos = new Chaos(victims, new Random(SEED), KILLS, new LeaderPause(commits, token));
    try {
      for (ServiceProcess service : all) {
        service.start();
      }
      // (The processors answer once their pipelines exist, which the demo creates.)
      for (ServiceProcess service : List.of(victims.get(0), victims.get(1))) {
        service.awaitHealthy(HEALTHY);
      }
      for (ServiceProcess service : commits) {
        service.awaitHealthy(HEALTHY);
      }
      TuskClient client =
          new TuskClient(
              "http://127.0.0.1:" + commitPort, "http://127.0.0.1:" + lineagePort, token);

      // When the demo runs while the schedule kills and restarts services
      Thread killer = new Thread(chaos, "chaos");
      killer.start();
      OmopDemo.Result result =
          new OmopDemo(client, settings, data, quiet(), repo, pipeline, 3).run();
      chaos.stop();
      killer.join();
      for (ServiceProcess service : victims) {
        if (!service.alive()) {
          service.start();
        }
        service.awaitHealthy(HEALTHY);
      }
      System.out.println("chaos: " + chaos.summary());

      // Then every job succeeded
      for (OmopDemo.JobSummary job :
          List.of(result.first(), result.second(), result.firstCohorts(), result.secondCohorts())) {
        assertThat(job.state()).as("job %s", job.jobId()).isEqualTo("SUCCESS");
      }
      assertThat(chaos.kills()).as("kills while the demo ran").isPositive();
      assertThat(chaos.leaderPause()).as("the leader's pause").contains("the other led");
      // And every repo's commits form one chain: no sequence sealed twice, whoever led
      Topics commitTopics = new Topics(settings.registryClient());
      Map<String, List<Commit>> chains = commitsByRepo(settings, commitTopics, suffix);
      assertThat(chains).hasSizeGreaterThanOrEqualTo(2);
      chains.forEach(KillRestartIT::assertOneChain);
      // And no output record appears twice for a member and job under read_committed
      Topics topics = new Topics(settings.registryClient());
      Map<String, String> chaosInsights = outputHashes(settings, topics, pipeline);
      Map<String, String> chaosCohorts = outputHashes(settings, topics, cohorts);
      assertThat(chaosInsights).isNotEmpty();
      assertThat(chaosCohorts).isNotEmpty();
    } finally {
      chaos.stop();
      for (ServiceProcess service : all) {
        service.close();
      }
    }

    // And both pipelines' outputs equal a clean in-process run's over the same rows
    Topics topics = new Topics(settings.registryClient());
    Path cleanHome = Files.createTempDirectory(Paths.get("target"), "chaos-clean-");
    String cleanPipeline = "clean-insights-" + suffix;
    try (TuskServices services =
        TuskServices.start(bootstrap, registry, cleanHome, Ports.ephemeral(), 2)) {
      new OmopDemo(services.client(), settings, data, quiet(), "clean-" + suffix, cleanPipeline, 3)
          .run();
    }
    assertThat(outputHashes(settings, topics, pipeline))
        .isEqualTo(outputHashes(settings, topics, cleanPipeline));
    assertThat(outputHashes(settings, topics, cohorts))
        .isEqualTo(outputHashes(settings, topics, cleanPipeline + "-cohorts"));
  }

  /**
   * Member to the output hash of its current output, as a read_committed reader of {@code
   * <pipeline>.output} sees it; fails if a member has two records of one job.
   */
  private static Map<String, String> outputHashes(
      KafkaSettings settings, Topics topics, String pipeline) {
    Map<String, String> current = new TreeMap<>();
    Map<String, Integer> perJob = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("chaos-outputs-" + UUID.randomUUID(), null))) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(TopicNames.output(pipeline))) {
        partitions.add(new TopicPartition(info.topic(), info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      for (ConsumerRecord<byte[], byte[]> record :
          TopicReader.readToEnd(consumer, Duration.ofMinutes(2))) {
        if (record.key() == null || record.headers().lastHeader(Headers.ROLL) != null) {
          continue;
        }
        String member = new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
          current.remove(member);
          continue;
        }
        Output output = topics.output(pipeline).readValue(record.value());
        perJob.merge(member + " in job " + output.getJobId(), 1, Integer::sum);
        current.put(member, output.getOutputHash());
      }
    }
    assertThat(perJob.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey))
        .as("outputs written twice for one job in %s", pipeline)
        .isEmpty();
    return current;
  }

  /** Every commit of the repos whose names hold {@code suffix}, by repo (latest record per ID). */
  private static Map<String, List<Commit>> commitsByRepo(
      KafkaSettings settings, Topics topics, String suffix) {
    Map<String, Commit> byId = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("chaos-commits-" + UUID.randomUUID(), null))) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(TopicNames.COMMITS)) {
        partitions.add(new TopicPartition(info.topic(), info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      for (ConsumerRecord<byte[], byte[]> record :
          TopicReader.readToEnd(consumer, Duration.ofMinutes(2))) {
        if (record.value() == null || record.headers().lastHeader(Headers.ROLL) != null) {
          continue;
        }
        Commit commit = topics.commits.readValue(record.value());
        if (commit.getRepo().contains(suffix)) {
          byId.put(commit.getId(), commit);
        }
      }
    }
    Map<String, List<Commit>> byRepo = new TreeMap<>();
    byId.values().forEach(c -> byRepo.computeIfAbsent(c.getRepo(), r -> new ArrayList<>()).add(c));
    return byRepo;
  }

  /** Sequences 1..n, one commit each, each the parent of the next. */
  private static void assertOneChain(String repo, List<Commit> commits) {
    List<Commit> bySequence = new ArrayList<>(commits);
    bySequence.sort(java.util.Comparator.comparingLong(Commit::getSequence));
    for (int i = 0; i < bySequence.size(); i++) {
      Commit commit = bySequence.get(i);
      assertThat(commit.getSequence()).as("sequence #%d of %s", i + 1, repo).isEqualTo(i + 1L);
      String parent = i == 0 ? null : bySequence.get(i - 1).getId();
      assertThat(commit.getParent()).as("parent of %s #%d", repo, i + 1).isEqualTo(parent);
    }
  }

  /**
   * Pauses the leading commit service with SIGSTOP past its group session, checks that the other
   * instance took the lead meanwhile, resumes it, and checks that exactly one instance leads
   * afterwards.
   */
  private static final class LeaderPause {
    private final List<ServiceProcess> commits;
    private final String token;

    LeaderPause(List<ServiceProcess> commits, String token) {
      this.commits = commits;
      this.token = token;
    }

    /** What happened, for the summary. */
    String run() throws Exception {
      ServiceProcess leader =
          Await.until(
                  "a leading commit service",
                  HEALTHY,
                  () -> commits.stream().filter(c -> leading(c) == Boolean.TRUE).findFirst(),
                  java.util.Optional::isPresent)
              .orElseThrow();
      ServiceProcess other = commits.get(commits.indexOf(leader) == 0 ? 1 : 0);
      long paused = System.nanoTime();
      leader.pause();
      Long otherLed = null;
      try {
        while (System.nanoTime() - paused < LEADER_PAUSE.toNanos()) {
          if (otherLed == null && leading(other) == Boolean.TRUE) {
            otherLed = (System.nanoTime() - paused) / 1_000_000;
          }
          TimeUnit.MILLISECONDS.sleep(250);
        }
      } finally {
        leader.resume();
      }
      if (otherLed == null) {
        return leader.name() + " paused " + LEADER_PAUSE.toSeconds() + " s; the other never led";
      }
      Await.until(
          "exactly one leader after " + leader.name() + " resumed",
          HEALTHY,
          () -> leading(leader) == Boolean.FALSE && leading(other) == Boolean.TRUE);
      return leader.name()
          + " paused "
          + LEADER_PAUSE.toSeconds()
          + " s; the other led "
          + otherLed
          + " ms after the pause began, and still leads after the resume";
    }

    /** Whether {@code commit} says it leads; null when it does not answer. */
    private Boolean leading(ServiceProcess commit) {
      try {
        java.net.http.HttpResponse<String> answer =
            HTTP.send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + commit.port() + "/leader"))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return answer.statusCode() == 200
            ? new io.vertx.core.json.JsonObject(answer.body()).getBoolean("leading")
            : null;
      } catch (java.io.IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    private static final java.net.http.HttpClient HTTP =
        java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  }

  /**
   * The schedule: every 3 to 6 seconds (seeded) it kills the next victim of a seeded shuffle of all
   * of them with SIGKILL (so each kind dies early, and in turn), starts it again 1 to 3 seconds
   * later and notes how long it took to answer {@code /health} again.
   */
  private static final class Chaos implements Runnable {
    private final List<ServiceProcess> victims;
    private final Random random;
    private final int maxKills;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final List<String> log = new ArrayList<>();
    private final List<Long> recoveryMillis = new ArrayList<>();
    private final LeaderPause leaderPause;
    private String leaderPaused = "";
    private int kills;

    Chaos(List<ServiceProcess> victims, Random random, int maxKills, LeaderPause leaderPause) {
      this.victims = new ArrayList<>(victims);
      java.util.Collections.shuffle(this.victims, random);
      this.random = random;
      this.maxKills = maxKills;
      this.leaderPause = leaderPause;
    }

    /** What the leader's pause did; empty before it ran. */
    synchronized String leaderPause() {
      return leaderPaused;
    }

    void stop() {
      stopped.set(true);
    }

    synchronized int kills() {
      return kills;
    }

    @Override
    public void run() {
      try {
        while (!stopped.get() && kills() < maxKills) {
          if (pause(3_000 + random.nextInt(3_000))) {
            return;
          }
          if (kills() == 2 && leaderPause().isEmpty()) {
            String paused = leaderPause.run();
            synchronized (this) {
              leaderPaused = paused;
              log.add(paused);
            }
            continue;
          }
          ServiceProcess victim = victims.get(kills() % victims.size());
          victim.kill();
          long down = 1_000 + random.nextInt(2_000);
          pause(down);
          long restarted = System.nanoTime();
          victim.start();
          victim.awaitHealthy(HEALTHY);
          long recovered = (System.nanoTime() - restarted) / 1_000_000;
          synchronized (this) {
            kills++;
            recoveryMillis.add(recovered);
            log.add(
                victim.name() + " down " + down + " ms, healthy " + recovered + " ms after start");
          }
        }
      } catch (Exception e) {
        synchronized (this) {
          log.add("chaos stopped by " + e);
        }
      }
    }

    /** Waits, or returns true at once when stopped. */
    private boolean pause(long millis) throws InterruptedException {
      long end = System.currentTimeMillis() + millis;
      while (System.currentTimeMillis() < end) {
        if (stopped.get()) {
          return true;
        }
        TimeUnit.MILLISECONDS.sleep(Math.min(100, end - System.currentTimeMillis() + 1));
      }
      return false;
    }

    synchronized String summary() {
      List<Long> sorted = new ArrayList<>(recoveryMillis);
      sorted.sort(null);
      String figures =
          sorted.isEmpty()
              ? "no kill"
              : "recovery p50 "
                  + sorted.get(sorted.size() / 2)
                  + " ms, max "
                  + sorted.get(sorted.size() - 1)
                  + " ms";
      return kills + " kills; " + figures + "; " + String.join("; ", log);
    }
  }
}
