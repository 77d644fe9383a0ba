package io.tusk.cli.local;

import io.tusk.localstack.LocalStack;
import io.tusk.localstack.PortCheck;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ports of a local Tusk: the broker's and the registry's (see LocalStack) and the services'
 * HTTP ports. 0 means "any free port".
 */
public record Ports(
    int kafka,
    int controller,
    int registry,
    int commitService,
    int lineageService,
    int partitionService) {

  /**
   * The documented local ports: Kafka 9092, registry 8081, commit 8080, lineage 8082, partition
   * 8083.
   */
  public static Ports defaults() {
    return new Ports(9092, 9093, 8081, 8080, 8082, 8083);
  }

  /** Free ports everywhere (tests, benchmarks). */
  public static Ports ephemeral() {
    return new Ports(0, 0, 0, 0, 0, 0);
  }

  /** The stack's ports (see LocalStack). */
  public LocalStack.Ports stack() {
    return new LocalStack.Ports(kafka, controller, registry);
  }

  /** Each port by what wants it, the stack's first, for {@link PortCheck}. */
  public Map<String, Integer> byUser() {
    Map<String, Integer> ports = new LinkedHashMap<>(stack().byUser());
    ports.put("the commit service", commitService);
    ports.put("the lineage service", lineageService);
    ports.put("the partition service", partitionService);
    return ports;
  }
}
