package io.tusk.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real bash that has sourced {@code tusk completion bash}, with a {@code tusk} on its PATH that
 * runs this JVM's classes: completes a command line as bash would on TAB and answers COMPREPLY.
 */
public final class CompletionShell {
  /** What bash ran after sourcing the script: the line's words, the last one being completed. */
  private static final String COMPLETE =
      """
      source "$0" || exit 3
      # compopt only works while bash runs a completion for real (on a TAB)
      compopt() { :; }
      COMP_WORDS=("$@")
      COMP_CWORD=$(( $# - 1 ))
      COMP_LINE="$*"
      COMP_POINT=${#COMP_LINE}
      COMPREPLY=()
      _tusk_complete tusk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
      printf '%s\\n' "${COMPREPLY[@]}"
      """;

  private final Path script;
  private final Path bin;
  private final Map<String, String> env;

  private CompletionShell(Path script, Path bin, Map<String, String> env) {
    this.script = script;
    this.bin = bin;
    this.env = env;
  }

  /** The replies to one completion, bash's error output and how long it took. */
  public record Completion(List<String> replies, String err, Duration took) {}

  /**
   * Writes the script and the {@code tusk} launcher into {@code dir}.
   *
   * @param env environment of the launched {@code tusk} (TUSK_COMMIT_URL, TUSK_TOKEN, ...)
   */
  public static CompletionShell in(Path dir, Map<String, String> env) throws IOException {
    StringWriter script = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Tusk.commandLine()
            .setOut(new PrintWriter(script, true))
            .setErr(new PrintWriter(err, true))
            .execute("completion", "bash");
    if (code != 0) {
      throw new IllegalStateException("tusk completion bash failed: " + err);
    }
    Path scriptFile = Files.writeString(dir.resolve("tusk_completion.bash"), script.toString());
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path launcher =
        Files.writeString(
            bin.resolve("tusk"),
            "#!/bin/sh\nexec '%s' -cp '%s' io.tusk.cli.Tusk \"$@\"\n"
                .formatted(
                    Paths.get(System.getProperty("java.home"), "bin", "java"),
                    System.getProperty("java.class.path")));
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("TUSK_HOME", dir.resolve("home").toString());
    all.putIfAbsent("TUSK_CONFIG", dir.resolve("no-config.json").toString());
    return new CompletionShell(scriptFile, bin, all);
  }

  /** Completes {@code words} (starting with "tusk"; the last is the word under the cursor). */
  public Completion complete(String... words) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("bash", "-c", COMPLETE, script.toString()));
    command.addAll(List.of(words));
    ProcessBuilder builder = new ProcessBuilder(command);
    // The user's own TUSK_* settings must not leak into what the test decides.
    builder.environment().keySet().removeIf(name -> name.startsWith("TUSK_"));
    builder.environment().putAll(env);
    builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    long start = System.nanoTime();
    Process bash = builder.start();
    // The outputs are small (names, errors), so reading one then the other cannot block bash.
    String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(bash.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!bash.waitFor(60, TimeUnit.SECONDS)) {
      bash.destroyForcibly();
      throw new IllegalStateException("bash did not end completing " + List.of(words));
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    if (bash.exitValue() != 0) {
      throw new IllegalStateException("bash exited " + bash.exitValue() + ": " + err);
    }
    List<String> replies = out.lines().filter(line -> !line.isEmpty()).toList();
    return new Completion(replies, err, took);
  }
}
