package io.tusk.cli.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Asks every instance of a service the same query and checks that each answers 200 with the same
 * body: any instance answers any query, itself or by forwarding to the owner. Views fed by topics
 * may lag for a moment, so it asks again until they agree or a deadline passes.
 */
final class Agreement {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String token;

  Agreement(String token) {
    this.token = token;
  }

  /**
   * Empty when every instance answered {@code path} with 200 and one body; otherwise what differed.
   */
  Optional<String> check(String service, List<ServiceProcess> instances, String path)
      throws InterruptedException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    List<String> answers = List.of();
    while (System.nanoTime() < end) {
      List<String> asked = new ArrayList<>();
      for (ServiceProcess instance : instances) {
        asked.add(get(instance.port(), path));
      }
      answers = asked;
      if (asked.get(0).startsWith("200 ")
          && asked.stream().allMatch(a -> Objects.equals(a, asked.get(0)))) {
        return Optional.empty();
      }
      TimeUnit.MILLISECONDS.sleep(500);
    }
    List<String> statuses =
        answers.stream().map(a -> a.substring(0, Math.min(3, a.length()))).toList();
    return Optional.of(
        service + " instances disagree on GET " + path + " (statuses " + statuses + ")");
  }

  /** "status body", or "ERR" when the instance did not answer. */
  private String get(int port, String path) throws InterruptedException {
    try {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                  .header("Authorization", "Bearer " + token)
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return response.statusCode() + " " + response.body();
    } catch (IOException e) {
      return "ERR " + e;
    }
  }
}
