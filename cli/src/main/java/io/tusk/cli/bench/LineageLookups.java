package io.tusk.cli.bench;

import io.tusk.common.config.KafkaSettings;
import io.tusk.lineage.LineageService;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The measuring side of the lineage benchmark ({@link LineageBench}, which fills the index through
 * a real pipeline): an open-loop load generator of provenance lookups on loopback, waits for an
 * output to be queryable and for the lineage application to catch up, and percentiles.
 *
 * <p>Latency is measured from each request's scheduled send time, so a stalled server cannot hide
 * its queueing delay (no coordinated omission).
 */
final class LineageLookups {
  /** Concurrent senders: far above what 500 lookups/s at a few ms each keep busy. */
  private static final int SENDERS = 32;

  private LineageLookups() {}

  /**
   * The figures of a run of lookups.
   *
   * @param latencyMicros p50, p99, p99.9 and max
   */
  record Lookups(long requests, long errors, double achievedRate, long[] latencyMicros) {

    /** The figures as one line of text. */
    String report() {
      return String.format(
          "provenance lookups: %,d requests at %.0f/s, %d errors; latency p50 %.2f ms,"
              + " p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
          requests,
          achievedRate,
          errors,
          latencyMicros[0] / 1000.0,
          latencyMicros[1] / 1000.0,
          latencyMicros[2] / 1000.0,
          latencyMicros[3] / 1000.0);
    }
  }

  /**
   * Looks up the provenance of random members at {@code rate} requests per second for {@code
   * duration}, sending on schedule whatever the answers take. An answer other than 200 counts as an
   * error.
   *
   * @param base the lineage service's base URL
   * @param member the key of member {@code i}, for {@code 0 <= i < members}
   */
  static Lookups lookups(
      LineageHttp http,
      String base,
      String pipeline,
      IntFunction<String> member,
      int members,
      int rate,
      Duration duration)
      throws Exception {
    int total = (int) (rate * duration.toSeconds());
    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / rate;
    AtomicLongArray latencies = new AtomicLongArray(total);
    AtomicLong errors = new AtomicLong();
    // Blocking sends on a fixed pool: the client's sendAsync completes each answer on a new thread
    // where the common pool has one thread (2 cores), and those starts were timed with the answers.
    // A request that waits for a free sender still counts from its scheduled time.
    ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
    long start = System.nanoTime();
    try {
      for (int i = 0; i < total; i++) {
        long scheduled = start + i * intervalNanos;
        long wait = scheduled - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        int index = i;
        String key = member.apply(ThreadLocalRandom.current().nextInt(members));
        HttpRequest request =
            http.request(URI.create(base + provenance(pipeline, key)))
                .timeout(Duration.ofSeconds(10))
                .build();
        senders.execute(
            () -> {
              boolean ok;
              try {
                // The body is read in full, then dropped: the generator keeps no answers.
                ok =
                    http.client().send(request, HttpResponse.BodyHandlers.discarding()).statusCode()
                        == 200;
              } catch (IOException e) {
                ok = false;
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ok = false;
              }
              latencies.set(index, System.nanoTime() - scheduled);
              if (!ok) {
                errors.incrementAndGet();
              }
            });
      }
    } finally {
      senders.shutdown();
    }
    if (!senders.awaitTermination(1, TimeUnit.MINUTES)) {
      senders.shutdownNow();
      throw new IllegalStateException("lookups still unanswered a minute after the last was sent");
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long[] micros = new long[total];
    for (int i = 0; i < total; i++) {
      micros[i] = TimeUnit.NANOSECONDS.toMicros(latencies.get(i));
    }
    Arrays.sort(micros);
    return new Lookups(
        total,
        errors.get(),
        total / elapsed,
        new long[] {
          percentile(micros, 50),
          percentile(micros, 99),
          percentile(micros, 99.9),
          micros[total - 1]
        });
  }

  /**
   * The lineage service over plain HTTP (the lookups are timed without the CLI client's JSON
   * parsing), sending the bench's token.
   *
   * @param authorization the Authorization header's value, or null
   */
  record LineageHttp(HttpClient client, String authorization) {
    /** A client of its own (HTTP/1.1: the services' servers do not upgrade to h2c). */
    static LineageHttp of(String authorization) {
      return new LineageHttp(
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(5))
              .build(),
          authorization);
    }

    HttpRequest.Builder request(URI uri) {
      HttpRequest.Builder request = HttpRequest.newBuilder(uri);
      return authorization == null ? request : request.header("Authorization", authorization);
    }
  }

  /** The path of a member's provenance on the lineage service. */
  static String provenance(String pipeline, String member) {
    return "/pipelines/" + pipeline + "/outputs/" + member + "/provenance";
  }

  /** Polls {@code url} until it answers 200. */
  static void awaitQueryable(LineageHttp http, String url, Duration deadline) throws Exception {
    awaitAnswer(http, url, body -> true, deadline);
  }

  /**
   * Polls {@code url} every 2 ms (fine enough to time index lag in milliseconds) until it answers
   * 200 with a body {@code ready} accepts.
   */
  static void awaitAnswer(LineageHttp http, String url, Predicate<String> ready, Duration deadline)
      throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    HttpRequest request = http.request(URI.create(url)).build();
    while (true) {
      HttpResponse<String> response =
          http.client().send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200 && ready.test(response.body())) {
        return;
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException(url + " not as awaited within " + deadline);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // poll interval
    }
  }

  /** Waits until the lineage application has committed every record of every topic it reads. */
  static void awaitNoLag(KafkaSettings kafka, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    try (Admin admin = Admin.create(kafka.admin("tusk-lineage-bench-lag"))) {
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin
                .listConsumerGroupOffsets(LineageService.APPLICATION_ID)
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        committed.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        long lag = 0;
        for (var entry : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
          OffsetAndMetadata offset = committed.get(entry.getKey());
          lag += Math.max(0, entry.getValue().offset() - (offset == null ? 0 : offset.offset()));
        }
        if (lag == 0) {
          return;
        }
        if (System.nanoTime() > end) {
          throw new IllegalStateException("the indexes still lag " + lag + " records");
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // poll interval
      }
    }
  }

  /** The {@code percent} percentile of sorted values (nearest rank). */
  static long percentile(long[] sorted, double percent) {
    int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
