package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The container healthchecks of compose.yaml, run for real with bash against a local HTTP server: a
 * Tusk service's (deploy/healthcheck.sh) and the registry's (inline in compose.yaml) are healthy on
 * 200 only, unhealthy on 503 or when nothing listens.
 */
class HealthchecksTest {
  private static final Path ROOT = Paths.get(System.getProperty("tusk.root", ".."));

  private final AtomicInteger status = new AtomicInteger(200);
  private HttpServer server;
  private String path;

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          path = exchange.getRequestURI().getPath();
          byte[] body = "{\"status\":\"UP\"}".getBytes();
          exchange.sendResponseHeaders(status.get(), body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  @Test
  void tuskServiceIsHealthyOnlyWhileHealthAnswers200() throws Exception {
    String script = ROOT.resolve("deploy/healthcheck.sh").toAbsolutePath().toString();
    int port = server.getAddress().getPort();
    assertThat(Files.isExecutable(Path.of(script))).isTrue();

    assertThat(run(List.of(script), port)).isZero();
    assertThat(path).isEqualTo("/health");
    status.set(503);
    assertThat(run(List.of(script), port)).isNotZero();
    assertThat(run(List.of(script), closedPort())).isNotZero();
  }

  @Test
  @SuppressWarnings("unchecked")
  void registryIsHealthyOnlyWhileReadyAnswers200() throws Exception {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(100);
    Map<String, Object> compose;
    try (Reader reader = Files.newBufferedReader(ROOT.resolve("compose.yaml"))) {
      compose = new Yaml(options).load(reader);
    }
    Map<String, Object> registry =
        (Map<String, Object>) ((Map<String, Object>) compose.get("services")).get("registry");
    List<String> test =
        (List<String>) ((Map<String, Object>) registry.get("healthcheck")).get("test");
    assertThat(test.subList(0, 3)).containsExactly("CMD", "bash", "-c");
    int port = server.getAddress().getPort();
    // As compose runs it: $$ is compose's escape for $, and the registry listens on 8080 inside.
    String command = test.get(3).replace("$$", "$").replace("/8080", "/" + port);

    assertThat(run(List.of("bash", "-c", command), port)).isZero();
    assertThat(path).isEqualTo("/health/ready");
    status.set(503);
    assertThat(run(List.of("bash", "-c", command), port)).isNotZero();
  }

  private static int run(List<String> command, int port) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("TUSK_HTTP_PORT", Integer.toString(port));
    Process process = builder.start();
    process.getInputStream().readAllBytes();
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("healthcheck ended").isTrue();
    return process.exitValue();
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
