package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's first command as a user runs it: the packaged CLI (its jar and the classpath file
 * {@code ./tusk} uses) in its own JVM, {@code tusk demo}, end to end. Catches what the in-JVM tests
 * cannot: a dependency missing from the runtime classpath, a command that does not exit.
 */
@Tag("integration")
class TuskCommandIT {
  private static final Path ROOT =
      Paths.get(System.getProperty("tusk.root", "..")).toAbsolutePath();

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void shouldRunTheDemoWhenStartedAsTheReadmeSays() throws Exception {
    // Given the packaged CLI and an empty home for its stack
    Path target = ROOT.resolve("cli/target");
    String classpath =
        target.resolve("cli-0.1.0-SNAPSHOT.jar")
            + java.io.File.pathSeparator
            + Files.readString(target.resolve("tusk-classpath.txt")).strip();
    Path home = Files.createTempDirectory(target, "tusk-home-");
    Path log = target.resolve("tusk-demo-it.log");

    // When `tusk demo` runs in its own JVM
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx2g",
                    "-Dtusk.root=" + ROOT,
                    "-cp",
                    classpath,
                    "io.tusk.cli.Tusk",
                    "demo"))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("TUSK_HOME", home.toString());
    Process demo = builder.start();
    boolean ended = demo.waitFor(14, TimeUnit.MINUTES);
    if (!ended) {
      demo.destroyForcibly();
    }
    String output = read(log);

    // Then it ends on its own, successfully, having shown the incremental job and the lineage
    assertThat(ended).as("tusk demo ended; output:%n%s", output).isTrue();
    assertThat(demo.exitValue()).as("exit status; output:%n%s", output).isZero();
    assertThat(output)
        .contains("[7/7] Lineage of gibleed-insights's output")
        .contains("processed 39 / skipped 2,655")
        .contains("Done: job 2 processed 39 of 2,694 members");
  }

  private static String read(Path log) throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }
}
