package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class FreePortsTest {
  @Test
  void shouldHoldAReservedPortUntilItIsReleasedForItsServer() throws Exception {
    // Given a reserved free port
    int port;
    try (FreePorts.Reservation reservation = FreePorts.reserve(0)) {
      port = reservation.port();
      assertThat(port).isPositive();

      // Then no other server can bind it while it is held
      assertThatThrownBy(() -> bind(port)).isInstanceOf(BindException.class);
    }

    // And once released, its server binds it
    try (ServerSocket server = bind(port)) {
      assertThat(server.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void shouldPassAFixedPortThroughWithoutHoldingIt() throws Exception {
    // Given a fixed port that is free
    int fixed;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      fixed = probe.getLocalPort();
    }

    // When it is reserved, then it is that port and stays free for its server
    try (FreePorts.Reservation reservation = FreePorts.reserve(fixed);
        ServerSocket server = bind(fixed)) {
      assertThat(reservation.port()).isEqualTo(fixed);
      assertThat(server.getLocalPort()).isEqualTo(fixed);
    }
  }

  private static ServerSocket bind(int port) throws Exception {
    ServerSocket socket = new ServerSocket();
    try {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return socket;
    } catch (Exception e) {
      socket.close();
      throw e;
    }
  }
}
