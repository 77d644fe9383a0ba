package io.tusk.cli.commands;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How long a command waits for the jobs it follows to end ({@code --timeout}). */
final class JobWait {
  @Option(
      names = "--timeout",
      defaultValue = "PT30M",
      description = "How long to wait (ISO-8601 duration, default ${DEFAULT-VALUE}).")
  Duration timeout;
}
