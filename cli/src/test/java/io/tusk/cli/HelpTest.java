package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * {@code --help} and {@code tusk help} on every command of the tree, nested subcommands too, with
 * no service running: exit 0 and that command's usage on standard output, never "Missing required
 * parameter" or "Unknown option".
 */
class HelpTest {

  /** Every command path below {@code tusk}: ["repo"], ["repo", "create"], ... */
  static Stream<List<String>> commandPaths() {
    List<List<String>> paths = new ArrayList<>();
    collect(Tusk.commandLine(), List.of(), paths);
    return paths.stream();
  }

  private static void collect(CommandLine command, List<String> path, List<List<String>> paths) {
    command
        .getSubcommands()
        .forEach(
            (name, sub) -> {
              // Aliases appear twice in the map; the command's own name is enough.
              if (!name.equals(sub.getCommandName())) {
                return;
              }
              List<String> subPath = new ArrayList<>(path);
              subPath.add(name);
              paths.add(subPath);
              collect(sub, subPath, paths);
            });
  }

  @Test
  void shouldWalkTheNestedCommands() {
    // The walk below reaches nested subcommands, so a command added under `repo` is covered too
    assertThat(commandPaths().toList())
        .contains(List.of("repo", "create"), List.of("lineage", "provenance"))
        .hasSizeGreaterThan(40);
  }

  @ParameterizedTest(name = "tusk {0} --help")
  @MethodSource("commandPaths")
  void shouldPrintTheUsageOfEveryCommandWithHelpOption(List<String> path) {
    for (String option : List.of("--help", "-h")) {
      // When `tusk PATH --help` runs with no service anywhere
      List<String> args = new ArrayList<>(path);
      args.add(option);
      Printed printed = run(args);

      // Then it succeeds and prints that command's usage
      assertThat(printed.code()).as(printed.err()).isZero();
      assertThat(printed.err()).isEmpty();
      assertThat(printed.out())
          .startsWith("Usage: tusk " + String.join(" ", path))
          .isEqualTo(usage(path));
    }
  }

  @ParameterizedTest(name = "tusk help {0}")
  @MethodSource("commandPaths")
  void shouldPrintTheUsageOfEveryCommandWithHelpCommand(List<String> path) {
    // When `tusk help PATH` runs
    List<String> args = new ArrayList<>(List.of("help"));
    args.addAll(path);
    Printed printed = run(args);

    // Then it prints the same usage as `tusk PATH --help`
    assertThat(printed.code()).as(printed.err()).isZero();
    assertThat(printed.err()).isEmpty();
    assertThat(printed.out()).isEqualTo(usage(path));
  }

  @Test
  void shouldPrintTheTopUsageWithHelpAlone() {
    Printed help = run(List.of("help"));
    Printed option = run(List.of("--help"));

    assertThat(help.code()).isZero();
    assertThat(option.code()).isZero();
    assertThat(help.out())
        .isEqualTo(option.out())
        .startsWith("Usage: tusk ")
        .contains("  repo ", "  help ", "tusk help COMMAND");
  }

  @Test
  void shouldNameTheCommandsWhenHelpIsAskedForAnUnknownOne() {
    Printed printed = run(List.of("help", "repo", "nope"));

    assertThat(printed.code()).isEqualTo(2);
    assertThat(printed.err()).contains("Unknown command: 'repo nope'", "create", "inspect");
  }

  @Test
  void shouldKeepVersionOnTheTopCommand() {
    Printed printed = run(List.of("--version"));

    assertThat(printed.code()).isZero();
    assertThat(printed.out()).startsWith("tusk ");
  }

  private static String usage(List<String> path) {
    CommandLine command = Tusk.commandLine();
    for (String name : path) {
      command = command.getSubcommands().get(name);
    }
    StringWriter usage = new StringWriter();
    command.usage(new PrintWriter(usage, true), command.getColorScheme());
    return usage.toString();
  }

  private static Printed run(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Tusk.commandLine()
            .setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true))
            .execute(args.toArray(String[]::new));
    return new Printed(code, out.toString(), err.toString());
  }

  private record Printed(int code, String out, String err) {}
}
