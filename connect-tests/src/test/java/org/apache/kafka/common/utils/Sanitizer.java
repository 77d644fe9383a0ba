package org.apache.kafka.common.utils;

/**
 * A bridge for Debezium 3.6.1 on Kafka Connect 4.4.0, test classpath only: Debezium's metrics call
 * {@code org.apache.kafka.common.utils.Sanitizer}, which Kafka 4.4 moved to {@code
 * org.apache.kafka.common.utils.internals.Sanitizer}; without this class the connector's task dies
 * with {@code NoClassDefFoundError} when it registers its metrics. A Connect worker of a user needs
 * the same bridge on its classpath, or the Kafka Connect version Debezium's release names.
 */
public final class Sanitizer {
  private Sanitizer() {}

  public static String sanitize(String name) {
    return org.apache.kafka.common.utils.internals.Sanitizer.sanitize(name);
  }

  public static String desanitize(String name) {
    return org.apache.kafka.common.utils.internals.Sanitizer.desanitize(name);
  }

  public static String jmxSanitize(String name) {
    return org.apache.kafka.common.utils.internals.Sanitizer.jmxSanitize(name);
  }
}
