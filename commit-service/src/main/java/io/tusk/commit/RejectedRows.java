package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.http.ApiException;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads the rejected rows of one commit from {@code <repo>.rejected}: partition p of that topic
 * holds the rejects of source partition p in source order (the rekeyer writes them as it reads), so
 * a commit's rejects in p are the records whose {@code tusk.source.offset} header falls in the
 * commit's range of p. The first one is found by binary search over the partition, so a query reads
 * a few records more than it answers, however long the topic.
 *
 * <p>Blocking: call it off the event loop. Row bytes are returned only when asked (they are health
 * data); reasons and details never hold row contents.
 */
final class RejectedRows {
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  private final KafkaSettings settings;
  private final AtomicLong requests = new AtomicLong();

  RejectedRows(KafkaSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Where a page of rejected rows resumes: after this source offset of this partition. */
  record Cursor(int partition, long offset) {
    @Override
    public String toString() {
      return partition + ":" + offset;
    }
  }

  /**
   * One page: the rows, where the next page starts (null: this was the last), and the partitions
   * where retention ({@code rawRetention}) removed rejected rows of the commit: those are no longer
   * listed, never silently.
   */
  record Page(List<JsonObject> rows, Cursor next, List<Integer> expired) {}

  /**
   * Up to {@code limit} rejected rows of {@code commit}, in (partition, source offset) order, after
   * {@code after} (null: from the start).
   *
   * @throws ApiException 503 if the topic cannot be read within the deadline
   */
  Page read(RepoSpec repo, Commit commit, int limit, Cursor after, boolean content) {
    Map<Integer, Long> start = new HashMap<>();
    commit.getStartOffsets().forEach(o -> start.put(o.getPartition(), o.getOffset()));
    String topic = TopicNames.rejected(repo.getName());
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    List<JsonObject> rows = new ArrayList<>();
    List<Integer> expired = new ArrayList<>();
    Map<String, Object> props =
        settings.consumer("tusk-rejected-reader-" + requests.incrementAndGet(), null);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(limit + 1, 500));
    // Every seek waits for the fetch in flight; the broker must not hold it for new data.
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      for (PartitionOffset end : commit.getEndOffsets()) {
        int p = end.getPartition();
        if (after != null && p < after.partition()) {
          continue;
        }
        long from = start.getOrDefault(p, 0L);
        if (after != null && p == after.partition()) {
          from = Math.max(from, after.offset() + 1);
        }
        if (from >= end.getOffset()) {
          continue;
        }
        Reader reader = new Reader(consumer, new TopicPartition(topic, p), deadline);
        if (reader.expiredFrom(from)) {
          expired.add(p);
        }
        reader.seek(reader.search(from));
        scan:
        for (List<ConsumerRecord<byte[], byte[]>> batch = reader.next();
            batch != null;
            batch = reader.next()) {
          for (ConsumerRecord<byte[], byte[]> record : batch) {
            long source = sourceOffset(record);
            if (source >= end.getOffset()) {
              break scan;
            }
            if (source < from) {
              continue;
            }
            if (rows.size() == limit) {
              // One more row exists: the page ends at the last row returned.
              JsonObject last = rows.get(rows.size() - 1);
              return new Page(
                  rows, new Cursor(last.getInteger("partition"), last.getLong("offset")), expired);
            }
            rows.add(row(p, source, record, content));
          }
        }
      }
    }
    return new Page(rows, null, expired);
  }

  private static JsonObject row(
      int partition, long source, ConsumerRecord<byte[], byte[]> record, boolean content) {
    JsonObject row =
        new JsonObject()
            .put("partition", partition)
            .put("offset", source)
            .put("reason", Headers.text(record.headers(), Headers.REJECT_REASON))
            .put("detail", Headers.text(record.headers(), Headers.REJECT_DETAIL))
            .put("table", Headers.text(record.headers(), Headers.TABLE));
    if (content) {
      row.put(
          "content",
          record.value() == null ? null : Base64.getEncoder().encodeToString(record.value()));
    }
    return row;
  }

  /** The source offset a rejected record carries (a record without one sorts last). */
  private static long sourceOffset(ConsumerRecord<byte[], byte[]> record) {
    String text = Headers.text(record.headers(), Headers.SOURCE_OFFSET);
    try {
      return text == null ? Long.MAX_VALUE : Long.parseLong(text);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Random access to one partition of the rejected topic, read committed. */
  private static final class Reader {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final long deadline;
    private final long begin;
    private final long end;

    Reader(KafkaConsumer<byte[], byte[]> consumer, TopicPartition partition, long deadline) {
      this.consumer = consumer;
      this.partition = partition;
      this.deadline = deadline;
      consumer.assign(List.of(partition));
      this.begin = consumer.beginningOffsets(List.of(partition)).get(partition);
      this.end = consumer.endOffsets(List.of(partition)).get(partition);
    }

    /**
     * The lowest topic offset from which every record has a source offset of at least {@code from}:
     * the source offsets grow with the topic offsets, so a binary search finds it.
     */
    long search(long from) {
      long low = begin;
      long high = end;
      while (low < high) {
        long middle = low + (high - low) / 2;
        ConsumerRecord<byte[], byte[]> record = firstFrom(middle);
        if (record == null || sourceOffset(record) >= from) {
          high = middle;
        } else {
          low = record.offset() + 1;
        }
      }
      return low;
    }

    void seek(long offset) {
      consumer.seek(partition, offset);
    }

    /**
     * Whether retention removed records of the partition that may have carried source offsets at or
     * after {@code from}: records were removed, and the first one kept is past {@code from} (or
     * none is kept).
     */
    boolean expiredFrom(long from) {
      if (begin == 0) {
        return false;
      }
      ConsumerRecord<byte[], byte[]> first = firstFrom(begin);
      return first == null || sourceOffset(first) > from;
    }

    /** The next records from the position, or null at the end of the partition. */
    List<ConsumerRecord<byte[], byte[]>> next() {
      if (consumer.position(partition) >= end) {
        return null;
      }
      requireTime();
      return consumer.poll(POLL).records(partition);
    }

    private void requireTime() {
      if (System.nanoTime() > deadline) {
        throw ApiException.unavailable(
            "reading " + partition + " took longer than " + DEADLINE.toSeconds() + " s");
      }
    }

    /** The first committed record at or after {@code offset}, or null if there is none. */
    ConsumerRecord<byte[], byte[]> firstFrom(long offset) {
      if (offset >= end) {
        return null;
      }
      consumer.seek(partition, offset);
      while (consumer.position(partition) < end) {
        requireTime();
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          if (record.offset() >= offset) {
            return record;
          }
        }
      }
      return null;
    }
  }
}
