package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local stack that cannot start leaves nothing running: a taken fixed port is refused before
 * anything starts, with one line naming it; and when Kafka halts its JVM (a port taken between the
 * check and the bind), the registry's child JVM is stopped first. Runs its own stacks.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LocalStackFailureIT {
  private static final Pattern REGISTRY_PID = Pattern.compile("registry pid (\\d+)");

  @Test
  void shouldNameThePortAndStartNothingWhenAFixedPortIsTaken(@TempDir Path dir) throws Exception {
    // Given a port held by another program
    Path home = dir.resolve("stack");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();

      // When a stack is started with that port for the Kafka controller
      // Then it fails with one line naming the port and what wanted it
      assertThatThrownBy(() -> LocalStack.start(home, new LocalStack.Ports(0, port, 0)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("port " + port + " (the Kafka controller) is already in use")
          .hasMessageNotContaining("\n");
    }

    // And nothing was started: no data written, no registry of this home running
    assertThat(home).doesNotExist();
    assertThat(registriesOf(home)).isEmpty();
  }

  @Test
  void shouldStopTheRegistryWhenKafkaHaltsTheJvm(@TempDir Path home) throws Exception {
    // Given a port held by another program
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // When a JVM starts a registry, then a broker whose controller port is that one
      Path output = home.resolve("child.log");
      Process child =
          new ProcessBuilder(
                  List.of(
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "-cp",
                      System.getProperty("java.class.path"),
                      HaltingKafkaMain.class.getName(),
                      home.toString(),
                      Integer.toString(taken.getLocalPort())))
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      boolean ended = child.waitFor(150, TimeUnit.SECONDS);
      if (!ended) {
        child.destroyForcibly();
      }
      String log = Files.readString(output, StandardCharsets.UTF_8);

      // Then Kafka halted that JVM, after the registry had started
      assertThat(ended).as("child ended; output:%n%s", log).isTrue();
      assertThat(child.exitValue()).as("exit status; output:%n%s", log).isNotZero();
      assertThat(log).doesNotContain("Kafka started on a taken port");
      Matcher pid = REGISTRY_PID.matcher(log);
      assertThat(pid.find()).as("registry started; output:%n%s", log).isTrue();

      // And the registry's JVM did not outlive it
      assertThat(ProcessHandle.of(Long.parseLong(pid.group(1))).filter(ProcessHandle::isAlive))
          .as("registry process; output:%n%s", log)
          .isEmpty();
      assertThat(registriesOf(home)).isEmpty();
    } finally {
      // A failing run must not leave its registry behind either.
      registriesOf(home).forEach(ProcessHandle::destroyForcibly);
    }
  }

  /** Live processes whose command line names {@code home}: a registry started on it. */
  private static List<ProcessHandle> registriesOf(Path home) {
    String path = home.toAbsolutePath().toString() + File.separator;
    return ProcessHandle.allProcesses()
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(line -> line.contains(path)).orElse(false))
        .filter(p -> p.pid() != ProcessHandle.current().pid())
        .toList();
  }
}
