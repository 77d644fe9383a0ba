package io.tusk.processor;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.ops.Observability;
import io.tusk.common.topics.TopicNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
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
 * One processor thread: a read_committed consumer in the pipeline's group (a static member named
 * after the instance and thread) and a transactional producer. Each poll (or slice of a poll, when
 * its datums take long) is one transaction holding every datum's output or failure record, its
 * result, its {@code DatumDone}, and the consumed offsets, so a datum's effects are committed
 * exactly once.
 *
 * <p>A datum may come in parts: a {@link DatumAssembler} per assigned partition turns records into
 * whole datums in the order of their first record, and a partition is processed up to its first
 * datum still waiting for parts. The offset committed for a partition is the first offset of its
 * first datum not processed (or the position when none is left), so a re-read rebuilds exactly the
 * datums not done; parts of datums done before that offset are dropped as orphans.
 *
 * <p>Datums deleted by retention before they were processed (the committed offset is below the
 * partition's log start) are logged as an ERROR with the offset range and counted ({@code
 * tusk.processor.datums.lost}); the worker goes on from the log start, and the member side sends
 * those members again on the pipeline's next job.
 *
 * <p>Failures are sorted: a failing transform or a bad record is data (the {@link DatumMapper}
 * turns it into a FAILED result); a transient Kafka error aborts the transaction, rewinds to the
 * committed offsets and retries with backoff (bounded, then fatal); a fenced producer is replaced;
 * security and version errors are fatal at once. A fatal error stops the worker loudly and turns
 * its health check DOWN.
 *
 * <p>Over 500 lines on purpose: the exactly-once loop (poll, compute, one transaction with the
 * offsets, failures sorted into fenced, transient and fatal) is read and imitated as one shape, and
 * its parts share the consumer, producer and transaction state, so split apart they would only pass
 * that state around; the decisions per datum are already in {@link DatumMapper}.
 */
