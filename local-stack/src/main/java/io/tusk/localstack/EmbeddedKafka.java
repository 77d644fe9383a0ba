package io.tusk.localstack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SslConfigs;
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
 *
 * <p>{@link #start} runs one PLAINTEXT listener ({@code tusk up}, the tests). {@link #startSecured}
 * runs the broker as a secured cluster does (for tests of Tusk against one): a SASL_SSL listener
 * (SCRAM-SHA-512), an SSL listener that requires a client certificate (mTLS; the principal is the
 * certificate's CN), broker and controller traffic on listeners of their own (mTLS with the
 * broker's certificate), and the standard authorizer with no access where no ACL allows it.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private static final int NODE_ID = 1;
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final String META_PROPERTIES = "meta.properties";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration READY_ATTEMPT_TIMEOUT = Duration.ofSeconds(5);

  /** Listener names of the secured mode: the two client listeners and the broker's own. */
  private static final String SASL_LISTENER = "SASL_SSL";

  private static final String MTLS_LISTENER = "SSL";
  private static final String INTERNAL_LISTENER = "INTERNAL";

  /** The one SASL mechanism of the secured mode. */
  public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

  /**
   * A certificate's principal is its CN: {@code CN=lineage-service,O=x} is {@code
   * User:lineage-service}. Kafka's rule syntax and the pattern the broker's own name is read with.
   */
  private static final String PRINCIPAL_MAPPING_RULE = "RULE:^CN=([^,]+)(,.*)?$/$1/,DEFAULT";

  private static final Pattern COMMON_NAME = Pattern.compile("^CN=([^,]+)(,.*)?$");

  private final KafkaRaftServer server;
  private final Path dataDir;
  private final int port;
  private final int mtlsPort;
  private final String clusterId;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedKafka(
      KafkaRaftServer server, Path dataDir, int port, int mtlsPort, String clusterId) {
    this.server = server;
    this.dataDir = dataDir;
    this.port = port;
    this.mtlsPort = mtlsPort;
    this.clusterId = clusterId;
  }

  /**
   * The TLS material and super users of a secured broker.
   *
   * @param keyStore a PKCS12 store with the broker's key and certificate chain; the certificate
   *     must name 127.0.0.1 (a SAN) and may be used for client auth too, since the broker connects
   *     to its own controller with it. Its CN is the broker's principal, made a super user.
   * @param trustStore a PKCS12 store with the CA that signed the broker's and the clients'
   *     certificates
   * @param password the password of both stores and of the key
   * @param superUsers principals that bypass ACLs, e.g. {@code User:admin} for a test's admin
   */
  public record Security(Path keyStore, Path trustStore, String password, List<String> superUsers) {
    public Security {
      Objects.requireNonNull(keyStore, "keyStore");
      Objects.requireNonNull(trustStore, "trustStore");
      Objects.requireNonNull(password, "password");
      superUsers = List.copyOf(superUsers);
    }

    /** The principal of the broker's certificate, {@code User:<CN>}. */
    String brokerPrincipal() {
      try (InputStream in = Files.newInputStream(keyStore)) {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(in, password.toCharArray());
        for (String alias : Collections.list(store.aliases())) {
          if (store.isKeyEntry(alias)) {
            X509Certificate certificate = (X509Certificate) store.getCertificate(alias);
            Matcher cn = COMMON_NAME.matcher(certificate.getSubjectX500Principal().getName());
            if (cn.matches()) {
              return "User:" + cn.group(1);
            }
          }
        }
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalStateException("Cannot read the broker key store " + keyStore, e);
      }
      throw new IllegalStateException(
          "The broker key store " + keyStore + " has no key whose certificate has a CN");
    }

    /**
     * SSL client settings that trust the broker, with {@code clientKeyStore} as the client's
     * identity.
     */
    Map<String, Object> sslClient(Path clientKeyStore) {
      Map<String, Object> props = new HashMap<>();
      props.put(AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SSL");
      props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
      props.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, trustStore.toString());
      props.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, password);
      props.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
      props.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, clientKeyStore.toString());
      props.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, password);
      props.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, password);
      return props;
    }
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
    int[] resolved = FreePorts.resolve(port, controllerPort);
    Path dir = dataDir.toAbsolutePath();
    return launch(dir, brokerProperties(dir, resolved[0], resolved[1]), resolved[0], 0, Map.of());
  }

  /**
   * Formats {@code dataDir} if it holds no log yet and starts a secured broker on free ports: a
   * SASL_SSL listener ({@link #bootstrapServers}, SCRAM-SHA-512), an SSL listener requiring a
   * client certificate ({@link #mtlsBootstrapServers}), and broker and controller listeners of
   * their own. Authorization is on ({@code StandardAuthorizer}); nothing is allowed without an ACL
   * except to the super users and the broker's own principal. SCRAM users and ACLs are added by a
   * super user's admin client ({@code Admin.alterUserScramCredentials}, {@code createAcls}).
   *
   * @throws IllegalStateException if the broker does not start or does not become ready in time
   */
  public static EmbeddedKafka startSecured(Path dataDir, Security security) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(security, "security");
    int[] ports = FreePorts.resolve(0, 0, 0, 0);
    Path dir = dataDir.toAbsolutePath();
    Properties properties =
        securedBrokerProperties(dir, ports[0], ports[1], ports[2], ports[3], security);
    // Readiness is asked on the broker's own listener, as the broker (a super user).
    Map<String, Object> readinessClient = security.sslClient(security.keyStore());
    readinessClient.put(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + ports[2]); // internal
    return launch(dir, properties, ports[0], ports[1], readinessClient);
  }

  private static EmbeddedKafka launch(
      Path dir,
      Properties properties,
      int clientPort,
      int mtlsPort,
      Map<String, Object> readinessClient) {
    long startNanos = System.nanoTime();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not create Kafka data directory " + dir, e);
    }
    String clusterId = formatIfNeeded(dir);

    stopRegistriesBeforeHalting();
    KafkaRaftServer server =
        new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM);
    EmbeddedKafka kafka = new EmbeddedKafka(server, dir, clientPort, mtlsPort, clusterId);
    try {
      server.startup();
      kafka.awaitReady(readinessClient);
    } catch (RuntimeException | Error e) {
      kafka.close();
      throw e;
    }
    LOG.info(
        "Kafka ready on {} (cluster {}, data {}{}) in {} ms",
        kafka.bootstrapServers(),
        clusterId,
        dir,
        mtlsPort == 0 ? "" : ", SASL_SSL, mTLS on " + kafka.mtlsBootstrapServers() + ", ACLs on",
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

  /**
   * The client bootstrap address, {@code 127.0.0.1:<port>}: the PLAINTEXT listener, or in the
   * secured mode the SASL_SSL one.
   */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The client listener port (PLAINTEXT, or SASL_SSL in the secured mode). */
  public int port() {
    return port;
  }

  /** True if started by {@link #startSecured}. */
  public boolean isSecured() {
    return mtlsPort != 0;
  }

  /**
   * The bootstrap address of the secured mode's SSL listener, where clients authenticate with a
   * certificate.
   *
   * @throws IllegalStateException if the broker is not secured
   */
  public String mtlsBootstrapServers() {
    if (!isSecured()) {
      throw new IllegalStateException("this broker has no mTLS listener: use startSecured");
    }
    return "127.0.0.1:" + mtlsPort;
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
    return formatIfNeeded(dir, NODE_ID, Uuid.randomUuid().toString());
  }

  /**
   * Formats {@code dir} as node {@code nodeId} of cluster {@code newClusterId} unless it is
   * formatted already; returns the cluster ID the directory holds. The nodes of a cluster with a
   * static quorum ({@code controller.quorum.voters}) are each formatted so, with one cluster ID.
   */
  static String formatIfNeeded(Path dir, int nodeId, String newClusterId) {
    Path meta = dir.resolve(META_PROPERTIES);
    if (Files.exists(meta)) {
      String clusterId = readClusterId(meta);
      LOG.info("Reusing formatted Kafka log in {} (cluster {})", dir, clusterId);
      return clusterId;
    }
    String clusterId = newClusterId;
    // The formatter reports progress on a PrintStream; route it to the log instead of stdout.
    ByteArrayOutputStream formatterOutput = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(formatterOutput, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(out)
          .setNodeId(nodeId)
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

  static Properties brokerProperties(Path dir, int port, int controllerPort) {
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
    // Retention and compaction run often, so an erasure's bounds (README "Erasure and retention")
    // hold at short settings too: topics with a retention of seconds lose expired segments within
    // seconds, and the cleaner looks for compactable logs every second.
    p.put("log.retention.check.interval.ms", "2000");
    p.put("log.cleaner.backoff.ms", "1000");
    return p;
  }

  /**
   * The secured mode's broker: the settings every single-node broker needs (as in {@link
   * #brokerProperties}) with four listeners, TLS, SCRAM and the standard authorizer.
   */
  static Properties securedBrokerProperties(
      Path dir,
      int saslPort,
      int mtlsPort,
      int internalPort,
      int controllerPort,
      Security security) {
    Properties p = brokerProperties(dir, saslPort, controllerPort);
    p.put(
        "listeners",
        String.join(
            ",",
            SASL_LISTENER + "://127.0.0.1:" + saslPort,
            MTLS_LISTENER + "://127.0.0.1:" + mtlsPort,
            INTERNAL_LISTENER + "://127.0.0.1:" + internalPort,
            CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort));
    p.put(
        "advertised.listeners",
        String.join(
            ",",
            SASL_LISTENER + "://127.0.0.1:" + saslPort,
            MTLS_LISTENER + "://127.0.0.1:" + mtlsPort,
            INTERNAL_LISTENER + "://127.0.0.1:" + internalPort));
    p.put(
        "listener.security.protocol.map",
        String.join(
            ",",
            SASL_LISTENER + ":SASL_SSL",
            MTLS_LISTENER + ":SSL",
            INTERNAL_LISTENER + ":SSL",
            CONTROLLER_LISTENER + ":SSL"));
    p.put("inter.broker.listener.name", INTERNAL_LISTENER);
    // One key and trust store for every listener, and for the broker as a client of its
    // controller.
    p.put("ssl.keystore.type", "PKCS12");
    p.put("ssl.keystore.location", security.keyStore().toString());
    p.put("ssl.keystore.password", security.password());
    p.put("ssl.key.password", security.password());
    p.put("ssl.truststore.type", "PKCS12");
    p.put("ssl.truststore.location", security.trustStore().toString());
    p.put("ssl.truststore.password", security.password());
    // Certificates are required where they are the identity: never on the SASL listener.
    for (String listener : List.of(MTLS_LISTENER, INTERNAL_LISTENER, CONTROLLER_LISTENER)) {
      p.put("listener.name." + listener.toLowerCase(Locale.ROOT) + ".ssl.client.auth", "required");
    }
    p.put("ssl.principal.mapping.rules", PRINCIPAL_MAPPING_RULE);
    p.put("sasl.enabled.mechanisms", SCRAM_MECHANISM);
    p.put(
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    p.put("allow.everyone.if.no.acl.found", "false");
    List<String> superUsers = new ArrayList<>(security.superUsers());
    superUsers.add(security.brokerPrincipal());
    p.put("super.users", String.join(";", superUsers));
    return p;
  }

  /**
   * Polls {@code describeCluster} until the broker lists itself. Each attempt is bounded so a
   * refused connection is retried instead of consuming the whole deadline.
   */
  private void awaitReady(Map<String, Object> client) {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    Map<String, Object> config = new HashMap<>(client);
    config.putIfAbsent(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) READY_ATTEMPT_TIMEOUT.toMillis());
    config.put(
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) READY_ATTEMPT_TIMEOUT.toMillis());
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
