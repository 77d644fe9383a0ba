package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code tusk up} (and everything that starts a local Tusk) with a port taken: one line naming the
 * port and what wanted it, before anything starts, and no child process left.
 */
class UpCommandTest {

  @Test
  void shouldFailWithOneLineNamingThePortWhenKafkasPortIsTaken() throws Exception {
    // Given Kafka's port 9092 taken: held here, or already held by another program
    try (ServerSocket held = holdIfFree(9092)) {
      // When `tusk up` runs
      StringWriter err = new StringWriter();
      CommandLine tusk = Tusk.commandLine();
      tusk.setErr(new PrintWriter(err, true));
      int status = tusk.execute("up");

      // Then it fails with one line naming the port and what wanted it
      assertThat(status).isEqualTo(1);
      assertThat(err.toString().strip())
          .startsWith("tusk: port 9092 (Kafka) is already in use on 127.0.0.1")
          .doesNotContain("\n");

      // And it started no process (the registry is a child JVM)
      assertThat(ProcessHandle.current().descendants()).isEmpty();
    }
  }

  @Test
  void shouldStartNothingWhenAServicePortIsTaken(@TempDir Path dir) throws Exception {
    // Given a port taken, asked for as the lineage service's
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Path home = dir.resolve("home");

      // When a local Tusk starts
      // Then it fails naming the port and the service, before the stack wrote anything
      assertThatThrownBy(() -> LocalTusk.start(home, new Ports(0, 0, 0, 0, port, 0), 1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("port " + port + " (the lineage service) is already in use");
      assertThat(home).doesNotExist();
      assertThat(ProcessHandle.current().descendants()).isEmpty();
    }
  }

  /** A socket holding {@code port} on 127.0.0.1, or null if another program holds it already. */
  private static ServerSocket holdIfFree(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    try {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return socket;
    } catch (IOException e) {
      socket.close();
      return null;
    }
  }
}
