package io.tusk.localstack;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka cluster of several KRaft nodes (each a combined broker and controller), every node a
 * process of its own on 127.0.0.1, as a cluster runs on machines that fail one by one: a node can
 * be killed with SIGKILL, paused with SIGSTOP and started again on its data and ports. Topics are
 * replicated to three nodes with {@code min.insync.replicas=2} (fewer where the cluster is
 * smaller), the internal topics of groups and transactions too, so the cluster serves every client
 * while one node is down.
 *
 * <p>For tests and {@code tusk chaos}: a node runs Kafka's own main class ({@code kafka.Kafka}) on
 * this JVM's class path.
 */
public final class KafkaCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaCluster.class);
  private static final Duration READY = Duration.ofMinutes(2);
  private static final Duration ATTEMPT = Duration.ofSeconds(5);
  private static final String CONTROLLER_LISTENER = "CONTROLLER";

  private final List<KafkaNode> nodes;

  private KafkaCluster(List<KafkaNode> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /**
   * Formats (unless formatted before) and starts {@code size} nodes under {@code dir}, each logging
   * to {@code <dir>/node-<id>.log}, and returns once every node is registered.
   *
   * @throws IllegalStateException if the cluster is not ready within two minutes
   */
  public static KafkaCluster start(Path dir, int size) {
    if (size < 1) {
      throw new IllegalArgumentException("a cluster needs at least one node: " + size);
    }
    Path home = dir.toAbsolutePath();
    int[] ports = FreePorts.resolve(new int[size * 2]);
    String voters =
        IntStream.range(0, size)
            .mapToObj(i -> (i + 1) + "@127.0.0.1:" + ports[size + i])
            .collect(Collectors.joining(","));
    String clusterId = Uuid.randomUuid().toString();
    int replicas = Math.min(3, size);
    int minInSync = Math.max(1, replicas - 1);
    List<KafkaNode> nodes = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      int id = i + 1;
      Path data = home.resolve("node-" + id);
      Properties properties =
          nodeProperties(data, id, ports[i], ports[size + i], voters, replicas, minInSync);
      EmbeddedKafka.formatIfNeeded(data, id, clusterId);
      Path file = write(properties, home.resolve("node-" + id + ".properties"));
      nodes.add(new KafkaNode(id, ports[i], file, home.resolve("node-" + id + ".log")));
    }
    KafkaCluster cluster = new KafkaCluster(nodes);
    try {
      for (KafkaNode node : nodes) {
        node.start();
      }
      cluster.awaitRegistered(nodes.stream().map(KafkaNode::id).collect(Collectors.toSet()), READY);
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
    LOG.info("Kafka cluster of {} nodes ready on {}", size, cluster.bootstrapServers());
    return cluster;
  }

  /** Every node's client address, comma separated. */
  public String bootstrapServers() {
    return nodes.stream().map(KafkaNode::address).collect(Collectors.joining(","));
  }

  /** The nodes, by ID order (IDs start at 1). */
  public List<KafkaNode> nodes() {
    return nodes;
  }

  /**
   * Waits until the nodes {@code ids} are registered with the controller and no partition of any
   * topic has fewer in-sync replicas than replicas: a node started again has caught up.
   *
   * @throws IllegalStateException if that does not happen within {@code deadline}
   */
  public void awaitInSync(Collection<Integer> ids, Duration deadline) {
    awaitRegistered(Set.copyOf(ids), deadline);
    awaitReplicasInSync(admin -> get(admin.listTopics().names()), deadline);
  }

  /**
   * Waits until every partition of {@code topics} has all its replicas in sync. A topic just
   * created reaches the brokers' metadata one after the other, so a broker may call it unknown for
   * a moment: that is waited out too.
   *
   * @throws IllegalStateException if that does not happen within {@code deadline}
   */
  public void awaitTopicsInSync(Collection<String> topics, Duration deadline) {
    Set<String> named = Set.copyOf(topics);
    awaitReplicasInSync(admin -> named, deadline);
  }

  /** The topics a check covers, read with the check's admin client. */
  @FunctionalInterface
  private interface TopicSelection {
    Set<String> of(Admin admin) throws ExecutionException, TimeoutException;
  }

  private void awaitReplicasInSync(TopicSelection selection, Duration deadline) {
    long end = System.nanoTime() + deadline.toNanos();
    Exception last = null;
    try (Admin admin = admin()) {
      while (System.nanoTime() < end) {
        try {
          Map<String, TopicDescription> described =
              get(admin.describeTopics(selection.of(admin)).allTopicNames());
          boolean caughtUp =
              described.values().stream()
                  .flatMap(t -> t.partitions().stream())
                  .allMatch(p -> p.isr().size() >= p.replicas().size());
          if (caughtUp) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e;
        }
        pause();
      }
    }
    throw new IllegalStateException("Kafka cluster not in sync within " + deadline, last);
  }

  private void awaitRegistered(Set<Integer> ids, Duration deadline) {
    long end = System.nanoTime() + deadline.toNanos();
    Exception last = null;
    try (Admin admin = admin()) {
      while (System.nanoTime() < end) {
        try {
          Set<Integer> registered =
              get(admin.describeCluster().nodes()).stream()
                  .map(Node::id)
                  .collect(Collectors.toSet());
          if (registered.containsAll(ids)) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e;
        }
        for (KafkaNode node : nodes) {
          if (ids.contains(node.id()) && !node.alive()) {
            throw new IllegalStateException(
                "Kafka node " + node.id() + " exited; see " + node.log());
          }
        }
        pause();
      }
    }
    throw new IllegalStateException(
        "Kafka nodes " + ids + " not registered within " + deadline, last);
  }

  private Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            (int) ATTEMPT.toMillis(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            (int) ATTEMPT.toMillis()));
  }

  private static <T> T get(KafkaFuture<T> future) throws ExecutionException, TimeoutException {
    try {
      return future.get(ATTEMPT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the Kafka cluster", e);
    }
  }

  private static void pause() {
    try {
      TimeUnit.MILLISECONDS.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the Kafka cluster", e);
    }
  }

  /** Kills every node. */
  @Override
  public void close() {
    for (KafkaNode node : nodes) {
      node.kill();
    }
  }

  static Properties nodeProperties(
      Path data, int id, int port, int controllerPort, String voters, int replicas, int minInSync) {
    Properties p = EmbeddedKafka.brokerProperties(data, port, controllerPort);
    p.put("node.id", Integer.toString(id));
    p.put("controller.quorum.voters", voters);
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    String r = Integer.toString(replicas);
    String isr = Integer.toString(minInSync);
    p.put("default.replication.factor", r);
    p.put("min.insync.replicas", isr);
    p.put("offsets.topic.replication.factor", r);
    p.put("transaction.state.log.replication.factor", r);
    p.put("transaction.state.log.min.isr", isr);
    p.put("share.coordinator.state.topic.replication.factor", r);
    p.put("share.coordinator.state.topic.min.isr", isr);
    // A node started again leads its partitions again soon, so load spreads back after a kill.
    p.put("leader.imbalance.check.interval.seconds", "10");
    return p;
  }

  private static Path write(Properties properties, Path file) {
    try {
      Files.createDirectories(file.getParent());
      try (OutputStream out = Files.newOutputStream(file)) {
        properties.store(out, "one node of a Tusk test cluster");
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not write " + file, e);
    }
  }
}
