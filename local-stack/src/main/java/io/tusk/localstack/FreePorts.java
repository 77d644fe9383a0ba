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

  /**
   * Reserves {@code port} (0: a free loopback port) for a server in this JVM that binds it later,
   * after other work that opens connections: the port stays bound until {@link Reservation#close},
   * so neither another listener nor an outgoing connection's local port can take it meanwhile
   * (Linux never gives a connection a local port some socket is bound to). Close it right before
   * the real bind. A non-zero port is only passed through.
   */
  public static Reservation reserve(int port) {
    if (port != 0) {
      return new Reservation(resolve(port)[0], null);
    }
    try {
      ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
      return new Reservation(socket.getLocalPort(), socket);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not find a free port on 127.0.0.1", e);
    }
  }

  /** A port held until closed (see {@link #reserve}). */
  public static final class Reservation implements AutoCloseable {
    private final int port;
    private final ServerSocket socket;

    private Reservation(int port, ServerSocket socket) {
      this.port = port;
      this.socket = socket;
    }

    /** The reserved port. */
    public int port() {
      return port;
    }

    /** Releases the port for its server; idempotent. */
    @Override
    public void close() {
      if (socket == null) {
        return;
      }
      try {
        socket.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Could not release reserved port " + port, e);
      }
    }
  }
}
