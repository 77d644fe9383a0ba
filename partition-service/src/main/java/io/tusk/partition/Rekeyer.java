package io.tusk.partition;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.member.RejectReason;
import io.tusk.common.member.SchemaUnavailableException;
import io.tusk.common.ops.Observability;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.RepoSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
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
 * One rekeyer thread (step 2 of the commit protocol): a read_committed consumer in group {@value
 * #GROUP} on the source topic of every known repo ({@code <repo>.updates}, or for a derived repo
 * the pipeline output it reads; one topic may feed several repos), and a transactional producer.
 * Each poll's rows, rejects, barriers and consumed offsets commit in one transaction, so in every
 * by-member partition a barrier follows the rows it covers. Barriers carry the consumer position,
 * which moves past transaction markers (a plain consumer loop, not Kafka Streams, because Streams
 * does not show processors the position). Each repo has its own position per source partition
 * ({@link SourcePositions}), so a repo that starts reading a topic already consumed for others
 * reads it from the beginning.
 *
 * <p>A failed transaction is aborted and the consumer rewound to its committed offsets; failures
 * are retried with backoff up to {@value #MAX_ATTEMPTS} times in a row, after which the thread
 * stops and the service reports unhealthy. A fenced or otherwise fatally failed producer is
 * replaced. An unreachable schema registry (Avro rows and derived repos need it) is retried for as
 * long as it lasts.
 *
 * <p>Over 500 lines on purpose: like the datum processor's worker it is one
 * consume-transform-produce loop whose steps share the consumer, producer, transaction and position
 * state, so it reads (and is imitated) best whole; routing rows is already apart in {@link
 * RekeyRouter}.
 */
final class Rekeyer implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Rekeyer.class);

  /** The rekeyers' consumer group. */
  static final String GROUP = "tusk-rekeyer";

  /** Failed attempts in a row after which the thread gives up (and health reports DOWN). */
  static final int MAX_ATTEMPTS = 10;

  private static final Duration POLL = Duration.ofMillis(200);

  /** Reject reasons a newer layout of the repo could turn into an accepted row. */
  private static final Set<String> LAYOUT_REASONS =
      Set.of(
          RejectReason.WRONG_FIELD_COUNT.name(),
          RejectReason.UNKNOWN_TABLE.name(),
          RejectReason.WRONG_TYPE.name());

  private static final Duration LAYOUT_SYNC_INTERVAL = Duration.ofMillis(250);
  private static final Duration LAYOUT_SYNC_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final String clientId;
  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final Supplier<Producer<byte[], byte[]>> producers;
  private final RepoDirectory repos;
  private final MeterRegistry metrics;
  private final RekeyRouter router;
  private final SourcePositions positions = new SourcePositions();
  private final Thread thread;
  private final Semaphore reposChanged = new Semaphore(0);
  private final CountDownLatch stopping = new CountDownLatch(1);

  private volatile boolean running = true;
  private volatile boolean failed;
  private volatile java.util.function.Consumer<String> onDenied = reason -> {};
  private volatile Consumer<byte[], byte[]> consumer;
  private Producer<byte[], byte[]> producer;
  private Set<String> subscribed = Set.of();

  /** The createdAt of every repo at the last subscription: a change is a deleted repo. */
  private Map<String, Long> seenRepos = Map.of();

  private Map<String, List<RepoSpec>> readers = Map.of();
  private boolean inTransaction;
  private boolean needsRewind;
  private long reposSyncedAt;
  private long lastLayoutSync;

  /**
   * A rekeyer thread (not started).
   *
   * @param clientId client ID of its consumer and producer, and name in logs
   * @param consumers makes the thread's consumer (subscribed by the thread)
   * @param producers makes a transactional producer (again after a fatal producer error)
   * @param repos the repos to read
   * @param topics the topics and their serdes
   * @param metrics where the counters go
   */
  Rekeyer(
      String clientId,
      Supplier<Consumer<byte[], byte[]>> consumers,
      Supplier<Producer<byte[], byte[]>> producers,
      RepoDirectory repos,
      Topics topics,
      MeterRegistry metrics) {
    this.clientId = Objects.requireNonNull(clientId, "clientId");
    this.consumers = Objects.requireNonNull(consumers, "consumers");
    this.producers = Objects.requireNonNull(producers, "producers");
    this.repos = Objects.requireNonNull(repos, "repos");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.router = new RekeyRouter(topics);
    this.thread = new Thread(this, clientId);
    // A new repo is subscribed on the loop thread: the listener only raises a signal.
    repos.onChange(reposChanged::release);
  }

  /**
   * Rekeyer thread {@code index} of this instance: group {@value #GROUP}, transactional ID {@code
   * tusk-rekeyer-<instanceId>-<index>}.
   */
  static Rekeyer create(
      KafkaSettings settings,
      Topics topics,
      RepoDirectory repos,
      Observability observability,
      int index) {
    String clientId = "tusk-rekeyer-" + settings.instanceId() + "-" + index;
    Map<String, Object> consumerProps = settings.consumer(clientId, GROUP);
    // New repos' topics appear at run time; find them quickly.
    consumerProps.putIfAbsent(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5000);
    consumerProps.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    return new Rekeyer(
        clientId,
        () -> {
          KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps);
          observability.bind(c, clientId);
          return c;
        },
        () -> new KafkaProducer<>(settings.producer(clientId, clientId)),
        repos,
        topics,
        observability.registry());
  }

  /**
   * Tells {@code listener} (once, on the rekeyer's thread) why the thread stopped when Kafka denied
   * it an ACL: retrying cannot help, the service cannot work without it.
   */
  void onDenied(java.util.function.Consumer<String> listener) {
    this.onDenied = Objects.requireNonNull(listener, "listener");
  }

  /** Starts the thread. */
  void start() {
    thread.start();
  }

  /** True while the thread runs and has not given up. */
  boolean isHealthy() {
    return thread.isAlive() && !failed;
  }

  @Override
  public void run() {
    try (Consumer<byte[], byte[]> c = consumers.get()) {
      consumer = c;
      loop();
    } catch (WakeupException e) {
      if (running) {
        failed = true;
        log.error("Rekeyer {} woken up unexpectedly", clientId, e);
      }
    } catch (RuntimeException e) {
      failed = true;
      log.error("Rekeyer {} stopped", clientId, e);
    } finally {
      if (producer != null) {
        producer.close(Duration.ofSeconds(5));
      }
      log.info("Rekeyer {} closed", clientId);
    }
  }

  private void loop() {
    subscribe();
    int attempt = 0;
    int registryAttempt = 0;
    while (running) {
      try {
        if (reposChanged.drainPermits() > 0) {
          subscribe();
        }
        if (subscribed.isEmpty()) {
          awaitRepos();
          continue;
        }
        if (producer == null) {
          producer = newProducer();
        }
        if (needsRewind) {
          rewind();
        }
        step(consumer.poll(POLL));
        attempt = 0;
        registryAttempt = 0;
      } catch (WakeupException | InterruptException e) {
        throw e;
      } catch (AuthorizationException e) {
        stopDenied(e);
      } catch (SchemaUnavailableException e) {
        // A registry outage pauses ingestion; it never stops the thread (nothing is wrong here).
        registryAttempt++;
        log.warn(
            "Rekeyer {} cannot reach the schema registry (attempt {}); aborting and retrying",
            clientId,
            registryAttempt,
            e);
        abort();
        backOff(Math.min(registryAttempt, MAX_ATTEMPTS - 1));
      } catch (ProducerFencedException
          | InvalidProducerEpochException
          | OutOfOrderSequenceException
          | UnsupportedVersionException e) {
        attempt++;
        log.error(
            "Rekeyer {} producer failed fatally (attempt {} of {}); replacing it. Another instance"
                + " with the same TUSK_INSTANCE_ID would fence this one",
            clientId,
            attempt,
            MAX_ATTEMPTS,
            e);
        replaceProducer();
        backOff(attempt);
      } catch (KafkaException e) {
        if (AccessDenied.find(e).isPresent()) {
          stopDenied(e); // a send or commit denied, reported by the transaction
          continue;
        }
        attempt++;
        log.warn(
            "Rekeyer {} transaction failed (attempt {} of {}); aborting and rewinding",
            clientId,
            attempt,
            MAX_ATTEMPTS,
            e);
        abort();
        backOff(attempt);
      }
    }
  }

  /** One poll's worth of work in one transaction; nothing at all if nothing moved. */
  private void step(ConsumerRecords<byte[], byte[]> records) {
    Map<TopicPartition, Long> consumed = new HashMap<>();
    for (TopicPartition partition : consumer.assignment()) {
      consumed.put(partition, consumer.position(partition));
    }
    SourcePositions.Advance advance = positions.advance(consumed);
    if (records.isEmpty() && advance.isEmpty()) {
      return;
    }
    Tally tally = new Tally();
    producer.beginTransaction();
    inTransaction = true;
    for (ConsumerRecord<byte[], byte[]> record : records) {
      route(record, tally);
    }
    Map<String, RepoSpec> specs = new HashMap<>();
    readers.values().forEach(list -> list.forEach(spec -> specs.put(spec.getName(), spec)));
    for (SourcePositions.Barrier barrier : advance.barriers()) {
      RepoSpec spec = specs.get(barrier.repo());
      List<ProducerRecord<byte[], byte[]>> barrierRecords =
          router.barriers(spec, barrier.partition().partition(), barrier.position());
      barrierRecords.forEach(producer::send);
      tally.barriers(barrier.repo(), barrierRecords.size());
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    consumed.forEach(
        (partition, position) ->
            offsets.put(
                partition,
                new OffsetAndMetadata(position, positions.metadata(partition, advance))));
    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
    producer.commitTransaction();
    inTransaction = false;
    positions.apply(advance);
    tally.record(metrics);
  }

  /** Routes a record to every repo reading its topic that has not had it yet. */
  private void route(ConsumerRecord<byte[], byte[]> record, Tally tally) {
    List<RepoSpec> specs = readers.getOrDefault(record.topic(), List.of());
    if (specs.isEmpty() && record.topic().endsWith(TopicNames.UPDATES_SUFFIX)) {
      // A repo deleted while its topic was read: its rows are rejected, not lost.
      String repo = TopicNames.owner(record.topic(), TopicNames.UPDATES_SUFFIX);
      RekeyRouter.Routing routing = router.route(record, repo, null);
      routing.records().forEach(producer::send);
      tally.add(repo, routing);
      return;
    }
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    for (RepoSpec reader : specs) {
      if (positions.forwards(partition, reader.getName(), record.offset())) {
        // The directory's spec, not the subscription's: a layout change must apply at once.
        RepoSpec spec = repos.get(reader.getName()).orElse(reader);
        RekeyRouter.Routing routing = router.route(record, spec.getName(), spec);
        if (mayBeInANewerLayout(record, routing)) {
          RepoSpec fresh = repos.get(spec.getName()).orElse(spec);
          if (fresh != spec) {
            routing = router.route(record, spec.getName(), fresh);
          }
        }
        routing.records().forEach(producer::send);
        tally.add(spec.getName(), routing);
      }
    }
  }

  /**
   * Whether a rejected record may fit a layout change this thread has not seen yet: its reason
   * depends on the layout, and it was produced after the directory last synced. If so, the
   * directory is synced (at most every {@link #LAYOUT_SYNC_INTERVAL}), so the caller re-reads the
   * spec: a row produced right after {@code PUT /repos/{repo}} returned is read with the new
   * layout, not rejected by a view that trails by moments.
   */
  private boolean mayBeInANewerLayout(
      ConsumerRecord<byte[], byte[]> record, RekeyRouter.Routing routing) {
    if (routing.outcome() != RekeyRouter.Outcome.REJECTED
        || !LAYOUT_REASONS.contains(routing.reason())
        || record.timestamp() < reposSyncedAt) {
      return false;
    }
    long now = System.currentTimeMillis();
    if (now - lastLayoutSync < LAYOUT_SYNC_INTERVAL.toMillis()) {
      return false;
    }
    lastLayoutSync = now;
    if (repos.sync(LAYOUT_SYNC_TIMEOUT)) {
      reposSyncedAt = now;
    }
    return true;
  }

  /**
   * Subscribes to the source topics of the known repos and brings the readers of assigned
   * partitions up to date (a repo new to an assigned topic makes the consumer seek back).
   */
  private void subscribe() {
    Map<String, Long> incarnations = new HashMap<>();
    for (String repo : repos.names()) {
      repos.get(repo).ifPresent(spec -> incarnations.put(repo, spec.getCreatedAt()));
    }
    boolean ended =
        seenRepos.entrySet().stream()
            .anyMatch(e -> !e.getValue().equals(incarnations.get(e.getKey())));
    seenRepos = incarnations;
    if (ended) {
      // A repo was deleted (and maybe created again under its name): its topics are new ones, so
      // positions and the producer's metadata of the old ones must go. Unsubscribing revokes every
      // partition (positions forgotten); the next assignment loads the committed offsets, which
      // the broker dropped with the deleted topics, so a re-created topic is read from its start.
      log.info("Rekeyer {} resubscribes: a repo was deleted", clientId);
      consumer.unsubscribe();
      subscribed = Set.of();
      replaceProducer();
    }
    Map<String, List<RepoSpec>> byTopic = new TreeMap<>();
    for (String repo : repos.names()) {
      repos
          .get(repo)
          .ifPresent(
              spec ->
                  byTopic
                      .computeIfAbsent(TopicNames.updatesOf(spec), t -> new ArrayList<>())
                      .add(spec));
    }
    readers = byTopic;
    for (TopicPartition partition : consumer.assignment()) {
      long min = positions.readers(partition, readersOf(partition));
      if (min >= 0 && min < consumer.position(partition)) {
        log.info(
            "Rekeyer {} reads {} again from offset {} for a new repo", clientId, partition, min);
        consumer.seek(partition, min);
      }
    }
    Set<String> topics = byTopic.keySet();
    if (topics.equals(subscribed)) {
      return;
    }
    if (topics.isEmpty()) {
      consumer.unsubscribe();
    } else {
      consumer.subscribe(topics, new Rebalance());
    }
    log.info(
        "Rekeyer {} subscribed to {} source topics of {} repos",
        clientId,
        topics.size(),
        repos.names().size());
    subscribed = Set.copyOf(topics);
  }

  private List<RepoSpec> readersOf(TopicPartition partition) {
    return readers.getOrDefault(partition.topic(), List.of());
  }

  private void awaitRepos() {
    try {
      if (reposChanged.tryAcquire(POLL.toMillis(), TimeUnit.MILLISECONDS)) {
        reposChanged.release();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  private void abort() {
    if (inTransaction) {
      inTransaction = false;
      try {
        producer.abortTransaction();
      } catch (KafkaException e) {
        log.error("Rekeyer {} cannot abort; replacing its producer", clientId, e);
        replaceProducer();
      }
    }
    needsRewind = true;
  }

  /** Drops the producer; the loop makes a new one (initTransactions fences the old epoch). */
  private void replaceProducer() {
    inTransaction = false;
    needsRewind = true;
    if (producer == null) {
      return;
    }
    try {
      producer.close(Duration.ZERO);
    } catch (KafkaException e) {
      log.warn("Rekeyer {} producer did not close cleanly", clientId, e);
    }
    producer = null;
  }

  /** Back to the committed offsets: what the aborted transaction consumed is read again. */
  private void rewind() {
    load(consumer.assignment());
    needsRewind = false;
  }

  /** Sets the partitions' positions from their committed offsets and seeks the consumer there. */
  private void load(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(partitions));
    List<TopicPartition> fromStart = new ArrayList<>();
    for (TopicPartition partition : partitions) {
      OffsetAndMetadata offset = committed.get(partition);
      long seek = positions.load(partition, offset, readersOf(partition));
      if (offset == null) {
        fromStart.add(partition);
      } else {
        consumer.seek(partition, seek >= 0 ? seek : offset.offset());
      }
    }
    consumer.seekToBeginning(fromStart);
  }

  /** Stops the thread: a missing ACL is not transient, every attempt would fail the same way. */
  private void stopDenied(KafkaException e) {
    String reason = AccessDenied.explain(PartitionService.SERVICE, e).orElseThrow();
    failed = true;
    running = false;
    log.error("Rekeyer {} stopped: {}", clientId, reason, e);
    onDenied.accept(reason);
  }

  private void backOff(int attempt) {
    if (attempt >= MAX_ATTEMPTS) {
      failed = true;
      running = false;
      log.error("Rekeyer {} gives up after {} failed attempts in a row", clientId, attempt);
      return;
    }
    long millis = Math.min(MAX_BACKOFF.toMillis(), 100L << Math.min(attempt - 1, 10));
    try {
      stopping.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  private Producer<byte[], byte[]> newProducer() {
    Producer<byte[], byte[]> p = producers.get();
    try {
      p.initTransactions();
    } catch (RuntimeException e) {
      p.close(Duration.ZERO);
      throw e;
    }
    return p;
  }

  /** Stops the thread and waits for it to close its clients. */
  @Override
  public void close() {
    running = false;
    stopping.countDown();
    Consumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A new owner of a partition loads its positions (and so announces them); a former owner forgets
   * them.
   */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      positions.forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      load(partitions);
      if (!partitions.isEmpty()) {
        log.info("Rekeyer {} assigned {}", clientId, partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      positions.forget(partitions);
    }
  }

  /** Counts of one transaction, recorded only once it committed. */
  private static final class Tally {
    private final Map<String, Long> forwarded = new HashMap<>();
    private final Map<List<String>, Long> rejected = new HashMap<>();
    private final Map<String, Long> barriersSent = new HashMap<>();
    private final Map<String, Long> skipped = new HashMap<>();

    void add(String repo, RekeyRouter.Routing routing) {
      switch (routing.outcome()) {
        case FORWARDED -> forwarded.merge(repo, 1L, Long::sum);
        case REJECTED -> rejected.merge(List.of(repo, routing.reason()), 1L, Long::sum);
        case SKIPPED -> skipped.merge(repo, 1L, Long::sum);
      }
    }

    void barriers(String repo, int count) {
      barriersSent.merge(repo, (long) count, Long::sum);
    }

    void record(MeterRegistry registry) {
      forwarded.forEach(
          (repo, n) ->
              Counter.builder("tusk.rekeyer.rows.forwarded")
                  .description("Rows re-keyed to <repo>.by-member")
                  .tag("repo", repo)
                  .register(registry)
                  .increment(n));
      rejected.forEach(
          (key, n) ->
              Counter.builder("tusk.rekeyer.rows.rejected")
                  .description("Records sent to <repo>.rejected")
                  .tag("repo", key.get(0))
                  .tag("reason", key.get(1))
                  .register(registry)
                  .increment(n));
      skipped.forEach(
          (repo, n) ->
              Counter.builder("tusk.rekeyer.records.skipped")
                  .description(
                      "Records with nothing to apply: CSV header lines, Debezium tombstones,"
                          + " roll markers")
                  .tag("repo", repo)
                  .register(registry)
                  .increment(n));
      barriersSent.forEach(
          (repo, n) ->
              Counter.builder("tusk.rekeyer.barriers.sent")
                  .description("Barrier records written to <repo>.by-member")
                  .tag("repo", repo)
                  .register(registry)
                  .increment(n));
    }
  }
}
