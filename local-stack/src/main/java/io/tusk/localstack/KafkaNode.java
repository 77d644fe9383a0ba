package io.tusk.localstack;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One node of a {@link KafkaCluster}: Kafka's own main class in a process of its own, on its data
 * directory and ports across restarts.
 */
public final class KafkaNode {
  /** Heap of a node: the test cluster's topics are small. */
  private static final List<String> JVM_FLAGS = List.of("-Xmx768m", "-XX:+UseSerialGC");

  private final int id;
  private final int port;
  private final JavaProcess process;

  KafkaNode(int id, int port, Path properties, Path log) {
    this.id = id;
    this.port = port;
    this.process =
        new JavaProcess("kafka.Kafka", List.of(properties.toString()), JVM_FLAGS, Map.of(), log);
  }

  /** The node ID (also its KRaft voter ID). */
  public int id() {
    return id;
  }

  /** Its client address, {@code 127.0.0.1:<port>}. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  /** Starts the node on its data and ports (it recovers its log as after a crash). */
  public void start() {
    process.start();
  }

  /** Kills the node with SIGKILL: no controlled shutdown, as when its machine is lost. */
  public void kill() {
    process.kill();
  }

  /** Pauses the node with SIGSTOP: it holds its connections but answers nothing. */
  public void pause() {
    process.pause();
  }

  /** Lets a paused node run on. */
  public void resume() {
    process.resume();
  }

  /** True while its process runs. */
  public boolean alive() {
    return process.alive();
  }

  /** Its log file. */
  public Path log() {
    return process.log();
  }
}
