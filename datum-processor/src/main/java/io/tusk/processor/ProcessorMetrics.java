package io.tusk.processor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The processor's own metrics, shared by its workers: datums by outcome ({@code
 * tusk.processor.datums}, outcome success, failed, recovered, removed, compared, invalid), time per
 * datum with all its attempts ({@code tusk.processor.transform}), transform attempts ({@code
 * tusk.processor.attempts}; more attempts than datums means retries), committed datums per second
 * over the last 10 s ({@code tusk.processor.datums.per.second}), transactions aborted by a
 * transient failure and retried ({@code tusk.processor.retries}) and worker processes started,
 * restarts included ({@code tusk.processor.worker.starts}) and datum records lost to retention
 * before they were processed ({@code tusk.processor.datums.lost}, in offsets). Datum figures are
 * recorded only after their transaction commits, so they count work that is really done.
 */
final class ProcessorMetrics {
  static final String DATUMS = "tusk.processor.datums";
  static final String TRANSFORM = "tusk.processor.transform";
  static final String RATE = "tusk.processor.datums.per.second";
  static final String RETRIES = "tusk.processor.retries";
  static final String ATTEMPTS = "tusk.processor.attempts";
  static final String WORKER_STARTS = "tusk.processor.worker.starts";
  static final String LOST = "tusk.processor.datums.lost";
  private static final int RATE_WINDOW_SECONDS = 10;

  private final Map<DatumOutcome.Kind, Counter> datums = new EnumMap<>(DatumOutcome.Kind.class);
  private final Timer transform;
  private final Counter retries;
  private final Counter attempts;
  private final Counter workerStarts;
  private final Counter lost;
  private final RecentRate rate = new RecentRate(RATE_WINDOW_SECONDS, System::nanoTime);

  ProcessorMetrics(MeterRegistry registry, String pipeline) {
    for (DatumOutcome.Kind kind : DatumOutcome.Kind.values()) {
      datums.put(
          kind,
          Counter.builder(DATUMS)
              .description("Datums processed, by outcome")
              .tags("pipeline", pipeline, "outcome", kind.tag())
              .register(registry));
    }
    transform =
        Timer.builder(TRANSFORM)
            .description("Time to run the transform on one datum")
            .tags("pipeline", pipeline)
            .register(registry);
    retries =
        Counter.builder(RETRIES)
            .description("Transactions aborted by a transient failure and retried")
            .tags("pipeline", pipeline)
            .register(registry);
    attempts =
        Counter.builder(ATTEMPTS)
            .description("Transform attempts of committed datums (retries included)")
            .tags("pipeline", pipeline)
            .register(registry);
    workerStarts =
        Counter.builder(WORKER_STARTS)
            .description("Worker processes started, restarts included")
            .tags("pipeline", pipeline)
            .register(registry);
    lost =
        Counter.builder(LOST)
            .description(
                "Datum records (offsets) that expired by retention before they were processed")
            .tags("pipeline", pipeline)
            .register(registry);
    Gauge.builder(RATE, rate, RecentRate::perSecond)
        .description("Datums committed per second over the last " + RATE_WINDOW_SECONDS + " s")
        .tags("pipeline", pipeline)
        .register(registry);
  }

  /** Records one committed datum. */
  void record(DatumOutcome outcome) {
    datums.get(outcome.kind()).increment();
    if (outcome.result() != null) {
      transform.record(outcome.result().getDurationMicros(), TimeUnit.MICROSECONDS);
      attempts.increment(outcome.result().getAttempts());
    }
  }

  /** Records that a transaction of {@code count} datums committed. */
  void committed(int count) {
    rate.record(count);
  }

  /** Records that a worker process started. */
  void workerStarted() {
    workerStarts.increment();
  }

  /** Records {@code offsets} datum records deleted by retention before they were processed. */
  void lost(long offsets) {
    lost.increment(offsets);
  }

  /** Records a transient failure that will be retried. */
  void retried() {
    retries.increment();
  }
}
