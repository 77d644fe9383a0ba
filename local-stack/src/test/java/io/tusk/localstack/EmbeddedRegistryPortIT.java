package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A port found free can be taken by another process before the registry binds it (CI once lost a
 * run to this): a port the registry chose itself is chosen again; a port the caller fixed is not.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EmbeddedRegistryPortIT {

  @Test
  void shouldStartOnNewPortsWhenAPortItChoseIsTakenFirst(@TempDir Path dir) throws Exception {
    // Given a port held by another program, which the first free-port lookup hands out anyway
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      AtomicInteger lookups = new AtomicInteger();

      // When the registry is started on any free port
      try (EmbeddedRegistry registry =
          EmbeddedRegistry.start(
              dir.resolve("registry"),
              0,
              ports -> {
                int[] free = FreePorts.resolve(ports);
                if (lookups.getAndIncrement() == 0) {
                  free[0] = taken.getLocalPort(); // the HTTP port
                }
                return free;
              })) {

        // Then it started on the second lookup's ports
        assertThat(lookups).hasValue(2);
        assertThat(registry.port()).isNotEqualTo(taken.getLocalPort());
        assertThat(ProcessHandle.of(registry.pid()).filter(ProcessHandle::isAlive)).isPresent();
      }
    }
  }

  @Test
  void shouldFailNamingTheFixedPortWhenItIsTaken(@TempDir Path dir) throws Exception {
    // Given a port held by another program
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      AtomicInteger lookups = new AtomicInteger();

      // When the registry is started on exactly that port
      // Then it fails once, naming the port, without trying other ports
      assertThatThrownBy(
              () ->
                  EmbeddedRegistry.start(
                      dir.resolve("registry"),
                      port,
                      ports -> {
                        lookups.incrementAndGet();
                        return FreePorts.resolve(ports);
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Port " + port + " seems to be in use");
      assertThat(lookups).hasValue(1);
    }
  }
}