final class DatumWorker implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(DatumWorker.class);

  private static final Duration POLL_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration ACCESS_CHECK_TIMEOUT = Duration.ofSeconds(30);

  /** About a minute of retrying (0.1 s doubling to 10 s) before a worker gives up. */
  static final int MAX_ATTEMPTS = 12;

  private static final long FIRST_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 10_000;

  private static final int TRANSACTION_TIMEOUT_MS = 10_000;

  /** Longest a worker computes datums before it commits those done (one transaction). */
  static final Duration COMMIT_INTERVAL = Duration.ofSeconds(2);

  /** A transaction's records are held in memory until it begins: this bounds them. */
  static final long MAX_TRANSACTION_BYTES = 32L * 1024 * 1024;

  private final KafkaSettings settings;
  private final String datumsTopic;
  private final String groupId;
  private final String clientId;
  private final String transactionalId;
  private final int maxPollRecords;
  private final Duration maxPollInterval;
  private final DatumMapper mapper;
  private final ProcessorMetrics metrics;
  private final Observability observability;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final Map<TopicPartition, DatumAssembler> assemblers = new HashMap<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  private volatile boolean running = true;
  private volatile boolean failed;
  private final CompletableFuture<String> failure = new CompletableFuture<>();
  private volatile boolean computing;
  private volatile Thread thread;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private KafkaProducer<byte[], byte[]> producer;
  private boolean inTransaction;

  /**
   * @param config the processor's configuration
   * @param thread this worker's number within the instance
   * @param mapper the mapper holding this worker's own transforms (closed when the worker ends)
   * @param maxPollInterval the longest a poll's datums may take (tries, timeouts, error command)
   */
  DatumWorker(
      DatumProcessorConfig config,
      int thread,
      DatumMapper mapper,
      Duration maxPollInterval,
      ProcessorMetrics metrics,
      Observability observability) {
    this.settings = config.kafka();
    this.datumsTopic = TopicNames.datums(config.pipeline());
    this.groupId = config.groupId();
    String id = groupId + "-" + settings.instanceId() + "-" + thread;
    this.clientId = id;
    this.transactionalId = id;
    this.maxPollRecords = config.maxPollRecords();
    this.maxPollInterval = Objects.requireNonNull(maxPollInterval, "maxPollInterval");
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.observability = Objects.requireNonNull(observability, "observability");
  }

  /**
   * Completes once Kafka has allowed the worker its group, its datum topic and its transactional ID
   * (so a start can fail on a missing ACL instead of reporting success), or with the failure that
   * stopped it first.
   */
  CompletableFuture<Void> ready() {
    return ready;
  }

  /** True while the worker runs or has stopped on request; false after a fatal error. */
  boolean isHealthy() {
    return !failed;
  }

  /** Completes with the reason once the worker stopped on a fatal error (never on a stop). */
  CompletableFuture<String> failure() {
    return failure;
  }

  /**
   * Asks the worker to stop; it abandons the datums it is computing (uncommitted, so whoever gets
   * the partitions next runs them), aborts an open transaction and closes its clients.
   */
  void stop() {
    running = false;
    stopRequested.countDown();
    KafkaConsumer<byte[], byte[]> current = consumer;
    if (current != null) {
      current.wakeup();
    }
    Thread worker = thread;
    if (computing && worker != null) {
      worker.interrupt(); // ends a running command or a wait for a worker's answer
    }
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    Map<String, Object> props = settings.consumer(clientId, groupId);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) maxPollInterval.toMillis());
    // Static membership: a restarted instance (same instance ID) takes its partitions back at
    // once, without a rebalance, instead of waiting for the dead member's session to expire.
    props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, clientId);
    // No silent reset: a committed offset below the log start means datums expired unprocessed,
    // which the worker reports (skipExpired); with no committed offset it starts at the beginning.
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props);
    try {
      consumer = c;
      if (!running) {
        return; // stop() came before the consumer existed, so no wakeup reached it
      }
      observability.bind(c, clientId);
      c.subscribe(List.of(datumsTopic), new RebalanceLogger());
      checkGroupAccess(c);
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
      closeConsumer(c);
      closeMapper();
      ready.complete(null); // stopped on request before it was ready: nothing to wait for
      log.info("Worker {} stopped", clientId);
    }
  }

  /**
   * A static member stays in the group when it closes; stopping on purpose leaves it, so the others
   * take its partitions now rather than after the session timeout.
   */
  private void closeConsumer(KafkaConsumer<byte[], byte[]> c) {
    Thread.interrupted(); // a stop() interrupt must not break the close
    try {
      c.close(
          CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
              .withTimeout(CLOSE_TIMEOUT));
    } catch (KafkaException e) {
      log.warn("Worker {}: closing the consumer failed: {}", clientId, e.toString());
    }
  }

  private void closeMapper() {
    try {
      mapper.close();
    } catch (RuntimeException e) {
      log.warn("Worker {}: stopping the transform failed: {}", clientId, e.toString());
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
        if (producer == null) {
          // At once, not on the first datum: initializing fences an earlier incarnation of this
          // worker and aborts its open transaction, which would otherwise hold back every
          // read_committed reader of the results until it timed out.
          producer = newProducer();
          ready.complete(null); // the group, the topic and the transactional ID are allowed
        }
        ConsumerRecords<byte[], byte[]> records = c.poll(POLL_TIMEOUT);
        if (records.isEmpty()) {
          continue;
        }
        process(c, records);
        attempt = 0;
      } catch (WakeupException | InterruptException e) {
        throw e;
      } catch (OffsetOutOfRangeException e) {
        skipExpired(c, e.offsetOutOfRangePartitions());
      } catch (NoOffsetForPartitionException e) {
        c.seekToBeginning(e.partitions()); // the group has committed nothing there yet
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
        if (AccessDenied.find(e).isPresent()) {
          throw e; // a send or commit denied, reported by the transaction: not transient
        }
        attempt = retry(attempt + 1, e, false);
        rewind = true;
      }
    }
  }

  /**
   * Assembles the poll's records into datums and computes those ready, then writes everything they
   * produced and the offsets in one transaction. The transforms run before the transaction begins,
   * so a slow transform never holds a transaction open. When computing takes longer than {@link
   * #COMMIT_INTERVAL} (or its records grow past {@link #MAX_TRANSACTION_BYTES}) the poll is cut:
   * what is done commits, and the consumer is sent back to the first datum not done (its first
   * record), which the next polls assemble again.
   */
  private void process(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records) {
    for (TopicPartition partition : records.partitions()) {
      DatumAssembler assembler =
          assemblers.computeIfAbsent(partition, p -> new DatumAssembler(mapper::decode));
      records.records(partition).forEach(assembler::add);
    }
    long deadline = System.nanoTime() + COMMIT_INTERVAL.toNanos();
    List<DatumOutcome> outcomes = new ArrayList<>(records.count());
    List<String> sources = new ArrayList<>(records.count());
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    Map<TopicPartition, Long> resume = new HashMap<>();
    long bytes = 0;
    boolean cut = false;
    computing = true;
    try {
      for (TopicPartition partition : records.partitions()) {
        DatumAssembler assembler = assemblers.get(partition);
        for (DatumUnit unit = assembler.peekReady();
            unit != null && !cut && running;
            unit = assembler.peekReady()) {
          if (!outcomes.isEmpty()
              && (System.nanoTime() >= deadline || bytes >= MAX_TRANSACTION_BYTES)) {
            cut = true;
            break;
          }
          DatumOutcome outcome = mapper.map(unit);
          assembler.removeFirst();
          for (ProducerRecord<byte[], byte[]> out : outcome.records()) {
            bytes += size(out);
          }
          outcomes.add(outcome);
          sources.add(partition + "@" + unit.firstOffset());
        }
        OptionalLong notDone = assembler.firstOffset();
        // The position (not last offset + 1) also steps over transaction markers.
        offsets.put(
            partition,
            new OffsetAndMetadata(
                notDone.isPresent() ? notDone.getAsLong() : c.position(partition)));
        if (assembler.peekReady() != null) {
          resume.put(partition, notDone.getAsLong());
        }
      }
    } finally {
      computing = false;
    }
    if (!running) {
      // Stopping: nothing of this poll is committed; the partitions' next owner redoes it.
      Thread.interrupted();
      return;
    }
    producer.beginTransaction();
    inTransaction = true;
    for (DatumOutcome outcome : outcomes) {
      for (ProducerRecord<byte[], byte[]> out : outcome.records()) {
        producer.send(out);
      }
    }
    producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
    producer.commitTransaction();
    inTransaction = false;
    // A cut partition is read again from its first datum not done; what was buffered after it is
    // rebuilt from there (parts of datums done are then orphans).
    resume.forEach(
        (partition, offset) -> {
          c.seek(partition, offset);
          assemblers.get(partition).clear();
        });

    // Counted and reported only once committed: an aborted poll is redone, not double counted.
    for (int i = 0; i < outcomes.size(); i++) {
      DatumOutcome outcome = outcomes.get(i);
      metrics.record(outcome);
      if (outcome.kind() == DatumOutcome.Kind.FAILED
          || outcome.kind() == DatumOutcome.Kind.RECOVERED
          || outcome.kind() == DatumOutcome.Kind.INVALID) {
        // The error text may quote user output; the result record has it, the log does not.
        log.warn(
            "Datum at {} of job {} is {} after {} attempt(s); see its datum result",
            sources.get(i),
            outcome.result() == null ? "unknown" : outcome.result().getJobId(),
            outcome.kind().tag(),
            outcome.result() == null ? 0 : outcome.result().getAttempts());
      }
    }
    metrics.committed(outcomes.size());
    log.debug("Worker {} committed {} datums", clientId, outcomes.size());
  }

  /**
   * Goes on from the log start of partitions whose fetch position was deleted. Below the log start,
   * the datums from the first one not processed up to it expired unprocessed: an ERROR names the
   * range and the count goes to a metric. Above the end, the topic was deleted and created again:
   * its new datums are read from the start.
   */
  private void skipExpired(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> positions) {
    Map<TopicPartition, Long> starts = c.beginningOffsets(positions.keySet());
    for (Map.Entry<TopicPartition, Long> entry : positions.entrySet()) {
      TopicPartition partition = entry.getKey();
      long from = entry.getValue();
      DatumAssembler assembler = assemblers.remove(partition);
      if (assembler != null && assembler.firstOffset().isPresent()) {
        from = Math.min(from, assembler.firstOffset().getAsLong()); // buffered parts are lost too
      }
      long start = starts.get(partition);
      if (from < start) {
        log.error(
            "Worker {}: the datums at offsets {} to {} of {} expired (retention) before they were"
                + " processed; going on from offset {}. The member side sends those members"
                + " again on the pipeline's next job",
            clientId,
            from,
            start - 1,
            partition,
            start);
        metrics.lost(start - from);
      } else {
        log.warn(
            "Worker {}: offset {} of {} is beyond its end (was the topic created again?);"
                + " reading it from offset {}",
            clientId,
            from,
            partition,
            start);
      }
      c.seek(partition, start);
    }
  }

  private static long size(ProducerRecord<byte[], byte[]> record) {
    return (record.key() == null ? 0 : record.key().length)
        + (record.value() == null ? 0 : record.value().length);
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

  /**
   * Seeks every assigned partition back to its committed offset, undoing the aborted poll; the
   * assemblers start again from there.
   */
  private void rewind(KafkaConsumer<byte[], byte[]> c) {
    assemblers.clear();
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
    // The group reads from the earliest offset when it has committed none. An empty list must not
    // reach seekToBeginning: Kafka reads it as "every assigned partition", which would redo
    // committed datums.
    if (!uncommitted.isEmpty()) {
      c.seekToBeginning(uncommitted);
    }
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
    Map<String, Object> props = settings.producer(clientId, transactionalId);
    if (!settings.clientOverrides().containsKey(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)) {
      // Transactions only carry results computed beforehand, so they are short; a crashed worker's
      // open one then blocks readers for seconds, not Kafka's default minute.
      props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS);
    }
    KafkaProducer<byte[], byte[]> created = new KafkaProducer<>(props);
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

  /**
   * Fails the worker now if Kafka denies it its group or datum topic (a poll would show it only
   * later); any other failure here is left to the loop's retries.
   */
  private void checkGroupAccess(KafkaConsumer<byte[], byte[]> c) {
    try {
      Consumers.checkGroupAccess(c, datumsTopic, ACCESS_CHECK_TIMEOUT);
    } catch (KafkaException e) {
      if (AccessDenied.find(e).isPresent()) {
        throw e;
      }
      log.warn("Worker {} could not check its access yet: {}", clientId, e.toString());
    }
  }

  private void fail(RuntimeException e) {
    failed = true;
    ready.completeExceptionally(e);
    String denied = AccessDenied.explain(DatumProcessor.SERVICE, e).orElse("a fatal error");
    log.error("Worker {} stopped on {}", clientId, denied, e);
    failure.complete("worker " + clientId + " stopped on " + denied);
  }

  /**
   * Logs assignment changes and forgets the datums buffered for partitions that go; there is
   * nothing to commit, as no transaction is open in poll.
   */
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
      partitions.forEach(assemblers::remove);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      log.warn("Worker {} lost {}", clientId, partitions);
      partitions.forEach(assemblers::remove);
    }
  }
}
