package io.tusk.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Resolves "0 = any free port" to concrete loopback ports before a server binds them. */
public final class FreePorts {

  private FreePorts() {}

  /**
   * Returns {@code ports} with every 0 replaced by a free port on 127.0.0.1.
   *
   * <p>All probe sockets stay open until every port is chosen, so two zeros never get the same
   * port. A port can still be taken by another process between this call and the real bind; that
   * race is accepted (it shows up as a clear bind error).
   */
  public static int[] resolve(int... ports) {
    List<ServerSocket> probes = new ArrayList<>();
    try {
      int[] resolved = new int[ports.length];
      for (int i = 0; i < ports.length; i++) {
        if (ports[i] < 0 || ports[i] > 65535) {
          throw new IllegalArgumentException("port out of range: " + ports[i]);
        }
        if (ports[i] != 0) {
          resolved[i] = ports[i];
          continue;
        }
        ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        probes.add(probe);
        resolved[i] = probe.getLocalPort();
      }
      return resolved;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not find a free port on 127.0.0.1", e);
    } finally {
      for (ServerSocket probe : probes) {
        try {
          probe.close();
        } catch (IOException e) {
          throw new UncheckedIOException("Could not release probe port " + probe.getLocalPort(), e);
        }
      }
    }
  }
}
