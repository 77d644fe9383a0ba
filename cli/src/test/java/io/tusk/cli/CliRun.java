package io.tusk.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One run of the {@code tusk} command in this JVM against running services: its exit code, what it
 * printed (to System.out or to picocli's writer) and its errors.
 */
public record CliRun(int code, String out, String err) {
  /** Log lines of the services running in the same JVM start with a time. */
  private static final Pattern LOG_LINE = Pattern.compile("\\d{2}:\\d{2}:\\d{2}\\.\\d{3} ");

  /**
   * Runs {@code tusk ARGS --commit-url .. --lineage-url ..} with {@code token} (empty: none given).
   * The services log to the same System.out while a command runs, so lines that start with a time
   * are left out of {@link #out}.
   */
  public static CliRun tusk(String commitUrl, String lineageUrl, String token, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--commit-url", commitUrl, "--lineage-url", lineageUrl));
    if (!token.isEmpty()) {
      all.addAll(List.of("--token", token));
    }
    StringWriter printed = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int code;
    synchronized (System.class) {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      try {
        code =
            Tusk.commandLine()
                .setOut(new PrintWriter(printed, true))
                .setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
      } finally {
        System.setOut(original);
      }
    }
    String own =
        out.toString(StandardCharsets.UTF_8)
            .lines()
            .filter(line -> !LOG_LINE.matcher(line).lookingAt())
            .collect(Collectors.joining("\n"));
    return new CliRun(code, printed + own, err.toString());
  }
}
