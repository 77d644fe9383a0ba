package io.tusk.localstack;

import java.nio.file.Path;

/**
 * A child JVM for {@link LocalStackFailureIT}: starts a registry, then a broker whose controller
 * port is taken (as when another process takes it between the port check and the bind), on which
 * Kafka halts the JVM. Arguments: the home directory and the taken port.
 */
public final class HaltingKafkaMain {
  private HaltingKafkaMain() {}

  public static void main(String[] args) {
    Path home = Path.of(args[0]);
    int takenPort = Integer.parseInt(args[1]);
    EmbeddedRegistry registry = EmbeddedRegistry.start(home.resolve("registry"), 0);
    System.out.println("registry pid " + registry.pid());
    EmbeddedKafka.start(home.resolve("kafka"), 0, takenPort);
    System.out.println("Kafka started on a taken port");
  }
}
