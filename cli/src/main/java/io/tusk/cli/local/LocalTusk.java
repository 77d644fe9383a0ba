package io.tusk.cli.local;

import io.tusk.cli.TuskClient;
import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.LocalStack;
import io.tusk.localstack.PortCheck;
import java.nio.file.Path;
import java.util.Map;

/**
 * All of Tusk on one machine, in this JVM: a real KRaft broker and Apicurio registry (LocalStack)
 * and the four services, with every piece of data under one home directory.
 */
public final class LocalTusk implements AutoCloseable {
  private final LocalStack stack;
  private final TuskServices services;

  private LocalTusk(LocalStack stack, TuskServices services) {
    this.stack = stack;
    this.services = services;
  }

  /** Starts the stack and the services; processors run per pipeline, {@code processors} each. */
  public static LocalTusk start(Path home, Ports ports, int processors) {
    return start(home, ports, processors, true);
  }

  /**
   * As {@link #start(Path, Ports, int)}, optionally without the partition service. Every fixed port
   * is checked before anything starts; a failure later stops whatever had started (the registry's
   * child JVM included) before it is thrown.
   *
   * @throws IllegalStateException naming the port and what wanted it, if a fixed port is taken
   */
  public static LocalTusk start(
      Path home, Ports ports, int processors, boolean withPartitionService) {
    return start(home, ports, processors, withPartitionService, false);
  }

  /**
   * As {@link #start(Path, Ports, int, boolean)}, with the lineage service in a JVM of its own if
   * {@code lineageInOwnJvm} (see {@link TuskServices#start(String, String, Path, Ports, int,
   * boolean, java.util.Map, boolean)}).
   */
  public static LocalTusk start(
      Path home,
      Ports ports,
      int processors,
      boolean withPartitionService,
      boolean lineageInOwnJvm) {
    PortCheck.requireFree(ports.byUser());
    LocalStack stack = LocalStack.start(home, ports.stack());
    try {
      return new LocalTusk(
          stack,
          TuskServices.start(
              stack.bootstrapServers(),
              stack.registryUrl(),
              home,
              ports,
              processors,
              withPartitionService,
              Map.of(),
              lineageInOwnJvm));
    } catch (RuntimeException | Error e) {
      stack.close();
      throw e;
    }
  }

  public String bootstrapServers() {
    return stack.bootstrapServers();
  }

  public String registryUrl() {
    return stack.registryUrl();
  }

  public String commitUrl() {
    return services.commitUrl();
  }

  public String lineageUrl() {
    return services.lineageUrl();
  }

  /** A client of this stack's commit and lineage services. */
  public TuskClient client() {
    return services.client();
  }

  /** Settings of Kafka clients of this stack; {@code instanceId} names their clients. */
  public KafkaSettings kafkaSettings(String instanceId) {
    return KafkaSettings.of(bootstrapServers(), registryUrl(), instanceId);
  }

  /** The local admin's token (also in {@code <home>/token}). */
  public String adminToken() {
    return services.auth().adminToken();
  }

  /** The partition service's HTTP port (members, diff, health). */
  public int partitionPort() {
    return services.partitionPort();
  }

  /** The datum processors of every pipeline (to stop and start them). */
  public ProcessorSupervisor processors() {
    return services.processors();
  }

  public Path home() {
    return stack.home();
  }

  @Override
  public void close() {
    services.close();
    stack.close();
  }
}
