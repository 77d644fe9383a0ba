package io.tusk.cli.chaos;

import io.tusk.localstack.KafkaCluster;
import io.tusk.localstack.KafkaNode;
import java.time.Duration;
import java.util.List;

/** A node of the Kafka cluster as a victim: recovered once every partition is back in sync. */
final class BrokerVictim implements Victim {
  private final KafkaCluster cluster;
  private final KafkaNode node;

  BrokerVictim(KafkaCluster cluster, KafkaNode node) {
    this.cluster = cluster;
    this.node = node;
  }

  @Override
  public String name() {
    return "broker-" + node.id();
  }

  @Override
  public void kill() {
    node.kill();
  }

  @Override
  public void start() {
    node.start();
  }

  @Override
  public boolean alive() {
    return node.alive();
  }

  /** Waits until the node is registered again and no partition lacks an in-sync replica. */
  @Override
  public void awaitRecovered(Duration deadline) {
    if (!node.alive()) {
      throw new IllegalStateException(name() + " exited; see " + node.log());
    }
    cluster.awaitInSync(List.of(node.id()), deadline);
  }

  /**
   * Pauses the node with SIGSTOP for {@code pause} (past the broker session, so the controller
   * fences it and its partitions get other leaders), resumes it and says how long it took to be in
   * sync again.
   */
  String pause(Duration pause) throws InterruptedException {
    node.pause();
    try {
      Thread.sleep(pause.toMillis()); // the pause itself is the fault being injected
    } finally {
      node.resume();
    }
    long resumed = System.nanoTime();
    cluster.awaitInSync(List.of(node.id()), Duration.ofMinutes(2));
    return name()
        + " paused "
        + pause.toSeconds()
        + " s; in sync again "
        + (System.nanoTime() - resumed) / 1_000_000
        + " ms after the resume";
  }
}
