package io.tusk.cli.local;

import io.tusk.cli.TuskClient;
import io.tusk.cli.chaos.ServiceProcess;
import io.tusk.commit.CommitService;
import io.tusk.commit.CommitServiceConfig;
import io.tusk.common.config.KafkaSettings;
import io.tusk.lineage.LineageService;
import io.tusk.lineage.LineageServiceConfig;
import io.tusk.localstack.FreePorts;
import io.tusk.partition.PartitionService;
import io.tusk.partition.PartitionServiceConfig;
import io.tusk.processor.DatumProcessor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The four Tusk services running in this JVM against a given broker and registry, each configured
 * through the same environment keys it reads in production (so this exercises their real config
 * code), on 127.0.0.1 with authentication on ({@link LocalAuth}: the local key set, the admin's
 * token in {@code <home>/token}), plus a {@link ProcessorSupervisor} that runs datum processors for
 * every pipeline.
 */
public final class TuskServices implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TuskServices.class);

  /**
   * Member partitions of every local repo (one count per deployment; see TUSK_MEMBER_PARTITIONS).
   */
  public static final int MEMBER_PARTITIONS = 6;

  private static final String COMMIT_SERVICE = CommitService.SERVICE;
  private static final String PARTITION_SERVICE = PartitionService.SERVICE;
  private static final String LINEAGE_SERVICE = LineageService.SERVICE_NAME;
  private static final String DATUM_PROCESSOR = DatumProcessor.SERVICE;

  /** How long a service in a JVM of its own may take to answer {@code /health}. */
  private static final Duration OWN_JVM_START = Duration.ofSeconds(120);

  private static final int OWN_JVM_ATTEMPTS = 3;

  private final List<AutoCloseable> started = new ArrayList<>();
  private CommitService commitService;
  private LineageService lineageService;
  private PartitionService partitionService;
  private LocalAuth auth;
  private ProcessorSupervisor processors;
  private int partitionPort;
  private int lineagePort;

  private TuskServices() {}

  /**
   * Starts the services.
   *
   * @param processorsPerPipeline datum-processor instances started for each pipeline (a consumer
   *     group; 2 shows the work being shared)
   */
  public static TuskServices start(
      String bootstrapServers,
      String registryUrl,
      Path home,
      Ports ports,
      int processorsPerPipeline) {
    return start(bootstrapServers, registryUrl, home, ports, processorsPerPipeline, true);
  }

  /**
   * Starts the services, the partition service only if {@code withPartitionService} (the benchmark
   * starts it later, on a backlog, with {@link #startPartitionService}).
   */
  public static TuskServices start(
      String bootstrapServers,
      String registryUrl,
      Path home,
      Ports ports,
      int processorsPerPipeline,
      boolean withPartitionService) {
    return start(
        bootstrapServers,
        registryUrl,
        home,
        ports,
        processorsPerPipeline,
        withPartitionService,
        Map.of());
  }

  /**
   * Starts the services with more environment for some of them: {@code serviceEnv} maps a service's
   * name ({@code commit-service}, {@code partition-service}, {@code lineage-service}, {@code
   * datum-processor}) to variables it gets on top of the local ones, e.g. its own Kafka credentials
   * as {@code TUSK_KAFKA_*} settings against a secured broker. The datum processors and their
   * supervisor get the {@code datum-processor} entry.
   */
  public static TuskServices start(
      String bootstrapServers,
      String registryUrl,
      Path home,
      Ports ports,
      int processorsPerPipeline,
      boolean withPartitionService,
      Map<String, Map<String, String>> serviceEnv) {
    return start(
        bootstrapServers,
        registryUrl,
        home,
        ports,
        processorsPerPipeline,
        withPartitionService,
        serviceEnv,
        false);
  }

  /**
   * As {@link #start(String, String, Path, Ports, int, boolean, Map)}, with the lineage service
   * optionally in a JVM of its own ({@code -Xmx512m}, log {@code <home>/lineage-service.log}), as a
   * deployment runs it: its lookups then share neither this JVM's heap nor its collector's pauses
   * with the broker and the other services. For the lineage benchmark, which times them. {@link
   * #lineageService()} is null then.
   */
  public static TuskServices start(
      String bootstrapServers,
      String registryUrl,
      Path home,
      Ports ports,
      int processorsPerPipeline,
      boolean withPartitionService,
      Map<String, Map<String, String>> serviceEnv,
      boolean lineageInOwnJvm) {
    TuskServices services = new TuskServices();
    try {
      // Every endpoint needs a token: the services trust the local key set, and the CLI finds the
      // admin's token in <home>/token.
      services.auth = LocalAuth.of(home);
      services.auth.writeTokenFile(home);
      Map<String, String> base = baseEnv(bootstrapServers, registryUrl);
      base.putAll(services.auth.env());
      // The commit service forwards member and diff queries to the partition service, so its port
      // is fixed before either starts, and held while the commit service opens its connections.
      try (FreePorts.Reservation partitionPort = FreePorts.reserve(ports.partitionService())) {
        services.partitionPort = partitionPort.port();
        Map<String, String> commitEnv = env(base, "local-commit", ports.commitService(), null);
        commitEnv.putAll(serviceEnv.getOrDefault(COMMIT_SERVICE, Map.of()));
        commitEnv.put("TUSK_PARTITION_URL", "http://127.0.0.1:" + services.partitionPort);
        commitEnv.put("TUSK_MEMBER_PARTITIONS", Integer.toString(MEMBER_PARTITIONS));
        services.commitService =
            services.add(CommitService.start(CommitServiceConfig.from(commitEnv)));
      }
      if (withPartitionService) {
        services.partitionService =
            services.add(
                startPartitionService(
                    bootstrapServers,
                    registryUrl,
                    home,
                    services.partitionPort,
                    serviceEnv.getOrDefault(PARTITION_SERVICE, Map.of())));
      }
      Map<String, String> lineageEnv =
          env(base, "local-lineage", ports.lineageService(), home.resolve("state/lineage-service"));
      // The console's diffs, rejected rows, members and restarts go through the lineage service.
      lineageEnv.put("TUSK_COMMIT_URL", "http://127.0.0.1:" + services.commitService.port());
      lineageEnv.putAll(serviceEnv.getOrDefault(LINEAGE_SERVICE, Map.of()));
      if (lineageInOwnJvm) {
        ServiceProcess lineage =
            services.add(
                startInOwnJvm(
                    LINEAGE_SERVICE,
                    LineageService.class,
                    lineageEnv,
                    ports.lineageService(),
                    home,
                    List.of("-Xmx512m")));
        services.lineagePort = lineage.port();
      } else {
        services.lineageService =
            services.add(LineageService.start(LineageServiceConfig.from(lineageEnv)));
        services.lineagePort = services.lineageService.port();
      }
      Map<String, String> processorEnv = new HashMap<>(base);
      processorEnv.putAll(serviceEnv.getOrDefault(DATUM_PROCESSOR, Map.of()));
      services.processors =
          services.add(ProcessorSupervisor.start(processorEnv, processorsPerPipeline));
      return services;
    } catch (RuntimeException | Error e) {
      services.close();
      throw e;
    }
  }

  /** Starts a partition service configured like the local one. */
  public static PartitionService startPartitionService(
      String bootstrapServers, String registryUrl, Path home, int httpPort) {
    return startPartitionService(bootstrapServers, registryUrl, home, httpPort, Map.of());
  }

  /**
   * Starts one of several partition-service instances side by side, configured like the local one
   * but named {@code instance}: its instance ID (which its rekeyers' transactional IDs carry, so
   * instances must differ) and its own state directory {@code <home>/state/<instance>} (instances
   * of one Kafka Streams application must not share one). The URL the others forward member queries
   * to is derived from 127.0.0.1 and the port it bound, so {@code httpPort} 0 is fine.
   */
  public static PartitionService startPartitionService(
      String bootstrapServers, String registryUrl, Path home, String instance, int httpPort) {
    Objects.requireNonNull(instance, "instance");
    return startPartitionService(
        bootstrapServers,
        registryUrl,
        home,
        instance,
        httpPort,
        home.resolve("state").resolve(instance),
        Map.of());
  }

  /**
   * Starts a partition service configured like the local one, with {@code extraEnv} on top of its
   * environment (the bench's stream threads).
   */
  public static PartitionService startPartitionService(
      String bootstrapServers,
      String registryUrl,
      Path home,
      int httpPort,
      Map<String, String> extraEnv) {
    return startPartitionService(
        bootstrapServers,
        registryUrl,
        home,
        "local-partition",
        httpPort,
        home.resolve("state/partition-service"),
        extraEnv);
  }

  private static PartitionService startPartitionService(
      String bootstrapServers,
      String registryUrl,
      Path home,
      String instance,
      int httpPort,
      Path stateDir,
      Map<String, String> extraEnv) {
    Map<String, String> env =
        serviceEnv(bootstrapServers, registryUrl, home, instance, httpPort, stateDir);
    env.putAll(extraEnv);
    return PartitionService.start(PartitionServiceConfig.from(env));
  }

  /**
   * The environment of one local service instance: the local stack's Kafka and registry, the local
   * key set, its instance ID, HTTP port and state directory (none when null). Tests that run the
   * services as processes of their own start them with it.
   */
  public static Map<String, String> serviceEnv(
      String bootstrapServers,
      String registryUrl,
      Path home,
      String instance,
      int httpPort,
      Path stateDir) {
    Map<String, String> base = baseEnv(bootstrapServers, registryUrl);
    base.putAll(LocalAuth.of(home).env());
    return env(base, instance, httpPort, stateDir);
  }

  private static Map<String, String> baseEnv(String bootstrapServers, String registryUrl) {
    Map<String, String> base = new HashMap<>();
    base.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), bootstrapServers);
    base.put(KafkaSettings.REGISTRY_URL.name(), registryUrl);
    base.put(KafkaSettings.SYSTEM_PARTITIONS.name(), "3");
    base.put(KafkaSettings.REPLICATION_FACTOR.name(), "1");
    return base;
  }

  /**
   * Starts a partition service configured like the local one in a JVM of its own with {@code
   * jvmFlags} (e.g. its heap bound), as a deployment runs it, and returns it once {@code /health}
   * answers: the first-commit benchmark measures its heap apart from the broker's and the other
   * services'. Its log is {@code <home>/partition-service.log}; closing it kills it.
   */
  public static ServiceProcess startPartitionServiceInOwnJvm(
      String bootstrapServers, String registryUrl, Path home, List<String> jvmFlags) {
    Map<String, String> env =
        serviceEnv(
            bootstrapServers,
            registryUrl,
            home,
            "local-partition",
            0,
            home.resolve("state/partition-service"));
    return startInOwnJvm(PARTITION_SERVICE, PartitionService.class, env, 0, home, jvmFlags);
  }

  /**
   * Starts {@code main} in a JVM of its own on {@code fixedPort} (0: a free one) and returns it
   * once {@code /health} answers. A free port is only probed; the child binds it seconds later,
   * once booted, and another process may take it first (the registry lost a CI run so), so a port
   * chosen here is chosen again when the child exits before it is healthy, up to three times.
   */
  private static ServiceProcess startInOwnJvm(
      String name,
      Class<?> main,
      Map<String, String> env,
      int fixedPort,
      Path home,
      List<String> jvmFlags) {
    for (int attempt = 1; ; attempt++) {
      int port = FreePorts.resolve(fixedPort)[0];
      env.put("TUSK_HTTP_PORT", Integer.toString(port));
      ServiceProcess service = new ServiceProcess(name, main.getName(), env, port, home, jvmFlags);
      service.start();
      try {
        service.awaitRecovered(OWN_JVM_START);
        return service;
      } catch (InterruptedException e) {
        service.close();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while the " + name + " started", e);
      } catch (IllegalStateException e) {
        boolean exited = !service.alive();
        service.close();
        if (!exited || fixedPort != 0 || attempt >= OWN_JVM_ATTEMPTS) {
          throw e;
        }
        log.warn(
            "{}; starting it again on a new port ({} of {})",
            e.getMessage(),
            attempt + 1,
            OWN_JVM_ATTEMPTS);
      }
    }
  }

  private static Map<String, String> env(
      Map<String, String> base, String instance, int httpPort, Path stateDir) {
    Map<String, String> env = new HashMap<>(base);
    env.put(KafkaSettings.INSTANCE_ID.name(), instance);
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", Integer.toString(httpPort));
    if (stateDir != null) {
      env.put("TUSK_STATE_DIR", stateDir.toString());
    }
    return env;
  }

  /** The partition service's HTTP port (also when the benchmark starts it later). */
  public int partitionPort() {
    return partitionPort;
  }

  private <T extends AutoCloseable> T add(T service) {
    started.add(service);
    return service;
  }

  /** The datum processors of every pipeline (to stop and start them). */
  public ProcessorSupervisor processors() {
    return processors;
  }

  /** The local key set and admin token. */
  public LocalAuth auth() {
    return auth;
  }

  /** A client of the commit and lineage services sending the local admin's token. */
  public TuskClient client() {
    return new TuskClient(commitUrl(), lineageUrl(), auth.adminToken());
  }

  /** The commit service (its declared routes, for the access matrix). */
  public CommitService commitService() {
    return commitService;
  }

  /** The lineage service (its declared routes, for the access matrix). */
  public LineageService lineageService() {
    return lineageService;
  }

  /** The partition service started with the others, or null. */
  public PartitionService partitionService() {
    return partitionService;
  }

  /** Base URL of the commit service's API. */
  public String commitUrl() {
    return "http://127.0.0.1:" + commitService.port();
  }

  /** Base URL of the lineage service's API. */
  public String lineageUrl() {
    return "http://127.0.0.1:" + lineagePort;
  }

  @Override
  public void close() {
    // Stop in reverse order: processors first, the control plane last.
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        log.warn("Closing {} failed", started.get(i).getClass().getSimpleName(), e);
      }
    }
    started.clear();
  }
}
