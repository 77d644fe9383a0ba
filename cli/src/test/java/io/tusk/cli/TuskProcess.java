package io.tusk.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code tusk} run as a user runs it, in its own JVM (this JVM's classes) with its own environment:
 * for what only the environment decides (TUSK_CONFIG, TUSK_COMMIT_URL, ...).
 */
public final class TuskProcess {
  private TuskProcess() {}

  /** One run: exit code, standard output, standard error. */
  public record Run(int code, String out, String err) {}

  /** Runs {@code tusk ARGS} with {@code env} added to this JVM's environment. */
  public static Run run(Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.tusk.cli.Tusk"));
    command.addAll(List.of(args));
    Path out = Files.createTempFile("tusk-out-", ".txt");
    Path err = Files.createTempFile("tusk-err-", ".txt");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      // The user's own TUSK_* settings must not leak into what the test decides.
      builder.environment().keySet().removeIf(name -> name.startsWith("TUSK_"));
      builder.environment().putAll(env);
      Process tusk = builder.start();
      if (!tusk.waitFor(60, TimeUnit.SECONDS)) {
        tusk.destroyForcibly();
        throw new IllegalStateException("tusk " + List.of(args) + " did not end in 60 s");
      }
      return new Run(
          tusk.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
