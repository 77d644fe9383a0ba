package io.tusk.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apicurio Registry (3.0.9) running as a child JVM on 127.0.0.1, exposing the
 * Confluent-compatible API that Tusk's registry client speaks.
 *
 * <p>Schemas are kept in an H2 file database under the data directory, so that schema IDs written
 * into Kafka records still resolve after a restart of {@code tusk up} (the broker keeps its data
 * too). The child is killed on {@link #close()} and by a JVM shutdown hook; a child left behind by
 * a killed parent is found through {@code registry.pid} by {@link #killLeftover(Path)}.
 */
public final class EmbeddedRegistry implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

  /** System property or environment variable that points at an unpacked Apicurio runner. */
  public static final String APICURIO_HOME_OVERRIDE = "TUSK_APICURIO_HOME";

  static final String PID_FILE = "registry.pid";
  static final String LOG_FILE = "registry.log";
  private static final String RESOURCE = "tusk-local-stack.properties";
  private static final String RUNNER_PREFIX = "apicurio-registry-app-";
  private static final String API_PATH = "/apis/ccompat/v7";
  private static final String JSON = "application/vnd.schemaregistry.v1+json";

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);
  private static final int LOG_TAIL_LINES = 40;
  private static final int PORT_ATTEMPTS = 3;

  /** What Quarkus logs, then exits, when its HTTP or management port is already bound. */
  private static final Pattern PORT_TAKEN = Pattern.compile("Port (\\d+) seems to be in use");

  /**
   * JVM flags for the child, measured on 2 cores: C1 only and the serial collector cut time to
   * ready from ~2.8 s to ~2.1 s and RSS from ~300 MB to ~260 MB, and leave the second core to the
   * broker starting at the same time. The heap cap keeps the registry small next to the tests.
   */
  private static final List<String> JVM_FLAGS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m");

  private final Process process;
  private final Path dataDir;
  private final int port;
  private final Thread shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedRegistry(Process process, Path dataDir, int port) {
    this.process = process;
    this.dataDir = dataDir;
    this.port = port;
    this.shutdownHook =
        new Thread(() -> destroyTree(process.toHandle()), "tusk-registry-shutdown-hook");
  }

  /**
   * Starts the registry, waits until its ccompat API answers (within 180 s) and sets the global
   * compatibility to BACKWARD.
   *
   * @param dataDir holds the H2 database, {@code registry.log} and {@code registry.pid} (created if
   *     missing)
   * @param port the HTTP port, 0 for any free port: a port chosen here that another process takes
   *     before the registry binds it is chosen again, up to three times
   * @throws IllegalStateException if the runner is missing, another session's registry still runs
   *     on {@code dataDir}, or the child dies or does not become ready in time
   */
  public static EmbeddedRegistry start(Path dataDir, int port) {
    return start(dataDir, port, FreePorts::resolve);
  }

  /**
   * {@link #start(Path, int)} with the free-port lookup given, so a test can hand out a taken port.
   */
  static EmbeddedRegistry start(Path dataDir, int port, UnaryOperator<int[]> resolvePorts) {
    Objects.requireNonNull(dataDir, "dataDir");
    long startNanos = System.nanoTime();
    Path dir = dataDir.toAbsolutePath();
    Path runner = runnerJar();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not create registry data directory " + dir, e);
    }
    failIfAlreadyRunning(dir);
    for (int attempt = 1; ; attempt++) {
      // The management interface (health, metrics) defaults to port 9000: give it its own free
      // port.
      int[] ports = resolvePorts.apply(new int[] {port, 0});
      try {
        EmbeddedRegistry registry = launchAndAwait(runner, dir, ports[0], ports[1]);
        LOG.info(
            "Registry ready at {} (pid {}, data {}) in {} ms",
            registry.url(),
            registry.pid(),
            dir,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        return registry;
      } catch (PortTakenException e) {
        // A free port is only probed, then released: until Quarkus binds it seconds later, any
        // outgoing connection (a broker starting beside it) may get it as its ephemeral port.
        boolean chosenHere = e.port == ports[1] || (port == 0 && e.port == ports[0]);
        if (!chosenHere || attempt >= PORT_ATTEMPTS) {
          throw e;
        }
        LOG.warn(
            "Registry port {} was taken after it was found free; trying new ports ({} of {})",
            e.port,
            attempt + 1,
            PORT_ATTEMPTS);
      }
    }
  }

  /** Launches the child on the given ports and waits until it answers, or stops it. */
  private static EmbeddedRegistry launchAndAwait(
      Path runner, Path dir, int port, int managementPort) {
    Process process = launch(runner, dir, port, managementPort);
    EmbeddedRegistry registry = new EmbeddedRegistry(process, dir, port);
    Runtime.getRuntime().addShutdownHook(registry.shutdownHook);
    try {
      Files.writeString(dir.resolve(PID_FILE), Long.toString(process.pid()));
      HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
      registry.awaitReady(http);
      registry.setBackwardCompatibility(http);
      return registry;
    } catch (IOException e) {
      registry.close();
      throw new UncheckedIOException("Could not start the registry in " + dir, e);
    } catch (InterruptedException e) {
      registry.close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting the registry", e);
    } catch (RuntimeException | Error e) {
      registry.close();
      throw e;
    }
  }

  /**
   * Kills a registry that an earlier, crashed session left running on {@code dataDir}, found
   * through its pid file. A PID that now belongs to some other program is left alone.
   *
   * @return whether a process was killed
   */
  public static boolean killLeftover(Path dataDir) {
    Objects.requireNonNull(dataDir, "dataDir");
    Path pidFile = dataDir.resolve(PID_FILE);
    Optional<ProcessHandle> leftover = runningRegistry(pidFile);
    leftover.ifPresent(
        handle -> {
          LOG.warn("Killing registry left running by an earlier session (pid {})", handle.pid());
          destroyTree(handle);
        });
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not delete " + pidFile, e);
    }
    return leftover.isPresent();
  }

  /**
   * Stops every registry this JVM launched that still runs, at once: for a JVM about to halt (Kafka
   * halts on fatal errors), where shutdown hooks do not run and a child would outlive it.
   */
  static void stopAllChildren() {
    ProcessHandle.current()
        .children()
        .filter(EmbeddedRegistry::isRunner)
        .forEach(
            child -> {
              LOG.warn("Stopping the registry (pid {}) before this JVM halts", child.pid());
              destroyTree(child);
            });
  }

  /** The Confluent-compatible base URL, {@code http://127.0.0.1:<port>/apis/ccompat/v7}. */
  public String url() {
    return "http://127.0.0.1:" + port + API_PATH;
  }

  /** The HTTP port. */
  public int port() {
    return port;
  }

  /** The child process ID. */
  public long pid() {
    return process.pid();
  }

  /** The registry's directory (database, log, pid file). */
  public Path dataDir() {
    return dataDir;
  }

  /** Stops the child and its descendants (forcibly after 10 s) and deletes the pid file. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    destroyTree(process.toHandle());
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down; the hook is running or has run and does no harm.
      LOG.debug("JVM shutting down, registry shutdown hook left in place");
    }
    try {
      Files.deleteIfExists(dataDir.resolve(PID_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("Could not delete the registry pid file in " + dataDir, e);
    }
    if (process.isAlive()) {
      LOG.warn("Registry on port {} (pid {}) may still be running", port, process.pid());
    } else {
      LOG.info("Registry on port {} stopped (exit code {})", port, process.exitValue());
    }
  }

  private static Process launch(Path runner, Path dir, int port, int managementPort) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    command.add("-Dquarkus.http.host=127.0.0.1");
    command.add("-Dquarkus.http.port=" + port);
    command.add("-Dquarkus.management.host=127.0.0.1");
    command.add("-Dquarkus.management.port=" + managementPort);
    // Otherwise every request (readiness polls included) is written to the log.
    command.add("-Dquarkus.http.access-log.enabled=false");
    // Apicurio's default is an in-memory H2 database; a file keeps schema IDs across restarts.
    command.add("-Dapicurio.datasource.url=jdbc:h2:file:" + dir.resolve("db").resolve("registry"));
    command.add("-Dapicurio.storage.snapshot.location=" + dir);
    command.add("-jar");
    command.add(runner.toString());
    try {
      return new ProcessBuilder(command)
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve(LOG_FILE).toFile())
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("Could not launch " + command, e);
    }
  }

  /**
   * Polls the subjects listing: it answers only once HTTP, storage and the ccompat API are all up.
   * Waiting on the process between polls notices a crashed child at once.
   */
  private void awaitReady(HttpClient http) throws InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    HttpRequest probe =
        HttpRequest.newBuilder(URI.create(url() + "/subjects")).timeout(REQUEST_TIMEOUT).build();
    String lastProblem = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        int status = http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status == 200) {
          return;
        }
        lastProblem = "HTTP " + status;
      } catch (IOException e) {
        lastProblem = e.toString();
      }
      if (process.waitFor(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
        String tail = logTail();
        String message =
            "Registry exited with code "
                + process.exitValue()
                + " before it was ready; end of "
                + dataDir.resolve(LOG_FILE)
                + ":\n"
                + tail;
        Matcher taken = PORT_TAKEN.matcher(tail);
        if (taken.find()) {
          throw new PortTakenException(Integer.parseInt(taken.group(1)), message);
        }
        throw new IllegalStateException(message);
      }
    }
    throw new IllegalStateException(
        "Registry not ready within "
            + READY_TIMEOUT
            + " ("
            + lastProblem
            + "); end of "
            + dataDir.resolve(LOG_FILE)
            + ":\n"
            + logTail());
  }

  /** Apicurio defaults to NONE; Tusk relies on Confluent's default, BACKWARD. */
  private void setBackwardCompatibility(HttpClient http) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url() + "/config"))
            .timeout(REQUEST_TIMEOUT)
            .header("Content-Type", JSON)
            .PUT(HttpRequest.BodyPublishers.ofString("{\"compatibility\":\"BACKWARD\"}"))
            .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200 || !response.body().contains("BACKWARD")) {
      throw new IllegalStateException(
          "Could not set registry compatibility to BACKWARD: HTTP "
              + response.statusCode()
              + " "
              + response.body());
    }
  }

  private String logTail() {
    try {
      List<String> lines =
          new String(Files.readAllBytes(dataDir.resolve(LOG_FILE)), StandardCharsets.UTF_8)
              .lines()
              .collect(Collectors.toList());
      return String.join(
          "\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /**
   * Refuses to start a second registry on the same directory: the H2 file is locked by the first
   * one, and killing it could break another session that still uses it.
   */
  private static void failIfAlreadyRunning(Path dir) {
    Optional<ProcessHandle> running = runningRegistry(dir.resolve(PID_FILE));
    if (running.isPresent()) {
      throw new IllegalStateException(
          "A registry is already running on "
              + dir
              + " (pid "
              + running.get().pid()
              + "): stop that session, or run `tusk clean` if it crashed");
    }
  }

  /** The live Apicurio process named by {@code pidFile}, if any. */
  private static Optional<ProcessHandle> runningRegistry(Path pidFile) {
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).trim());
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + pidFile, e);
    } catch (NumberFormatException e) {
      LOG.warn("Ignoring {}: not a process ID", pidFile);
      return Optional.empty();
    }
    // PIDs are reused: only a process that runs Apicurio's runner is ours.
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(EmbeddedRegistry::isRunner);
  }

  private static boolean isRunner(ProcessHandle handle) {
    return handle.info().commandLine().map(line -> line.contains(RUNNER_PREFIX)).orElse(false);
  }

  /** SIGTERM to the process and its descendants, SIGKILL to whatever is left after the grace. */
  private static void destroyTree(ProcessHandle root) {
    List<ProcessHandle> tree =
        Stream.concat(root.descendants(), Stream.of(root)).collect(Collectors.toList());
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    for (ProcessHandle handle : tree) {
      try {
        handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        handle.destroyForcibly();
        handle.onExit().join();
      } catch (ExecutionException e) {
        throw new IllegalStateException("Could not await process " + handle.pid(), e);
      } catch (InterruptedException e) {
        // Do not leave an orphan because the caller was interrupted: kill it and keep the flag.
        handle.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The runner jar, from {@code TUSK_APICURIO_HOME} or the location recorded at build time. */
  static Path runnerJar() {
    Properties build = new Properties();
    try (InputStream in = EmbeddedRegistry.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      build.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + RESOURCE, e);
    }
    String home =
        Optional.ofNullable(System.getProperty(APICURIO_HOME_OVERRIDE))
            .or(() -> Optional.ofNullable(System.getenv(APICURIO_HOME_OVERRIDE)))
            .filter(value -> !value.isBlank())
            .orElse(build.getProperty("apicurio.home"));
    Path jar = Path.of(home, RUNNER_PREFIX + build.getProperty("apicurio.version") + "-runner.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "Apicurio runner not found at "
              + jar
              + ": run `mvn install` in local-stack first (it unpacks the runner), or set "
              + APICURIO_HOME_OVERRIDE
              + " to a directory that holds it");
    }
    return jar;
  }

  /** The child exited because one of its ports was bound by another process first. */
  private static final class PortTakenException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final int port;

    PortTakenException(int port, String message) {
      super(message);
      this.port = port;
    }
  }
}
