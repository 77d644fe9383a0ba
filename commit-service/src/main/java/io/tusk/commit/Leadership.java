package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.CommitLeader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which commit service instance leads, decided by Kafka: every instance is a member of the consumer
 * group {@code tusk-commit-leader} subscribed to the one-partition topic {@code
 * tusk.commit-leader}, and the member assigned that partition leads. Only the leader writes (seals,
 * branch moves, job requests, specs, output commits, triggers, erasure sweeps); the others answer
 * reads from their views and forward writes to it ({@link LeaderForwarding}).
 *
 * <p>Taking the lead, in order: {@link CommitSealer#activate} (the one transactional ID fences the
 * previous leader and aborts its open transaction), then the views are synced to the end of their
 * topics (so the next seal's parent is the last commit anyone sealed), then the leader record is
 * written in a sealing transaction and the leader's {@link Duties} start. Losing the partition (a
 * rebalance, or the session timing out while this process was paused) stops the duties and the
 * sealer first. When the leader dies, the group gives the partition to another member within the
 * session timeout ({@link #SESSION_TIMEOUT}).
 */
final class Leadership implements AutoCloseable {
  static final String GROUP_ID = "tusk-commit-leader";

  /** How long a silent leader keeps the lead: the longest sealing stops when its machine dies. */
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(Leadership.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(60);

  /** What only the leader runs; {@link #take} after the sealer is active, {@link #drop} before. */
  interface Duties {
    void take();

    void drop();
  }

  private final String instance;
  private volatile String url;
  private final CommitSealer sealer;
  private final CompactedTopicView<CommitLeader> leaders;
  private final BooleanSupplier syncViews;
  private final Duties duties;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final CountDownLatch firstAssignment = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile boolean rejoin;
  private volatile boolean leading;
  private volatile RuntimeException failure;
  private volatile Consumer<String> onFailure = reason -> {};

  /**
   * @param leaders the view of {@code tusk.commit-leader}
   * @param syncViews syncs the views a seal reads to the end of their topics; false on timeout
   */
  Leadership(
      KafkaSettings settings,
      CommitSealer sealer,
      CompactedTopicView<CommitLeader> leaders,
      BooleanSupplier syncViews,
      Duties duties) {
    this.instance = settings.instanceId();
    this.sealer = Objects.requireNonNull(sealer, "sealer");
    this.leaders = Objects.requireNonNull(leaders, "leaders");
    this.syncViews = Objects.requireNonNull(syncViews, "syncViews");
    this.duties = Objects.requireNonNull(duties, "duties");
    String clientId = GROUP_ID + "-" + instance;
    Map<String, Object> props = settings.consumer(clientId, GROUP_ID);
    props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) SESSION_TIMEOUT.toMillis());
    props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) SESSION_TIMEOUT.toMillis() / 5);
    this.consumer = new KafkaConsumer<>(props);
    this.thread = new Thread(this::run, clientId);
    this.thread.setDaemon(true);
    // Fenced although this instance still holds the partition as far as it knows: ask the group.
    // Re-leading without asking would fence the instance the group elected meanwhile.
    sealer.onFenced(() -> rejoin = true);
  }

  /**
   * Joins the election; {@link #awaitSettled} waits for its outcome.
   *
   * @param url where the other instances reach this one's API
   */
  void start(String url) {
    this.url = Objects.requireNonNull(url, "url");
    consumer.subscribe(List.of(TopicNames.COMMIT_LEADER), new Listener());
    thread.start();
  }

  /** Tells {@code listener} why this instance cannot lead although elected (it then stops). */
  void onFailure(Consumer<String> listener) {
    this.onFailure = listener;
  }

  /**
   * True while this instance leads: its duties run and its sealer is active (a fenced sealer stops
   * at once, the duties when the group confirms another leader).
   */
  boolean leading() {
    return leading && sealer.isActive();
  }

  /** The instance that leads, as it recorded itself; empty before any instance led. */
  Optional<CommitLeader> leader() {
    return leaders.get(CommitSealer.LEADER_KEY);
  }

  /** This instance's ID. */
  String instance() {
    return instance;
  }

  /** Where the other instances reach this one. */
  String url() {
    return url;
  }

  /** True while the election runs on this instance and it did not fail to lead. */
  boolean isHealthy() {
    return thread.isAlive() && failure == null;
  }

  /**
   * Waits until the group assigned the partition for the first time (to this instance or another),
   * and then until this instance leads or the leader on record listens: a record left by an
   * instance that stopped names an address nobody answers at, and writes forwarded there would
   * fail, until the instance the group chose has taken the lead and recorded itself.
   *
   * @throws KafkaException the reason this instance could not lead, when it failed to
   */
  void awaitSettled(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      if (!firstAssignment.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("No leader election outcome within {}; answering anyway", timeout);
      }
      while (failure == null
          && !leading()
          && !leader().map(Leadership::listens).orElse(false)
          && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** True when something accepts connections at the leader's recorded address. */
  private static boolean listens(CommitLeader leader) {
    try {
      URI url = URI.create(leader.getUrl());
      int port = url.getPort() >= 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(url.getHost(), port), 1_000);
        return true;
      }
    } catch (IOException | IllegalArgumentException e) {
      return false;
    }
  }

  private void run() {
    try {
      while (running) {
        consumer.poll(POLL);
        if (rejoin) {
          rejoin = false;
          log.info("Instance {} was fenced; asking the group who leads", instance);
          consumer.enforceRebalance("sealer fenced");
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      failed(e);
    } finally {
      resign();
      consumer.close(Duration.ofSeconds(5));
      firstAssignment.countDown();
    }
  }

  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Called after every rebalance (with only the newly assigned partitions, often none): this
      // instance leads when the group says it holds the partition and its sealer is not active
      // (first assignment, or fenced by a rival the group no longer backs).
      if (!consumer.assignment().isEmpty() && !sealer.isActive()) {
        lead();
      }
      firstAssignment.countDown();
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        resign();
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        log.warn("Instance {} lost the lead without a rebalance (session timed out)", instance);
        resign();
      }
    }
  }

  private void lead() {
    long started = System.nanoTime();
    sealer.activate();
    if (!syncViews.getAsBoolean()) {
      sealer.deactivate();
      throw new KafkaException(
          "elected, but the views did not reach the end of their topics within " + SYNC_TIMEOUT);
    }
    sealer.announceLeader(
        CommitLeader.newBuilder()
            .setInstance(instance)
            .setUrl(url)
            .setSince(System.currentTimeMillis())
            .build());
    leaders.sync(SYNC_TIMEOUT);
    if (!leading) {
      duties.take();
      leading = true;
    }
    log.info(
        "Instance {} leads the commit service (took {} ms)",
        instance,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  private void resign() {
    if (!leading) {
      sealer.deactivate();
      return;
    }
    leading = false;
    try {
      duties.drop();
    } finally {
      sealer.deactivate();
    }
    log.info("Instance {} no longer leads the commit service", instance);
  }

  private void failed(RuntimeException e) {
    failure = e;
    log.error("Instance {} cannot take part in the leader election", instance, e);
    onFailure.accept("leader election: " + e.getMessage());
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(15_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
