package io.tusk.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tusk help [COMMAND [SUBCOMMAND ...]]}: a command's usage, as {@code COMMAND SUBCOMMAND
 * --help} prints it. Ours rather than picocli's {@code HelpCommand} because that one declares its
 * own {@code -h} and would clash with the {@code -h/--help} every command inherits from {@link
 * Tusk}; ours also walks nested subcommands ({@code tusk help repo create}).
 */
@Command(
    name = "help",
    helpCommand = true,
    description = "Show the help of tusk or of a command: `tusk help repo create`.")
final class HelpCommand implements Runnable {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..*",
      paramLabel = "COMMAND",
      description = "The command (and subcommands) whose help to show.")
  List<String> commands = List.of();

  @Override
  public void run() {
    CommandLine command = spec.parent().commandLine();
    for (String name : commands) {
      CommandLine sub = command.getSubcommands().get(name);
      if (sub == null) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "Unknown command: '"
                + String.join(" ", commands)
                + "' ("
                + command.getCommandName()
                + " has "
                + String.join(", ", command.getSubcommands().keySet())
                + ")");
      }
      command = sub;
    }
    command.usage(spec.commandLine().getOut(), command.getColorScheme());
  }
}
