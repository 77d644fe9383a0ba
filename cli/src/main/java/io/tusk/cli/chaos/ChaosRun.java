package io.tusk.cli.chaos;

import io.tusk.cli.TuskClient;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.LocalAuth;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.commit.CommitService;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.StreamsScaling;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.lineage.LineageService;
import io.tusk.localstack.FreePorts;
import io.tusk.localstack.KafkaCluster;
import io.tusk.partition.PartitionService;
import io.tusk.processor.DatumProcessor;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Output;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Machines lost while Tusk works, on a running registry and either a {@link KafkaCluster} whose
 * nodes are victims too or a broker left alone: every service runs as a process of its own (two
 * commit services, one of them leading; two partition services; two lineage services; and per round
 * three datum processors for the demo's two pipelines, a DAG). Each round runs the OMOP demo (two
 * commits over the GiBleed tables) under new names while a {@link Chaos} schedule kills services
 * and brokers with SIGKILL and restarts them, once pauses the leading commit service with SIGSTOP
 * past its group session, and once pauses a broker past its session with the controller. Afterwards
 * it checks that every job succeeded, every instance of each service answers the same queries
 * alike, every repo's commits form one chain (no sequence sealed twice), no output appears twice
 * for a job under read_committed, and every round's outputs equal, member by member, a clean
 * in-process run's over the same rows.
 *
 * <p>{@code KillRestartIT} runs one round in {@code mvn verify}; {@code tusk chaos} runs as many as
 * asked.
 */
public final class ChaosRun {
  private static final Duration HEALTHY = Duration.ofMinutes(2);
  private static final int PARTITIONS = 3;

  /** What to run: the schedule's seed, kills per round, rounds. */
  public record Settings(long seed, int killsPerRound, int rounds) {
    public Settings {
      if (killsPerRound < 1 || rounds < 1) {
        throw new IllegalArgumentException("kills per round and rounds must be at least 1");
      }
    }
  }

  /**
   * What happened.
   *
   * @param kills the kills made, all rounds
   * @param recoveryMillis per kill: from the restart to a healthy {@code /health}
   * @param leaderPauses per round, what pausing the leading commit service did
   * @param brokerPauses per round, what pausing a broker did (none without a cluster)
   * @param failures every check that failed (empty: the run passed)
   */
  public record Result(
      int kills,
      List<Long> recoveryMillis,
      List<String> leaderPauses,
      List<String> brokerPauses,
      List<String> events,
      List<String> failures) {

    /** Copies of the lists: a run's result does not change after it returns. */
    public Result {
      recoveryMillis = List.copyOf(recoveryMillis);
      leaderPauses = List.copyOf(leaderPauses);
      brokerPauses = List.copyOf(brokerPauses);
      events = List.copyOf(events);
      failures = List.copyOf(failures);
    }

    /** True when every check passed. */
    public boolean passed() {
      return failures.isEmpty();
    }

    /** Recovery time after a kill: p50 and max, for the summary. */
    public String recovery() {
      List<Long> sorted = new ArrayList<>(recoveryMillis);
      sorted.sort(null);
      return sorted.isEmpty()
          ? "no kill"
          : "recovery after a kill: p50 "
              + sorted.get(sorted.size() / 2)
              + " ms, max "
              + sorted.get(sorted.size() - 1)
              + " ms ("
              + sorted.size()
              + " kills)";
    }
  }

  private final Settings settings;
  private final KafkaCluster cluster;
  private final String bootstrap;
  private final String registry;
  private final Path home;
  private final Path data;
  private final PrintStream out;

  /**
   * A run on a cluster whose nodes are killed and paused too.
   *
   * @param home where the services keep their state, and the processes their logs
   * @param data the GiBleed sample's directory
   * @param out where progress is printed
   */
  public ChaosRun(
      Settings settings,
      KafkaCluster cluster,
      String registry,
      Path home,
      Path data,
      PrintStream out) {
    this(settings, cluster, cluster.bootstrapServers(), registry, home, data, out);
  }

