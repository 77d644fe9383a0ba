package io.tusk.processor;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.ops.Observability;
import io.tusk.common.topics.TopicNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One processor thread: a read_committed consumer in the pipeline's group and a transactional
 * producer. Each poll is one transaction holding every datum's output or failure record, its
 * result, and the consumed offsets, so a datum's effects are committed exactly once.
 *
 * <p>Failures are sorted: a failing transform or a bad record is data (the {@link DatumMapper}
 * turns it into a FAILED result); a transient Kafka error aborts the transaction, rewinds to the
 * committed offsets and retries with backoff (bounded, then fatal); a fenced producer is replaced;
 * security and version errors are fatal at once. A fatal error stops the worker loudly and turns
 * its health check DOWN.
 */
final class DatumWorker implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(DatumWorker.class);

  private static final Duration POLL_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** About a minute of retrying (0.1 s doubling to 10 s) before a worker gives up. */
  static final int MAX_ATTEMPTS = 12;

  private static final long FIRST_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 10_000;

  private final KafkaSettings settings;
  private final String datumsTopic;
  private final String groupId;
  private final String clientId;
  private final String transactionalId;
  private final int maxPollRecords;
  private final DatumMapper mapper;
  private final ProcessorMetrics metrics;
  private final Observability observability;
  private final CountDownLatch stopRequested = new CountDownLatch(1);

  private volatile boolean running = true;
  private volatile boolean failed;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private KafkaProducer<byte[], byte[]> producer;
  private boolean inTransaction;

  /**
   * @param config the processor's configuration
   * @param thread this worker's number within the instance
   * @param mapper the mapper holding this worker's own transform instance
   */
  DatumWorker(
      DatumProcessorConfig config,
      int thread,
      DatumMapper mapper,
      ProcessorMetrics metrics,
      Observability observability) {
    this.settings = config.kafka();
    this.datumsTopic = TopicNames.datums(config.pipeline());
    this.groupId = config.groupId();
    String id = groupId + "-" + settings.instanceId() + "-" + thread;
    this.clientId = id;
    this.transactionalId = id;
    this.maxPollRecords = config.maxPollRecords();
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.observability = Objects.requireNonNull(observability, "observability");
  }

  /** True while the worker runs or has stopped on request; false after a fatal error. */
  boolean isHealthy() {
    return !failed;
  }

  /** Asks the worker to stop; it aborts an open transaction and closes its clients. */
  void stop() {
    running = false;
    stopRequested.countDown();
    KafkaConsumer<byte[], byte[]> current = consumer;
    if (current != null) {
      current.wakeup();
    }
  }

  @Override
  public void run() {
    Map<String, Object> props = settings.consumer(clientId, groupId);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
      consumer = c;
      if (!running) {
        return; // stop() came before the consumer existed, so no wakeup reached it
      }
      observability.bind(c, clientId);
      c.subscribe(List.of(datumsTopic), new RebalanceLogger());
      log.info("Worker {} consuming {} in group {}", clientId, datumsTopic, groupId);
      loop(c);
    } catch (WakeupException | InterruptException e) {
      if (running) {
        fail(e);
      }
    } catch (RuntimeException e) {
      fail(e);
    } finally {
      closeProducer();
      log.info("Worker {} stopped", clientId);
    }
  }

  private void loop(KafkaConsumer<byte[], byte[]> c) {
    int attempt = 0;
    boolean rewind = false;
    while (running) {
      try {
        if (rewind) {
          rewind(c);
          rewind = false;
        }
        ConsumerRecords<byte[], byte[]> records = c.poll(POLL_TIMEOUT);
        if (records.isEmpty()) {
          continue;
        }
        process(c, records);
        attempt = 0;
      } catch (WakeupException | InterruptException e) {
        throw e;
      } catch (ProducerFencedException
          | InvalidProducerEpochException
          | OutOfOrderSequenceException e) {
        // The producer is unusable (another producer took our transactional ID, or the transaction
        // timed out): a new one fences the old epoch, and the poll is redone from the offsets.
        attempt = retry(attempt + 1, e, true);
        rewind = true;
      } catch (AuthenticationException | AuthorizationException | UnsupportedVersionException e) {
        throw e;
      } catch (KafkaException e) {
        attempt = retry(attempt + 1, e, false);
        rewind = true;
      }
    }
  }

  /** One poll, one transaction: every datum's records, then the consumed positions. */
  private void process(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records) {
    if (producer == null) {
      producer = newProducer();
    }
    producer.beginTransaction();
    inTransaction = true;
    List<DatumOutcome> outcomes = new ArrayList<>(records.count());
    List<String> sources = new ArrayList<>(records.count());
    for (ConsumerRecord<byte[], byte[]> record : records) {
      DatumOutcome outcome = mapper.map(record);
      for (ProducerRecord<byte[], byte[]> out : outcome.records()) {
        producer.send(out);
      }
      outcomes.add(outcome);
      sources.add(record.topic() + "-" + record.partition() + "@" + record.offset());
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition partition : records.partitions()) {
      // The position (not last offset + 1) also steps over transaction markers.
      offsets.put(partition, new OffsetAndMetadata(c.position(partition)));
    }
    producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
    producer.commitTransaction();
    inTransaction = false;

    // Counted and reported only once committed: an aborted poll is redone, not double counted.
    for (int i = 0; i < outcomes.size(); i++) {
      DatumOutcome outcome = outcomes.get(i);
      metrics.record(outcome);
      if (outcome.kind() != DatumOutcome.Kind.SUCCESS) {
        log.warn(
            "Datum at {} of job {} is {}: {}",
            sources.get(i),
            outcome.result() == null ? "unknown" : outcome.result().getJobId(),
            outcome.kind().tag(),
            outcome.error());
      }
    }
    metrics.committed(outcomes.size());
    log.debug("Worker {} committed {} datums", clientId, outcomes.size());
  }

  /**
   * Aborts (or, if fenced, drops the producer) and waits; the caller then rewinds to the committed
   * offsets, so the aborted poll is redone.
   *
   * @return the attempt number
   * @throws KafkaException after {@link #MAX_ATTEMPTS} attempts in a row
   */
  private int retry(int attempt, KafkaException e, boolean fenced) {
    metrics.retried();
    if (attempt >= MAX_ATTEMPTS) {
      abortQuietly();
      throw new KafkaException(
          "worker " + clientId + " giving up after " + attempt + " attempts: " + e, e);
    }
    log.warn(
        "Worker {}: transaction failed (attempt {} of {}), retrying: {}",
        clientId,
        attempt,
        MAX_ATTEMPTS,
        e.toString());
    if (fenced) {
      closeProducer();
    } else {
      abortQuietly();
    }
    backoff(attempt);
    return attempt;
  }

  private void abortQuietly() {
    if (producer == null || !inTransaction) {
      return;
    }
    try {
      producer.abortTransaction();
      inTransaction = false;
    } catch (KafkaException e) {
      // A producer that cannot abort is unusable; a new one aborts the open transaction on init.
      log.warn("Worker {}: abort failed, replacing the producer: {}", clientId, e.toString());
      closeProducer();
    }
  }

  /** Seeks every assigned partition back to its committed offset, undoing the aborted poll. */
  private void rewind(KafkaConsumer<byte[], byte[]> c) {
    Set<TopicPartition> assigned = c.assignment();
    if (assigned.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = c.committed(assigned);
    List<TopicPartition> uncommitted = new ArrayList<>();
    for (TopicPartition partition : assigned) {
      OffsetAndMetadata offset = committed.get(partition);
      if (offset == null) {
        uncommitted.add(partition);
      } else {
        c.seek(partition, offset);
      }
    }
    // The group reads from the earliest offset when it has committed none.
    c.seekToBeginning(uncommitted);
  }

  private void backoff(int attempt) {
    long delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(attempt - 1, 20));
    try {
      stopRequested.await(delay, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  private KafkaProducer<byte[], byte[]> newProducer() {
    KafkaProducer<byte[], byte[]> created =
        new KafkaProducer<>(settings.producer(clientId, transactionalId));
    try {
      created.initTransactions();
    } catch (RuntimeException e) {
      created.close(Duration.ZERO);
      throw e;
    }
    inTransaction = false;
    return created;
  }

  private void closeProducer() {
    if (producer == null) {
      return;
    }
    if (inTransaction) {
      try {
        producer.abortTransaction();
      } catch (KafkaException e) {
        log.debug("Worker {}: abort on close failed: {}", clientId, e.toString());
      }
    }
    try {
      producer.close(CLOSE_TIMEOUT);
    } catch (KafkaException e) {
      log.warn("Worker {}: closing the producer failed: {}", clientId, e.toString());
    }
    producer = null;
    inTransaction = false;
  }

  private void fail(RuntimeException e) {
    failed = true;
    log.error("Worker {} stopped on a fatal error", clientId, e);
  }

  /** Logs assignment changes; there is nothing to commit, as no transaction is open in poll. */
  private final class RebalanceLogger implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        log.info("Worker {} assigned {}", clientId, partitions);
      }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        log.info("Worker {} revoked {}", clientId, partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      log.warn("Worker {} lost {}", clientId, partitions);
    }
  }
}
