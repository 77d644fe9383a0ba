package io.tusk.cli.bench;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lineage service's own timing, read from its {@code /metrics}: the provenance lookups it
 * answered (200) in {@code tusk_http_server_requests_seconds}, from reaching their route to the
 * answer's last byte, and how late its HTTP event loop ran a 10 ms timer in {@code
 * tusk_event_loop_delay_seconds}. Two readings around a round give the round's share, so the bench
 * can tell the service's time from the time a request waits before the service reads it (the loop
 * or the JVM stopped) or outside it (socket, scheduling, the client).
 *
 * @param answers cumulative buckets of the answers' durations (bound in seconds → count)
 * @param loopDelays cumulative buckets of the event loop's delays
 */
record ServerTimes(Histogram answers, Histogram loopDelays) {
  private static final String ANSWERS = "tusk_http_server_requests_seconds_bucket{";
  private static final List<String> PROVENANCE =
      List.of("route=\"/pipelines/:pipeline/outputs/:member/provenance\"", "status=\"200\"");
  private static final String LOOP_DELAYS = "tusk_event_loop_delay_seconds_bucket{";

  /** Reads the service's histograms now. */
  static ServerTimes read(LineageLookups.LineageHttp http, String base) throws Exception {
    HttpResponse<String> response =
        http.client()
            .send(
                http.request(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET /metrics answered " + response.statusCode());
    }
    return parse(response.body());
  }

  /** The histograms in a Prometheus text exposition. */
  static ServerTimes parse(String exposition) {
    return new ServerTimes(
        Histogram.parse(exposition, ANSWERS, PROVENANCE),
        Histogram.parse(exposition, LOOP_DELAYS, List.of()));
  }

  /** What was recorded since {@code before}. */
  ServerTimes since(ServerTimes before) {
    return new ServerTimes(answers.since(before.answers), loopDelays.since(before.loopDelays));
  }

  /** The figures as one line of text. */
  String report() {
    return String.format(
        "service's own time (every 200 provenance answer of the round, the lag probe's"
            + " included): %,d answers, p50 <= %.2f ms, p99 <= %.2f ms, p99.9 <= %.2f ms,"
            + " %.2f %% within 10 ms; its event loop late by p99 <= %.2f ms, max <= %.2f ms",
        answers.count(),
        answers.percentileBoundMillis(50),
        answers.percentileBoundMillis(99),
        answers.percentileBoundMillis(99.9),
        answers.percentWithin(0.01),
        loopDelays.percentileBoundMillis(99),
        loopDelays.percentileBoundMillis(100));
  }

  /**
   * One histogram's cumulative buckets, summed over the series that match.
   *
   * @param upTo the count at or under each bucket's bound, in seconds
   */
  record Histogram(TreeMap<Double, Long> upTo) {
    static Histogram parse(String exposition, String bucketPrefix, List<String> labels) {
      TreeMap<Double, Long> upTo = new TreeMap<>();
      for (String line : exposition.split("\n")) {
        if (line.startsWith(bucketPrefix) && labels.stream().allMatch(line::contains)) {
          int le = line.indexOf("le=\"") + 4;
          String bound = line.substring(le, line.indexOf('"', le));
          double count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          upTo.merge(
              bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound),
              (long) count,
              Long::sum);
        }
      }
      return new Histogram(upTo);
    }

    Histogram since(Histogram before) {
      TreeMap<Double, Long> delta = new TreeMap<>();
      upTo.forEach((bound, count) -> delta.put(bound, count - before.upTo.getOrDefault(bound, 0L)));
      return new Histogram(delta);
    }

    long count() {
      return upTo.isEmpty() ? 0 : upTo.lastEntry().getValue();
    }

    /** The bound of the smallest bucket holding {@code percent} % of the values, in ms. */
    double percentileBoundMillis(double percent) {
      long wanted = (long) Math.ceil(percent / 100.0 * count());
      for (Map.Entry<Double, Long> bucket : upTo.entrySet()) {
        if (bucket.getValue() >= wanted) {
          return bucket.getKey() * 1000;
        }
      }
      return Double.POSITIVE_INFINITY;
    }

    /** The share of values within {@code seconds} (a bucket bound), in %. */
    double percentWithin(double seconds) {
      Long within = upTo.get(seconds);
      return within == null || count() == 0 ? Double.NaN : 100.0 * within / count();
    }
  }
}
