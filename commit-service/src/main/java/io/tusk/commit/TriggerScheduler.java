package io.tusk.commit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tusk.common.pipeline.Cron;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Trigger;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous mode: seals master of every repo with a {@link Trigger} when it fires and new offsets
 * arrived since the newest commit. Every poll reads the last stable offsets of all triggered repos'
 * partitions in one Admin call, so the cost does not grow with the number of repos.
 *
 * <ul>
 *   <li>{@code everyRows}: at least that many new offsets;
 *   <li>{@code everySeconds}: new offsets, and that long since the newest commit (or the repo's
 *       creation);
 *   <li>{@code cron}: new offsets at a minute the schedule names (UTC); a minute without new
 *       offsets passes without a commit.
 * </ul>
 *
 * Offsets count rows, rejected records and transaction markers alike, as a commit's row count does.
 */
final class TriggerScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TriggerScheduler.class);
  private static final long OFFSETS_TIMEOUT_SECONDS = 10;

  private final ControlPlane control;
  private final Admin admin;
  private final Clock clock;
  private final long pollMillis;
  private final ScheduledExecutorService executor;
  private final Map<String, TriggerState> states = new ConcurrentHashMap<>();
  private final Counter triggered;

  TriggerScheduler(
      ControlPlane control, Admin admin, Clock clock, long pollMillis, MeterRegistry metrics) {
    this.control = control;
    this.admin = admin;
    this.clock = clock;
    this.pollMillis = pollMillis;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "tusk-trigger-scheduler");
              thread.setDaemon(true);
              return thread;
            });
    this.triggered =
        Counter.builder("tusk.commits.triggered")
            .description("Commits sealed by repo triggers")
            .register(metrics);
  }

  /**
   * Starts polling: every {@code pollMillis}, and also when an {@code everySeconds} trigger comes
   * due between two polls, so such a repo is sealed every {@code everySeconds} rather than up to a
   * poll interval later (with the default 500 ms, a 1 s trigger sealed every 1.0-1.5 s).
   */
  void start() {
    executor.schedule(this::pollAndReschedule, pollMillis, TimeUnit.MILLISECONDS);
  }

  private void pollAndReschedule() {
    long delay = pollMillis;
    try {
      poll();
      delay = delayUntilNextPoll(pollMillis, clock.millis(), states.values());
    } finally {
      if (!executor.isShutdown()) {
        executor.schedule(this::pollAndReschedule, delay, TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * Milliseconds until the next poll: {@code pollMillis}, or less when a repo's {@code
   * everySeconds} trigger comes due sooner (a due time already past waits for the regular poll: its
   * repo had no new offsets, or its seal is under way).
   */
  static long delayUntilNextPoll(long pollMillis, long nowMillis, Iterable<TriggerState> states) {
    long delay = pollMillis;
    for (TriggerState state : states) {
      long untilDue = state.everySecondsDueAt - nowMillis;
      if (untilDue > 0 && untilDue < delay) {
        delay = untilDue;
      }
    }
    return delay;
  }

  /** What the scheduler remembers of one repo's trigger between polls. */
  static final class TriggerState {
    private String cronText;
    private Cron cron;
    private ZonedDateTime nextCron;
    private volatile boolean pending;

    /** When the repo's {@code everySeconds} trigger is next due (epoch ms; none: MAX_VALUE). */
    private volatile long everySecondsDueAt = Long.MAX_VALUE;

    /** Notes when the {@code everySeconds} of {@code trigger} is due after a seal at that time. */
    void sealedAt(Trigger trigger, long lastSealAt) {
      Long everySeconds = trigger.getEverySeconds();
      everySecondsDueAt = everySeconds == null ? Long.MAX_VALUE : lastSealAt + everySeconds * 1000L;
    }
  }

  /**
   * Why {@code trigger} fires now, or null. Advances the cron schedule past {@code now} when its
   * minute came, with or without new offsets.
   *
   * @param newOffsets offsets arrived since the newest commit
   * @param lastSealAt when the newest commit was sealed (the repo's creation before any)
   */
  static String due(
      Trigger trigger, TriggerState state, long newOffsets, long lastSealAt, Instant now) {
    String reason = null;
    if (trigger.getCron() == null) {
      state.cronText = null;
    } else if (!trigger.getCron().equals(state.cronText)) {
      // A new or changed schedule starts from now: minutes already past never fire.
      state.cronText = trigger.getCron();
      state.cron = Cron.parse(trigger.getCron());
      state.nextCron = state.cron.next(now.atZone(ZoneOffset.UTC)).orElse(null);
    } else if (state.nextCron != null && !now.isBefore(state.nextCron.toInstant())) {
      state.nextCron = state.cron.next(now.atZone(ZoneOffset.UTC)).orElse(null);
      reason = "cron '" + trigger.getCron() + "'";
    }
    if (newOffsets <= 0) {
      return null;
    }
    if (trigger.getEveryRows() != null && newOffsets >= trigger.getEveryRows()) {
      return "everyRows " + trigger.getEveryRows();
    }
    if (trigger.getEverySeconds() != null
        && now.toEpochMilli() - lastSealAt >= trigger.getEverySeconds() * 1000) {
      return "everySeconds " + trigger.getEverySeconds();
    }
    return reason;
  }

  /** One round: read the offsets of every triggered repo, seal those whose trigger fires. */
  void poll() {
    try {
      List<RepoSpec> repos =
          control.repos.snapshot().values().stream()
              .filter(r -> r.getTrigger() != null && r.getSourcePipeline() == null)
              .toList();
      Set<String> names = repos.stream().map(RepoSpec::getName).collect(Collectors.toSet());
      states.keySet().retainAll(names);
      if (repos.isEmpty()) {
        return;
      }
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      for (RepoSpec repo : repos) {
        for (int p = 0; p < repo.getUpdatePartitions(); p++) {
          request.put(new TopicPartition(TopicNames.updatesOf(repo), p), OffsetSpec.latest());
        }
      }
      ListOffsetsResult offsets =
          admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED));
      Instant now = clock.instant();
      for (RepoSpec repo : repos) {
        check(repo, offsets, now);
      }
    } catch (RuntimeException e) {
      // The next poll tries again; a failure must never stop the schedule.
      log.warn("Trigger poll failed", e);
    }
  }

  private void check(RepoSpec repo, ListOffsetsResult offsets, Instant now) {
    TriggerState state = states.computeIfAbsent(repo.getName(), name -> new TriggerState());
    if (state.pending) {
      return;
    }
    Commit latest = control.commits.latest(repo.getName()).orElse(null);
    long newOffsets;
    try {
      newOffsets = newOffsets(repo, latest, offsets);
    } catch (ExecutionException | TimeoutException e) {
      log.debug("Offsets of repo {} not available yet: {}", repo.getName(), e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    long lastSealAt = latest == null ? repo.getCreatedAt() : latest.getCreatedAt();
    state.sealedAt(repo.getTrigger(), lastSealAt);
    String reason = due(repo.getTrigger(), state, newOffsets, lastSealAt, now);
    if (reason == null) {
      return;
    }
    state.pending = true;
    String seen = latest == null ? null : latest.getId();
    control
        .sealForTrigger(repo.getName(), seen)
        .onComplete(
            outcome -> {
              state.pending = false;
              if (outcome.failed()) {
                log.warn("Trigger seal of repo {} failed", repo.getName(), outcome.cause());
              } else if (outcome.result() != null) {
                triggered.increment();
                log.info(
                    "Trigger ({}) of repo {} sealed commit {} ({} new offsets)",
                    reason,
                    repo.getName(),
                    outcome.result().getId(),
                    newOffsets);
              }
            });
  }

  private static long newOffsets(RepoSpec repo, Commit latest, ListOffsetsResult offsets)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<Integer, Long> sealed = new HashMap<>();
    if (latest != null) {
      for (PartitionOffset offset : latest.getEndOffsets()) {
        sealed.put(offset.getPartition(), offset.getOffset());
      }
    }
    long count = 0;
    String topic = TopicNames.updatesOf(repo);
    for (int p = 0; p < repo.getUpdatePartitions(); p++) {
      long stable =
          offsets
              .partitionResult(new TopicPartition(topic, p))
              .get(OFFSETS_TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .offset();
      count += Math.max(0, stable - sealed.getOrDefault(p, 0L));
    }
    return count;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("Trigger scheduler did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
