package io.tusk.cli.chaos;

import io.tusk.localstack.JavaProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One Tusk service running as a process of its own (a JVM on this JVM's class path), as a
 * supervisor runs it: started with its environment, probed on {@code /health}, killed with SIGKILL
 * and started again with the same environment, state directory and ports.
 */
public final class ServiceProcess implements Victim, AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private static final int ERROR_CHARS = 400;

  private final String name;
  private final int httpPort;
  private final JavaProcess process;

  /**
   * @param name how the run names the instance (its log file is {@code <logDir>/<name>.log})
   * @param mainClass the service's main class
   * @param env its environment (this JVM's TUSK_* variables are not passed on)
   * @param httpPort the port its {@code /health} answers on
   */
  public ServiceProcess(
      String name, String mainClass, Map<String, String> env, int httpPort, Path logDir) {
    this(name, mainClass, env, httpPort, logDir, List.of("-Xmx512m"));
  }

  /**
   * As {@link #ServiceProcess(String, String, Map, int, Path)}, with its JVM's flags (e.g. a heap
   * bound) instead of {@code -Xmx512m}.
   */
  public ServiceProcess(
      String name,
      String mainClass,
      Map<String, String> env,
      int httpPort,
      Path logDir,
      List<String> jvmFlags) {
    this.name = name;
    this.httpPort = httpPort;
    this.process =
        new JavaProcess(mainClass, List.of(), jvmFlags, env, logDir.resolve(name + ".log"));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() {
    process.start();
  }

  @Override
  public void kill() {
    process.kill();
  }

  /** Stops the process with SIGSTOP: it keeps its sockets and group memberships. */
  void pause() {
    process.pause();
  }

  /** Lets a paused process run on (SIGCONT). */
  void resume() {
    process.resume();
  }

  /** The port its HTTP API answers on. */
  public int port() {
    return httpPort;
  }

  @Override
  public boolean alive() {
    return process.alive();
  }

  /**
   * GETs {@code path} of its HTTP API with {@code token}; empty when it does not answer within
   * {@code timeout}.
   */
  Optional<HttpResponse<String>> get(String path, String token, Duration timeout)
      throws InterruptedException {
    try {
      return Optional.of(
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                  .header("Authorization", "Bearer " + token)
                  .timeout(timeout)
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The last ERROR line of its log (services log IDs and reasons there, never row contents), cut to
   * {@link #ERROR_CHARS}; empty when it logged none.
   */
  Optional<String> lastError() {
    try (Stream<String> lines = Files.lines(process.log(), StandardCharsets.UTF_8)) {
      return lines
          .filter(line -> line.contains(" ERROR "))
          .reduce((first, second) -> second)
          .map(line -> line.length() > ERROR_CHARS ? line.substring(0, ERROR_CHARS) : line);
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
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

  /** Waits until {@code /health} answers 200. */
  @Override
  public void awaitRecovered(Duration deadline) throws InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    while (!healthy()) {
      if (!alive()) {
        throw new IllegalStateException(name + " exited; see " + process.log());
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException(
            name
                + " not healthy on port "
                + httpPort
                + " within "
                + deadline
                + "; see "
                + process.log());
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  @Override
  public void close() {
    kill();
  }
}
