package io.tusk.common.config;

import java.util.List;

/**
 * How long copies of records may live in the topics Tusk creates, besides a repo's own {@code
 * rawRetention}: the bounds an erasure's "gone by" promise is computed from (README "Erasure and
 * retention").
 *
 * @param compactionMaxLagMs {@code max.compaction.lag.ms} (and the cap of {@code segment.ms}) of
 *     compacted topics and the Streams services' changelogs: a record replaced or deleted is
 *     compacted away within it once a later record rolls its segment
 * @param tombstoneRetentionMs {@code delete.retention.ms} of compacted topics: how long a tombstone
 *     itself stays after compaction
 * @param systemRetentionMs {@code retention.ms} of the shared delete topics ({@code
 *     tusk.datum-results}, {@code tusk.commit-parts}, {@code tusk.job-parts}, {@code
 *     tusk.seal-requests}), which name members and hold datum logs
 */
public record TopicBounds(
    long compactionMaxLagMs, long tombstoneRetentionMs, long systemRetentionMs) {

  public static final ConfigKey COMPACTION_MAX_LAG =
      ConfigKey.optional(
          "TUSK_COMPACTION_MAX_LAG",
          "7d",
          "max.compaction.lag.ms of the compacted topics and changelogs Tusk creates (30d, 12h, ms)");
  public static final ConfigKey TOMBSTONE_RETENTION =
      ConfigKey.optional(
          "TUSK_TOMBSTONE_RETENTION",
          "1d",
          "delete.retention.ms of the compacted topics Tusk creates: how long a tombstone stays");
  public static final ConfigKey SYSTEM_RETENTION =
      ConfigKey.optional(
          "TUSK_SYSTEM_RETENTION",
          "7d",
          "retention.ms of tusk.datum-results, tusk.commit-parts, tusk.job-parts, tusk.seal-requests");

  /** The keys, for the services' key lists. */
  public static final List<ConfigKey> KEYS =
      List.of(COMPACTION_MAX_LAG, TOMBSTONE_RETENTION, SYSTEM_RETENTION);

  /** The defaults (7 days, 1 day, 7 days). */
  public static final TopicBounds DEFAULTS =
      new TopicBounds(7 * 86_400_000L, 86_400_000L, 7 * 86_400_000L);

  /** Kafka's default segment.ms (7 days). */
  private static final long DEFAULT_SEGMENT_MS = 7 * 86_400_000L;

  /**
   * {@code segment.ms} of compacted topics: at most the max lag, because the active segment is
   * never compacted (Kafka rolls it on the first append after this).
   */
  public long segmentMs() {
    return Math.min(DEFAULT_SEGMENT_MS, compactionMaxLagMs);
  }

  /** The bounds of loaded config; a bad value fails naming its key. */
  public static TopicBounds from(Config config) {
    return new TopicBounds(
        millis(config, COMPACTION_MAX_LAG),
        millis(config, TOMBSTONE_RETENTION),
        millis(config, SYSTEM_RETENTION));
  }

  private static long millis(Config config, ConfigKey key) {
    try {
      return Durations.parseMillis(config.string(key));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key.name() + " " + e.getMessage());
    }
  }
}
