package io.tusk.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything Tusk needs to run on one machine: an {@link EmbeddedKafka} broker and an {@link
 * EmbeddedRegistry} schema registry, both on 127.0.0.1, with their data under one home directory
 * ({@code home/kafka} and {@code home/registry}). Used by {@code tusk up}, {@code tusk demo} and,
 * through the test-fixtures module's {@code LocalStackExtension}, by the integration tests.
 */
public final class LocalStack implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);

  private static final String KAFKA_DIR = "kafka";
  private static final String REGISTRY_DIR = "registry";

  /**
   * The ports to listen on; 0 means any free port.
   *
   * @param kafka the broker's client port
   * @param controller the KRaft controller port
   * @param registry the registry's HTTP port
   */
  public record Ports(int kafka, int controller, int registry) {

    /** Any free ports: for tests, so parallel runs never clash. */
    public static Ports ephemeral() {
      return new Ports(0, 0, 0);
    }

    /** The well-known ports (9092, 9093, 8081), for {@code tusk up}. */
    public static Ports defaults() {
      return new Ports(9092, 9093, 8081);
    }

    /** Each port by what wants it, for {@link PortCheck}. */
    public Map<String, Integer> byUser() {
      Map<String, Integer> ports = new LinkedHashMap<>();
      ports.put("Kafka", kafka);
      ports.put("the Kafka controller", controller);
      ports.put("the schema registry", registry);
      return ports;
    }
  }

  private final Path home;
  private final EmbeddedKafka kafka;
  private final EmbeddedRegistry registry;

  private LocalStack(Path home, EmbeddedKafka kafka, EmbeddedRegistry registry) {
    this.home = home;
    this.kafka = kafka;
    this.registry = registry;
  }

  /**
   * Starts the broker and the registry concurrently under {@code home} and returns when both are
   * ready. Fixed ports are checked first; if either part fails, whatever did start is stopped
   * before the failure is thrown.
   *
   * @throws IllegalStateException naming the port if a fixed port is taken, or (also {@link
   *     UncheckedIOException}) if either part fails to start
   */
  public static LocalStack start(Path home, Ports ports) {
    Objects.requireNonNull(home, "home");
    Objects.requireNonNull(ports, "ports");
    PortCheck.requireFree(ports.byUser());
    long startNanos = System.nanoTime();
    Path dir = home.toAbsolutePath();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not create local stack home " + dir, e);
    }

    // The registry starts in a child JVM; launch it first on its own thread (not the common pool,
    // which has a single thread on 2 cores) and start the broker meanwhile on this one.
    CompletableFuture<EmbeddedRegistry> registryStart = new CompletableFuture<>();
    Thread registryStarter =
        new Thread(
            () -> {
              try {
                registryStart.complete(
                    EmbeddedRegistry.start(dir.resolve(REGISTRY_DIR), ports.registry()));
              } catch (Throwable t) {
                registryStart.completeExceptionally(t);
              }
            },
            "tusk-registry-start");
    registryStarter.setDaemon(true);
    registryStarter.start();

    EmbeddedKafka kafka;
    try {
      kafka = EmbeddedKafka.start(dir.resolve(KAFKA_DIR), ports.kafka(), ports.controller());
    } catch (RuntimeException | Error e) {
      // Interrupting makes the registry start give up and kill its child; then wait for that.
      registryStarter.interrupt();
      stopQuietly(registryStart.handle((registry, failure) -> registry).join(), e);
      throw e;
    }

    EmbeddedRegistry registry;
    try {
      registry = registryStart.get();
    } catch (ExecutionException e) {
      stopQuietly(kafka, e.getCause());
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("Registry failed to start", e.getCause());
    } catch (InterruptedException e) {
      registryStarter.interrupt();
      stopQuietly(registryStart.handle((started, failure) -> started).join(), e);
      stopQuietly(kafka, e);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting the local stack", e);
    }

    LOG.info(
        "Local stack ready in {} ms: Kafka {}, registry {}, home {}",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
        kafka.bootstrapServers(),
        registry.url(),
        dir);
    return new LocalStack(dir, kafka, registry);
  }

  /**
   * Kills a registry that a crashed session left running under {@code home} (the broker ran inside
   * that session's JVM and died with it). For {@code tusk clean}.
   */
  public static void killLeftovers(Path home) {
    Objects.requireNonNull(home, "home");
    EmbeddedRegistry.killLeftover(home.toAbsolutePath().resolve(REGISTRY_DIR));
  }

  /** The broker's bootstrap address, {@code 127.0.0.1:<port>}. */
  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /**
   * The registry's Confluent-compatible base URL, {@code http://127.0.0.1:<port>/apis/ccompat/v7}.
   */
  public String registryUrl() {
    return registry.url();
  }

  /** The absolute home directory that holds the broker's and the registry's data. */
  public Path home() {
    return home;
  }

  /** The broker, for callers that need more than its address (cluster ID, data directory). */
  public EmbeddedKafka kafka() {
    return kafka;
  }

  /** The registry, for callers that need more than its URL (process ID, data directory). */
  public EmbeddedRegistry registry() {
    return registry;
  }

  /** Stops the registry and the broker; both are stopped even if one of them fails to. */
  @Override
  public void close() {
    try {
      registry.close();
    } finally {
      kafka.close();
    }
  }

  /** Stops a half-started stack's part without hiding the failure that caused the stop. */
  private static void stopQuietly(AutoCloseable part, Throwable cause) {
    if (part == null) {
      return;
    }
    try {
      part.close();
    } catch (Exception e) {
      cause.addSuppressed(e);
    }
  }
}
