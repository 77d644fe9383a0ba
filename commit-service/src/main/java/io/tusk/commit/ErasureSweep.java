package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.schemas.Erasure;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the compaction bound of an erasure real. Kafka never compacts a partition's active segment
 * and rolls it only when a record is appended, so the last records of an erased member (its final
 * values and tombstones) could stay in a quiet partition of a compacted topic indefinitely. While
 * an erasure is purged but not past its bound, every {@code interval} this appends a roll marker (a
 * tombstone of a reserved key with header {@link Headers#ROLL}, which Tusk's readers skip) to every
 * partition of the compacted topics that may hold the member.
 */
final class ErasureSweep implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ErasureSweep.class);

  /** The roll marker's key: no member key starts with a NUL character. */
  static final byte[] ROLL_KEY = "\u0000tusk-roll".getBytes(StandardCharsets.UTF_8);

  private static final long MIN_SWEEP_MS = 86_400_000L;

  private final ErasureControl erasures;
  private final ErasurePlaces places;
  private final KafkaProducer<byte[], byte[]> producer;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "tusk-erasure-sweep");
            thread.setDaemon(true);
            return thread;
          });

  ErasureSweep(KafkaSettings kafka, ErasureControl erasures, ErasurePlaces places) {
    this.erasures = erasures;
    this.places = places;
    this.producer =
        new KafkaProducer<>(kafka.producer("tusk-erasure-sweep-" + kafka.instanceId(), null));
  }

  /** Sweeps every {@code intervalMillis}. */
  void start(long intervalMillis) {
    timer.scheduleWithFixedDelay(
        this::sweepQuietly, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
  }

  private void sweepQuietly() {
    try {
      sweep(System.currentTimeMillis());
    } catch (RuntimeException e) {
      // The next round tries again; the status report shows what is not clear yet.
      log.warn("Erasure sweep failed: {}", e.toString());
    }
  }

  /** One round: roll markers for every erasure still within its compaction bound. */
  void sweep(long now) {
    for (Erasure erasure : erasures.log().all()) {
      long purgedAt = erasures.purgedAt(erasure);
      if (purgedAt == 0 || erasures.isVerified(erasure)) {
        continue;
      }
      List<ErasurePlaces.Place> compacted =
          places.places(erasure.getRepo()).stream().filter(ErasurePlaces.Place::compacted).toList();
      long bound = compacted.stream().mapToLong(ErasurePlaces.Place::boundMs).max().orElse(0);
      // Past twice the bound (at least a day: settings may have been shortened since), the
      // cleaner has had every chance; a verified erasure needs nothing more.
      if (now > purgedAt + Math.max(2 * bound, MIN_SWEEP_MS)) {
        continue;
      }
      int markers = 0;
      for (ErasurePlaces.Place place : compacted) {
        for (PartitionInfo partition : producer.partitionsFor(place.topic())) {
          ProducerRecord<byte[], byte[]> marker =
              new ProducerRecord<>(place.topic(), partition.partition(), ROLL_KEY, null);
          marker.headers().add(Headers.ROLL, new byte[] {1});
          producer.send(marker);
          markers++;
        }
      }
      producer.flush();
      log.debug("Erasure {}: {} roll markers appended", erasure.getId(), markers);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    producer.close();
  }
}
