package io.tusk.testfixtures;

import io.tusk.localstack.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A private PostgreSQL server for one test: Debian's {@code postgresql} package ({@code initdb},
 * {@code postgres}, {@code psql}; installed by {@code .ci/run}), a fresh cluster in a temporary
 * directory, listening on a free loopback port with trust authentication for the superuser {@link
 * #USER}, and {@code wal_level=logical} so a CDC connector can read changes.
 *
 * <p>PostgreSQL refuses to run as root, so as root the cluster belongs to the package's {@code
 * postgres} user and every command runs as that user ({@code setpriv}, which execs in place, so the
 * process the test holds is the server itself).
 *
 * <pre>{@code
 * PostgresServer.assumeInstalled();
 * try (PostgresServer pg = PostgresServer.start()) {
 *   pg.psql("postgres", "CREATE DATABASE claims");
 *   String url = pg.jdbcUrl("claims");
 * }
 * }</pre>
 */
public final class PostgresServer implements AutoCloseable {
  /** The cluster's superuser; any password is accepted (trust authentication, loopback only). */
  public static final String USER = "tusk";

  private static final Duration START_DEADLINE = Duration.ofSeconds(60);
  private static final Duration STOP_DEADLINE = Duration.ofSeconds(20);
  private static final String SERVICE_USER = "postgres";

  private final Path bin;
  private final Path root;
  private final int port;
  private final Process server;

  private PostgresServer(Path bin, Path root, int port, Process server) {
    this.bin = bin;
    this.root = root;
    this.port = port;
    this.server = server;
  }

  /** The directory of the newest installed PostgreSQL's programs, if any is installed. */
  public static Optional<Path> installation() {
    Path versions = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(versions)) {
      try (Stream<Path> dirs = Files.list(versions)) {
        Optional<Path> newest =
            dirs.map(dir -> dir.resolve("bin"))
                .filter(dir -> Files.isExecutable(dir.resolve("postgres")))
                .max(Comparator.comparing(PostgresServer::majorVersion));
        if (newest.isPresent()) {
          return newest;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return Optional.empty();
  }

  /** Skips the calling test (a JUnit assumption) when PostgreSQL is not installed. */
  public static void assumeInstalled() {
    Assumptions.assumeTrue(
        installation().isPresent(),
        "needs Debian's postgresql package (installed by .ci/run): no /usr/lib/postgresql/*/bin");
    Assumptions.assumeTrue(
        !runningAsRoot() || Files.isExecutable(Path.of("/usr/bin/setpriv")),
        "needs setpriv (util-linux) to run PostgreSQL as the postgres user");
  }

  /**
   * Creates a cluster and starts it, waiting until it accepts connections.
   *
   * @throws IllegalStateException if PostgreSQL is not installed or does not start in time (the
   *     message ends with the server log's tail)
   */
  public static PostgresServer start() throws IOException, InterruptedException {
    Path bin =
        installation().orElseThrow(() -> new IllegalStateException("PostgreSQL is not installed"));
    Path root = Files.createTempDirectory("tusk-postgres-");
    Path data = root.resolve("data");
    Files.createDirectory(data);
    if (runningAsRoot()) {
      giveToServiceUser(root);
      giveToServiceUser(data);
    }
    run(
        bin,
        root,
        List.of(
            bin.resolve("initdb").toString(),
            "--pgdata=" + data,
            "--username=" + USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync"));
    int port = FreePorts.resolve(0)[0];
    List<String> command =
        asServiceUser(
            List.of(
                bin.resolve("postgres").toString(),
                "-D",
                data.toString(),
                "-p",
                Integer.toString(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=" + root,
                "-c",
                "wal_level=logical",
                "-c",
                "max_wal_senders=10",
                "-c",
                "max_replication_slots=10",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off"));
    Path log = root.resolve("server.log");
    Process server =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PostgresServer started = new PostgresServer(bin, root, port, server);
    try {
      Await.until(
          "PostgreSQL on port " + port + " accepts connections",
          START_DEADLINE,
          () -> {
            if (!server.isAlive()) {
              throw new IllegalStateException(
                  "PostgreSQL exited with " + server.exitValue() + ": " + tail(log));
            }
            return started.ready();
          });
    } catch (RuntimeException | AssertionError e) {
      started.close();
      throw new IllegalStateException("PostgreSQL did not start: " + tail(log), e);
    }
    return started;
  }

  /** The TCP port on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** A JDBC URL for a database of this server, e.g. {@code postgres} (always there). */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /**
   * Runs SQL with {@code psql} (stops at the first error) and returns what it printed: unaligned,
   * tuples only, fields separated by {@code |}, one row per line.
   */
  public String psql(String database, String sql) throws IOException, InterruptedException {
    return run(
        bin,
        root,
        List.of(
            bin.resolve("psql").toString(),
            "--host=127.0.0.1",
            "--port=" + port,
            "--username=" + USER,
            "--dbname=" + database,
            "--no-psqlrc",
            "--set=ON_ERROR_STOP=1",
            "--tuples-only",
            "--no-align",
            "--field-separator=|",
            "--command=" + sql));
  }

  /** Stops the server at once (no checkpoint: the cluster is thrown away) and deletes it. */
  @Override
  public void close() throws IOException, InterruptedException {
    if (server.isAlive()) {
      // SIGQUIT is PostgreSQL's immediate shutdown; SIGTERM would wait for a replication client.
      new ProcessBuilder("kill", "-QUIT", Long.toString(server.pid())).start().waitFor();
      if (!server.waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        server.destroyForcibly().waitFor();
      }
    }
    server.descendants().forEach(ProcessHandle::destroyForcibly);
    try (Stream<Path> files = Files.walk(root)) {
      for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private boolean ready() throws IOException, InterruptedException {
    Process probe =
        new ProcessBuilder(
                bin.resolve("pg_isready").toString(),
                "--host=127.0.0.1",
                "--port=" + port,
                "--username=" + USER,
                "--dbname=postgres")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    return probe.waitFor() == 0;
  }

  private static String run(Path bin, Path workDir, List<String> command)
      throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(asServiceUser(command))
            .directory(workDir.toFile())
            .redirectErrorStream(true)
            .start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes());
    int exit = process.waitFor();
    if (exit != 0) {
      throw new IllegalStateException(
          Path.of(command.get(0)).getFileName() + " exited with " + exit + ": " + output.strip());
    }
    return output;
  }

  private static List<String> asServiceUser(List<String> command) {
    if (!runningAsRoot()) {
      return command;
    }
    List<String> wrapped = new ArrayList<>();
    wrapped.addAll(
        List.of(
            "/usr/bin/setpriv",
            "--reuid=" + SERVICE_USER,
            "--regid=" + SERVICE_USER,
            "--init-groups",
            "--reset-env",
            "--"));
    wrapped.addAll(command);
    return wrapped;
  }

  private static void giveToServiceUser(Path path) throws IOException {
    UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
    UserPrincipal user = lookup.lookupPrincipalByName(SERVICE_USER);
    GroupPrincipal group = lookup.lookupPrincipalByGroupName(SERVICE_USER);
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    view.setOwner(user);
    view.setGroup(group);
  }

  private static boolean runningAsRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int majorVersion(Path bin) {
    try {
      return Integer.parseInt(bin.getParent().getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(no server log: " + e.getMessage() + ")";
    }
  }
}
