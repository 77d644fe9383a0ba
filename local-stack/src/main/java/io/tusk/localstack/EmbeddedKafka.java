package io.tusk.localstack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.Exit;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker and controller) running inside this JVM and
 * listening on 127.0.0.1 only.
 *
 * <p>The data directory survives {@link #close()}: starting again on the same directory reuses the
 * formatted log, so topics, offsets and the cluster ID are kept across restarts of {@code tusk up}.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private static final int NODE_ID = 1;
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final String META_PROPERTIES = "meta.properties";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration READY_ATTEMPT_TIMEOUT = Duration.ofSeconds(5);

  private final KafkaRaftServer server;
  private final Path dataDir;
  private final int port;
  private final String clusterId;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedKafka(KafkaRaftServer server, Path dataDir, int port, String clusterId) {
    this.server = server;
    this.dataDir = dataDir;
    this.port = port;
    this.clusterId = clusterId;
  }

  /**
   * Formats {@code dataDir} if it holds no log yet, starts the broker and returns once it answers
   * an Admin {@code describeCluster} (within 60 s).
   *
   * @param dataDir the broker's only log directory (created if missing)
   * @param port the client listener port, 0 for any free port
   * @param controllerPort the KRaft controller listener port, 0 for any free port
   * @throws IllegalStateException if the broker does not start or does not become ready in time
   */
  public static EmbeddedKafka start(Path dataDir, int port, int controllerPort) {
    Objects.requireNonNull(dataDir, "dataDir");
    long startNanos = System.nanoTime();
    Path dir = dataDir.toAbsolutePath();
    int[] resolved = FreePorts.resolve(port, controllerPort);
    int brokerPort = resolved[0];
    int ctlPort = resolved[1];
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not create Kafka data directory " + dir, e);
    }
    String clusterId = formatIfNeeded(dir);

    stopRegistriesBeforeHalting();
    KafkaRaftServer server =
        new KafkaRaftServer(
            KafkaConfig.fromProps(brokerProperties(dir, brokerPort, ctlPort), false), Time.SYSTEM);
    EmbeddedKafka kafka = new EmbeddedKafka(server, dir, brokerPort, clusterId);
    try {
      server.startup();
      kafka.awaitReady();
    } catch (RuntimeException | Error e) {
      kafka.close();
      throw e;
    }
    LOG.info(
        "Kafka ready on {} (cluster {}, data {}) in {} ms",
        kafka.bootstrapServers(),
        clusterId,
        dir,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
    return kafka;
  }

  /**
   * Kafka halts the JVM on a fatal error (e.g. its controller cannot bind its port), which skips
   * shutdown hooks and would leave the registry's child JVM running: stop it first. Kafka's halt
   * procedure is global; setting it again is harmless.
   */
  private static void stopRegistriesBeforeHalting() {
    Exit.setHaltProcedure(
        (status, message) -> {
          LOG.error("Kafka is halting this JVM (status {}): {}", status, message);
          EmbeddedRegistry.stopAllChildren();
          Runtime.getRuntime().halt(status);
        });
  }

  /** The client bootstrap address, {@code 127.0.0.1:<port>}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The client listener port. */
  public int port() {
    return port;
  }

  /** The cluster ID stored in the data directory (kept across restarts). */
  public String clusterId() {
    return clusterId;
  }

  /** The broker's log directory. */
  public Path dataDir() {
    return dataDir;
  }

  /** Shuts the broker down and waits until it has stopped. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long startNanos = System.nanoTime();
    server.shutdown();
    server.awaitShutdown();
    LOG.info(
        "Kafka on {} stopped in {} ms",
        bootstrapServers(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
  }

  /**
   * Writes {@code meta.properties} and the bootstrap metadata unless a previous run already did;
   * reformatting would give the log a new cluster ID and make the broker refuse its own data.
   */
  private static String formatIfNeeded(Path dir) {
    Path meta = dir.resolve(META_PROPERTIES);
    if (Files.exists(meta)) {
      String clusterId = readClusterId(meta);
      LOG.info("Reusing formatted Kafka log in {} (cluster {})", dir, clusterId);
      return clusterId;
    }
    String clusterId = Uuid.randomUuid().toString();
    // The formatter reports progress on a PrintStream; route it to the log instead of stdout.
    ByteArrayOutputStream formatterOutput = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(formatterOutput, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(out)
          .setNodeId(NODE_ID)
          .setClusterId(clusterId)
          .setDirectories(List.of(dir.toString()))
          .setMetadataLogDirectory(dir.toString())
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("Could not format Kafka data directory " + dir, e);
    }
    LOG.debug("Formatter: {}", formatterOutput.toString(StandardCharsets.UTF_8).trim());
    LOG.info("Formatted Kafka log in {} (cluster {})", dir, clusterId);
    return clusterId;
  }

  private static String readClusterId(Path meta) {
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(meta)) {
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + meta, e);
    }
    String clusterId = properties.getProperty("cluster.id");
    if (clusterId == null || clusterId.isBlank()) {
      throw new IllegalStateException(meta + " has no cluster.id: delete the directory to reset");
    }
    return clusterId;
  }

  private static Properties brokerProperties(Path dir, int port, int controllerPort) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:"
            + port
            + ","
            + CONTROLLER_LISTENER
            + "://127.0.0.1:"
            + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.toString());
    // One node: internal topics cannot have more than one replica, or groups and transactions hang.
    p.put("offsets.topic.replication.factor", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    // Few partitions for internal topics: creating 50 of each is most of the first-use cost on 2
    // cores.
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.num.partitions", "4");
    // Tests and demos must not wait 3 s for a first group rebalance.
    p.put("group.initial.rebalance.delay.ms", "0");
    // Tusk creates its topics explicitly; a typo must fail instead of creating a topic.
    p.put("auto.create.topics.enable", "false");
    p.put("num.partitions", "1");
    return p;
  }

  /**
   * Polls {@code describeCluster} until the broker lists itself. Each attempt is bounded so a
   * refused connection is retried instead of consuming the whole deadline.
   */
  private void awaitReady() {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    Map<String, Object> config =
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) READY_ATTEMPT_TIMEOUT.toMillis(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                (int) READY_ATTEMPT_TIMEOUT.toMillis());
    Exception last = null;
    try (Admin admin = Admin.create(config)) {
      while (System.nanoTime() < deadline) {
        try {
          if (!admin
              .describeCluster()
              .nodes()
              .get(READY_ATTEMPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .isEmpty()) {
            return;
          }
          // No broker registered yet: poll again shortly.
          TimeUnit.MILLISECONDS.sleep(100);
        } catch (ExecutionException | TimeoutException e) {
          last = e;
          LOG.debug("Kafka on {} not ready yet: {}", bootstrapServers(), e.toString());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("Interrupted while waiting for Kafka", e);
        }
      }
    }
    throw new IllegalStateException(
        "Kafka on " + bootstrapServers() + " not ready within " + READY_TIMEOUT, last);
  }
}
