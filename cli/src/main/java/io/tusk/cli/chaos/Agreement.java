package io.tusk.cli.chaos;

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
        asked.add(get(instance, path));
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
  private String get(ServiceProcess instance, String path) throws InterruptedException {
    return instance
        .get(path, token, Duration.ofSeconds(10))
        .map(response -> response.statusCode() + " " + response.body())
        .orElse("ERR");
  }
}
