package io.tusk.cli.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Tusk service running as a process of its own (a JVM on this test's class path), as a
 * supervisor runs it: started with its environment, probed on {@code /health}, killed with SIGKILL
 * (as a lost machine or an OOM kill ends it, without any shutdown hook) and started again with the
 * same environment, state directory and ports.
 */
final class ServiceProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final String mainClass;
  private final Map<String, String> env;
  private final int httpPort;
  private final Path log;
  private Process process;
  private int starts;

  /**
   * @param name how the run names the instance (its log file is {@code <logDir>/chaos-<name>.log})
   * @param mainClass the service's main class
   * @param env its environment (the test JVM's TUSK_* variables are not passed on)
   * @param httpPort the port its {@code /health} answers on
   */
  ServiceProcess(
      String name, String mainClass, Map<String, String> env, int httpPort, Path logDir) {
    this.name = name;
    this.mainClass = mainClass;
    this.env = Map.copyOf(env);
    this.httpPort = httpPort;
    this.log = logDir.resolve("chaos-" + name + ".log");
  }

  String name() {
    return name;
  }

  /** Starts the process (appending to its log). */
  synchronized void start() throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    mainClass))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().keySet().removeIf(key -> key.startsWith("TUSK_"));
    builder.environment().putAll(env);
    process = builder.start();
    starts++;
  }

  /** Kills the process with SIGKILL and waits for it to be gone. */
  synchronized void kill() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Stops the process with SIGSTOP, as a long GC pause or a frozen VM does: it keeps its sockets
   * and group memberships but answers nothing, until {@link #resume}.
   */
  synchronized void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** Lets a paused process run on (SIGCONT). */
  synchronized void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    if (process != null && process.isAlive()) {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IOException("kill " + signal + " " + process.pid() + " failed");
      }
    }
  }

  /** The port its HTTP API answers on. */
  int port() {
    return httpPort;
  }

  /** True while the process runs. */
  synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  /** How many times it was started. */
  synchronized int starts() {
    return starts;
  }

  /** True when {@code /health} answers 200. */
  boolean healthy() {
    try {
      return HTTP.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                      .timeout(Duration.ofSeconds(2))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Waits until {@code /health} answers 200.
   *
   * @throws IllegalStateException if the process ends first or {@code deadline} passes
   */
  void awaitHealthy(Duration deadline) throws InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    while (!healthy()) {
      if (!alive()) {
        throw new IllegalStateException(name + " exited; see " + log);
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException(
            name + " not healthy on port " + httpPort + " within " + deadline + "; see " + log);
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }
}
