package io.tusk.common.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.service.Lifecycle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JSON errors of every API, on a real Vert.x server as the services serve theirs: no message
 * reflects more than a bounded prefix of the input it quotes, and requests the HTTP decoder refuses
 * (a 10,000-character name) are answered with the same JSON error.
 */
class HttpErrorsTest {
  private static final String HUGE = "a".repeat(10_000);

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Vertx vertx;
  private Lifecycle lifecycle;
  private String base;

  @BeforeEach
  void serve() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    router
        .get("/echo/:name")
        .handler(
            ctx -> {
              // A careless message quoting the whole input
              throw ApiException.badRequest("no such name: " + ctx.pathParam("name"));
            });
    router.get("/query").handler(ctx -> ctx.end(ctx.queryParams().get("q")));
    lifecycle = new Lifecycle("http-errors-test");
    int port = lifecycle.serve(vertx, router, "127.0.0.1", 0).actualPort();
    base = "http://127.0.0.1:" + port;
  }

  @AfterEach
  void close() {
    lifecycle.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void shouldCutAMessageQuotingAHugeInputToABoundedPrefix() throws Exception {
    HttpResponse<String> response = get("/echo/" + "b".repeat(3_000));

    assertThat(response.statusCode()).isEqualTo(400);
    JsonObject error = new JsonObject(response.body());
    assertThat(error.getString("error")).isEqualTo("bad_request");
    assertThat(error.getString("message"))
        .startsWith("no such name: bbbb")
        .hasSizeLessThanOrEqualTo(HttpErrors.MAX_MESSAGE + 3);
  }

  @Test
  void shouldAnswerARequestLineOverTheLimitWith414Json() throws Exception {
    HttpResponse<String> response = get("/echo/" + HUGE);

    assertThat(response.statusCode()).isEqualTo(414);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject error = new JsonObject(response.body());
    assertThat(error.getString("error")).isEqualTo("too_large");
    assertThat(error.getString("message")).contains("request line too long").doesNotContain("aaaa");
  }

  @Test
  void shouldKeepServingAfterRefusingAnInvalidRequest() throws Exception {
    get("/echo/" + HUGE);

    assertThat(get("/echo/x").statusCode()).isEqualTo(400);
    assertThat(get("/nowhere").statusCode()).isEqualTo(404);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/echo/a%ZZ", "/query?q=%ZZ", "/query?%ZZ=1"})
  void shouldAnswerAPathOrQueryThatIsNotPercentEncodedWith400Json(String target) throws Exception {
    URI server = URI.create(base);
    String answer;
    // The JDK's client refuses to send "%ZZ"; a socket sends it as a client could.
    try (Socket socket = new Socket(server.getHost(), server.getPort())) {
      socket.setSoTimeout(10_000);
      socket
          .getOutputStream()
          .write(
              ("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    assertThat(answer).startsWith("HTTP/1.1 400").contains("application/json");
    JsonObject error = new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4));
    assertThat(error.getString("error")).isEqualTo("bad_request");
    assertThat(error.getString("message")).contains("percent-encoded");
  }

  private HttpResponse<String> get(String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