  /** A run on a broker that is left alone ({@code bootstrap}). */
  public ChaosRun(
      Settings settings, String bootstrap, String registry, Path home, Path data, PrintStream out) {
    this(settings, null, bootstrap, registry, home, data, out);
  }

  private ChaosRun(
      Settings settings,
      KafkaCluster cluster,
      String bootstrap,
      String registry,
      Path home,
      Path data,
      PrintStream out) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.cluster = cluster;
    this.bootstrap = Objects.requireNonNull(bootstrap, "bootstrap");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.home = Objects.requireNonNull(home, "home");
    this.data = Objects.requireNonNull(data, "data");
    this.out = Objects.requireNonNull(out, "out");
  }

  /** Runs every round, then the clean run and the checks. */
  public Result run() throws Exception {
    out.printf(
        "chaos: seed %d, %d kills per round, %d rounds%n",
        settings.seed(), settings.killsPerRound(), settings.rounds());
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    KafkaSettings kafka = KafkaSettings.of(bootstrap, registry, "chaos-run-" + suffix);
    Topics topics = new Topics(kafka.registryClient());
    OmopDataset dataset = OmopDataset.read(data);
    Random random = new Random(settings.seed());
    List<String> failures = new ArrayList<>();
    List<Long> recovery = new ArrayList<>();
    List<String> pauses = new ArrayList<>();
    List<String> brokerPauses = new ArrayList<>();
    List<String> events = new ArrayList<>();
    List<String> pipelines = new ArrayList<>();
    int kills = 0;
    boolean aborted = false;

    // The services that live through every round, two instances each, each a process of its own
    int[] ports = FreePorts.resolve(new int[8]);
    List<ServiceProcess> commits = new ArrayList<>();
    List<ServiceProcess> partitions = new ArrayList<>();
    List<ServiceProcess> lineages = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Map<String, String> commitEnv = env("chaos-commit-" + i, ports[i], null);
      commitEnv.put("TUSK_PARTITION_URL", "http://127.0.0.1:" + ports[2 + i]);
      commitEnv.put("TUSK_MEMBER_PARTITIONS", Integer.toString(TuskServices.MEMBER_PARTITIONS));
      commits.add(process("commit-" + i, CommitService.class, commitEnv, ports[i]));
      Map<String, String> partitionEnv =
          env("chaos-partition-" + i, ports[2 + i], home.resolve("partition-" + i));
      partitionEnv.put("TUSK_ADVERTISED_URL", "http://127.0.0.1:" + ports[2 + i]);
      partitions.add(process("partition-" + i, PartitionService.class, partitionEnv, ports[2 + i]));
      Map<String, String> lineageEnv =
          env("chaos-lineage-" + i, ports[4 + i], home.resolve("lineage-" + i));
      lineageEnv.put("TUSK_INTERNAL_PORT", Integer.toString(ports[6 + i]));
      lineageEnv.put("TUSK_ADVERTISED_URL", "http://127.0.0.1:" + ports[6 + i]);
      lineageEnv.put("TUSK_COMMIT_URL", "http://127.0.0.1:" + ports[i]);
      // Standbys: a killed instance's index tasks move to warm stores (the partition service
      // cannot have them; see PartitionServiceConfig).
      lineageEnv.put(StreamsScaling.STANDBY_REPLICAS.name(), "1");
      lineages.add(process("lineage-" + i, LineageService.class, lineageEnv, ports[4 + i]));
    }
    List<ServiceProcess> core = new ArrayList<>(commits);
    core.addAll(partitions);
    core.addAll(lineages);
    List<BrokerVictim> brokers =
        cluster == null
            ? List.of()
            : cluster.nodes().stream().map(node -> new BrokerVictim(cluster, node)).toList();
    int lineagePort = ports[4];
    String token = LocalAuth.of(home).adminToken();
    TuskClient client =
        new TuskClient("http://127.0.0.1:" + ports[0], "http://127.0.0.1:" + lineagePort, token);
    Agreement agreement = new Agreement(token);
    try {
      for (ServiceProcess service : core) {
        service.start();
      }
      for (ServiceProcess service : core) {
        service.awaitRecovered(HEALTHY);
      }
      for (int round = 1; round <= settings.rounds(); round++) {
        String repo = "chaos-" + suffix + "-" + round;
        String pipeline = "chaos-insights-" + suffix + "-" + round;
        pipelines.add(pipeline);
        // This round's processors: 2 for the insights pipeline, 1 for its cohorts pipeline
        List<ServiceProcess> processors = new ArrayList<>();
        int[] processorPorts = FreePorts.resolve(0, 0, 0);
        List<String> processed = List.of(pipeline, pipeline, pipeline + "-cohorts");
        for (int i = 0; i < processed.size(); i++) {
          Map<String, String> env =
              env("chaos-processor-" + round + "-" + i, processorPorts[i], null);
          env.put("TUSK_PIPELINE", processed.get(i));
          env.put("TUSK_PIPELINE_WAIT_SECONDS", "600");
          processors.add(
              process(
                  "processor-" + round + "-" + i, DatumProcessor.class, env, processorPorts[i]));
        }
        List<Victim> victims = new ArrayList<>(core);
        victims.addAll(processors);
        victims.addAll(brokers);
        LeaderPause leaderPause = new LeaderPause(commits, token);
        Chaos chaos = new Chaos(victims, brokers, random, settings.killsPerRound(), leaderPause);
        // The demo creates its repo and pipelines first: writes the client does not repeat, so
        // start once a commit service leads (the last round may have killed the leader).
        if (leaderPause.awaitLeader().isEmpty()) {
          failures.add("round " + round + ": no commit service leads");
          break;
        }
        try {
          for (ServiceProcess processor : processors) {
            processor.start();
          }
          // The kills start once the repo and pipelines exist: the demo does not repeat a create
          // whose answer was lost (a round once lost the leader in the middle of one: 502).
          Thread killer = new Thread(chaos, "chaos");
          OmopDemo.Result result = null;
          try {
            result =
                new OmopDemo(client, kafka, dataset, quiet(), repo, pipeline, PARTITIONS)
                    .run(killer::start);
          } catch (RuntimeException e) {
            failures.add(
                "round " + round + ": " + e.getMessage() + diagnosis(chaos, core, processors));
          }
          chaos.stop();
          killer.join();
          List<Victim> lasting = new ArrayList<>(brokers);
          lasting.addAll(core);
          if (result != null) {
            try {
              chaos.recoverAll(lasting);
            } catch (IllegalStateException e) {
              failures.add(
                  "round " + round + ": " + e.getMessage() + diagnosis(chaos, core, processors));
              result = null;
            }
          }
          // A round that did not finish leaves nothing to check; its failure says why
          aborted = result == null;
          if (!aborted) {
            for (OmopDemo.JobSummary job :
                List.of(
                    result.first(),
                    result.second(),
                    result.firstCohorts(),
                    result.secondCohorts())) {
              if (!"SUCCESS".equals(job.state())) {
                failures.add("round " + round + ": job " + job.jobId() + " ended " + job.state());
              }
            }
            // And every instance answers alike: the commit history, a member's rows, the whole
            // diff of the round's two commits, and the lineage of one output
            String member = URLEncoder.encode(result.lineageMember(), StandardCharsets.UTF_8);
            agreement
                .check("commit", commits, "/repos/" + repo + "/commits")
                .ifPresent(failures::add);
            agreement
                .check("partition", partitions, "/repos/" + repo + "/members/" + member)
                .ifPresent(failures::add);
            agreement
                .check(
                    "partition",
                    partitions,
                    "/repos/"
                        + repo
                        + "/diff?from="
                        + result.first().commitId()
                        + "&to="
                        + result.second().commitId())
                .ifPresent(failures::add);
            agreement
                .check(
                    "lineage",
                    lineages,
                    "/pipelines/" + pipeline + "/outputs/" + member + "/lineage")
                .ifPresent(failures::add);
          }
        } finally {
          chaos.stop();
          for (ServiceProcess processor : processors) {
            processor.close();
          }
        }
        kills += chaos.kills();
        recovery.addAll(chaos.recoveryMillis());
        events.addAll(chaos.events());
        pauses.add(chaos.leaderPause());
        if (cluster != null) {
          brokerPauses.add(chaos.brokerPause());
        }
        out.printf("chaos: round %d: %s%n", round, String.join("; ", chaos.events()));
        if (aborted) {
          break;
        }
      }
    } finally {
      for (ServiceProcess service : core) {
        service.close();
      }
    }

    if (aborted) {
      return new Result(kills, recovery, pauses, brokerPauses, events, failures);
    }

    // Every repo's commits form one chain, and no output is written twice for a job
    commitsByRepo(kafka, topics, suffix)
        .forEach((repo, chain) -> checkChain(repo, chain, failures));
    Map<String, Map<String, String>> outputs = new TreeMap<>();
    for (String pipeline : pipelines) {
      for (String p : List.of(pipeline, pipeline + "-cohorts")) {
        outputs.put(p, outputHashes(kafka, topics, p, failures));
      }
    }

    // And every round's outputs equal a clean in-process run's over the same rows
    out.println("chaos: the clean run");
    Path cleanHome = Files.createTempDirectory(home, "clean-");
    String cleanPipeline = "clean-insights-" + suffix;
    Map<String, String> replicated = Map.of(KafkaSettings.REPLICATION_FACTOR.name(), replication());
    try (TuskServices services =
        TuskServices.start(
            bootstrap,
            registry,
            cleanHome,
            Ports.ephemeral(),
            2,
            true,
            Map.of(
                CommitService.SERVICE,
                replicated,
                PartitionService.SERVICE,
                replicated,
                LineageService.SERVICE_NAME,
                replicated,
                DatumProcessor.SERVICE,
                replicated))) {
      new OmopDemo(
              services.client(),
              kafka,
              dataset,
              quiet(),
              "clean-" + suffix,
              cleanPipeline,
              PARTITIONS)
          .run();
    }
    Map<String, String> cleanInsights = outputHashes(kafka, topics, cleanPipeline, failures);
    Map<String, String> cleanCohorts =
        outputHashes(kafka, topics, cleanPipeline + "-cohorts", failures);
    for (String pipeline : pipelines) {
      compare(pipeline, outputs.get(pipeline), cleanInsights, failures);
      compare(pipeline + "-cohorts", outputs.get(pipeline + "-cohorts"), cleanCohorts, failures);
    }
    for (String pause : pauses) {
      if (!pause.contains("the other led")) {
        failures.add("leader pause: " + (pause.isEmpty() ? "never ran (too few kills)" : pause));
      }
    }
    for (String pause : brokerPauses) {
      if (!pause.contains("in sync again")) {
        failures.add("broker pause: " + (pause.isEmpty() ? "never ran (too few kills)" : pause));
      }
    }
    return new Result(kills, recovery, pauses, brokerPauses, events, failures);
  }

  /**
   * What a failed round's message needs to be understood from a CI log alone: what the schedule did
   * and each service's last logged error (IDs and reasons, never row contents).
   */
  private static String diagnosis(
      Chaos chaos, List<ServiceProcess> core, List<ServiceProcess> processors) {
    StringBuilder text = new StringBuilder("; the schedule: ").append(chaos.events());
    List<ServiceProcess> services = new ArrayList<>(core);
    services.addAll(processors);
    for (ServiceProcess service : services) {
      service
          .lastError()
          .ifPresent(
              error ->
                  text.append("; ")
                      .append(service.name())
                      .append(service.alive() ? " (running)" : " (exited)")
                      .append(" last logged: ")
                      .append(error));
    }
    return text.toString();
  }

  /** Topics are replicated on every node of a cluster, up to three. */
  private String replication() {
    return Integer.toString(cluster == null ? 1 : Math.min(3, cluster.nodes().size()));
  }

  /** One service instance's environment: {@link TuskServices#serviceEnv} with the replication. */
  private Map<String, String> env(String instance, int port, Path stateDir) {
    Map<String, String> env =
        TuskServices.serviceEnv(bootstrap, registry, home, instance, port, stateDir);
    env.put(KafkaSettings.REPLICATION_FACTOR.name(), replication());
    return env;
  }

  private ServiceProcess process(String name, Class<?> main, Map<String, String> env, int port) {
    return new ServiceProcess(name, main.getName(), env, port, home);
  }

  private static void compare(
      String pipeline,
      Map<String, String> chaos,
      Map<String, String> clean,
      List<String> failures) {
    if (chaos.isEmpty()) {
      failures.add(pipeline + ": no outputs");
    } else if (!chaos.equals(clean)) {
      long differing =
          clean.keySet().stream().filter(m -> !clean.get(m).equals(chaos.get(m))).count()
              + chaos.keySet().stream().filter(m -> !clean.containsKey(m)).count();
      failures.add(pipeline + ": " + differing + " members' outputs differ from the clean run's");
    }
  }

  /**
   * Member to the output hash of its current output, as a read_committed reader of {@code
   * <pipeline>.output} sees it; a member with two records of one job is a failure.
   */
  static Map<String, String> outputHashes(
      KafkaSettings settings, Topics topics, String pipeline, List<String> failures) {
    Map<String, String> current = new TreeMap<>();
    Map<String, Integer> perJob = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record : readAll(settings, TopicNames.output(pipeline))) {
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
    perJob.forEach(
        (what, count) -> {
          if (count > 1) {
            failures.add(pipeline + ": output of " + what + " written " + count + " times");
          }
        });
    return current;
  }

  /** Every commit of the repos whose names hold {@code suffix}, by repo (latest record per ID). */
  static Map<String, List<Commit>> commitsByRepo(
      KafkaSettings settings, Topics topics, String suffix) {
    Map<String, Commit> byId = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record : readAll(settings, TopicNames.COMMITS)) {
      if (record.value() == null || record.headers().lastHeader(Headers.ROLL) != null) {
        continue;
      }
      Commit commit = topics.commits.readValue(record.value());
      if (commit.getRepo().contains(suffix)) {
        byId.put(commit.getId(), commit);
      }
    }
    Map<String, List<Commit>> byRepo = new TreeMap<>();
    byId.values().forEach(c -> byRepo.computeIfAbsent(c.getRepo(), r -> new ArrayList<>()).add(c));
    return byRepo;
  }

  /** Sequences 1..n, one commit each, each the parent of the next. */
  static void checkChain(String repo, List<Commit> commits, List<String> failures) {
    List<Commit> bySequence = new ArrayList<>(commits);
    bySequence.sort(Comparator.comparingLong(Commit::getSequence));
    for (int i = 0; i < bySequence.size(); i++) {
      Commit commit = bySequence.get(i);
      String parent = i == 0 ? null : bySequence.get(i - 1).getId();
      if (commit.getSequence() != i + 1L || !Objects.equals(commit.getParent(), parent)) {
        failures.add(
            repo
                + ": commit "
                + commit.getId()
                + " has sequence "
                + commit.getSequence()
                + " and parent "
                + commit.getParent()
                + " where #"
                + (i + 1)
                + " after "
                + parent
                + " belongs: not one chain");
        return;
      }
    }
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(
      KafkaSettings settings, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("chaos-reader-" + UUID.randomUUID(), null))) {
      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(60));
      return Consumers.readToEnd(consumer, Duration.ofMinutes(2));
    }
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  }
}
