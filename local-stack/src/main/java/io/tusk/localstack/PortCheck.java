package io.tusk.localstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Map;
import java.util.Objects;

/**
 * Checks that the fixed ports a local run wants on 127.0.0.1 are free before anything starts, so a
 * taken port is one clear line instead of a failure deep inside Kafka (whose controller terminates
 * the JVM when it cannot bind) after other parts have started.
 */
public final class PortCheck {

  private PortCheck() {}

  /**
   * Fails on the first port of {@code portsByUser} (in its iteration order) that cannot be bound on
   * 127.0.0.1; 0 (any free port) is skipped. Binds as the servers do (address reuse on), so a port
   * only in TIME_WAIT counts as free and one with a listener, on any address, as taken.
   *
   * @param portsByUser each port by what wants it, e.g. "Kafka" to 9092
   * @throws IllegalStateException naming the port and what wanted it
   */
  public static void requireFree(Map<String, Integer> portsByUser) {
    Objects.requireNonNull(portsByUser, "portsByUser");
    portsByUser.forEach(
        (user, port) -> {
          if (port != 0 && !isFree(port)) {
            throw new IllegalStateException(
                "port "
                    + port
                    + " ("
                    + user
                    + ") is already in use on 127.0.0.1: stop what holds it (another `tusk up`"
                    + " or `tusk demo`?) and try again");
          }
        });
  }

  private static boolean isFree(int port) {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
