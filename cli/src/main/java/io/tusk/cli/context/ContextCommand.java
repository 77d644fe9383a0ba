package io.tusk.cli.context;

import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tusk context add|use|list|current|delete}: named sets of service URLs, bootstrap servers
 * and token in the config file ({@link ContextConfig}), so a user switches between the local stack
 * and a cluster without environment variables. Flags and environment variables still win over the
 * current context ({@link Connection}).
 */
@Command(
    name = "context",
    description = {
      "Switch between a local stack and clusters: named service URLs, bootstrap servers and"
          + " token, kept in $TUSK_CONFIG (default ~/.config/tusk/config.json, owner-only).",
      "Every API command uses, per setting: its flag, else the environment variable, else the"
          + " current context, else the local stack."
    },
    subcommands = {
      ContextCommand.Add.class,
      ContextCommand.Use.class,
      ContextCommand.List.class,
      ContextCommand.Current.class,
      ContextCommand.Delete.class
    })
public final class ContextCommand {

  private static ContextConfig config() {
    return ContextConfig.read(ContextConfig.path(System::getenv));
  }

  /** {@code tusk context add NAME --commit-url U --lineage-url U ...}. */
  @Command(
      name = "add",
      description = "Add a context (it becomes current with `tusk context use NAME`).")
  static final class Add implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The context's name.")
    String name;

    @Option(names = "--commit-url", required = true, description = "Commit service URL.")
    String commitUrl;

    @Option(names = "--lineage-url", required = true, description = "Lineage service URL.")
    String lineageUrl;

    @Option(
        names = "--bootstrap-servers",
        description = "Kafka bootstrap servers for `tusk put` (default: the local stack's).")
    String bootstrapServers;

    @ArgGroup(exclusive = true)
    TokenSource token;

    /** The token itself or a file holding it, not both. */
    static final class TokenSource {
      @Option(
          names = "--token",
          description = "The bearer token, stored in the config file (owner-only).")
      String token;

      @Option(
          names = "--token-file",
          description = "A file holding the bearer token, read on every command.")
      Path tokenFile;
    }

    @Option(
        names = "--ca-file",
        description = "PEM CA certificates to trust for services served over HTTPS.")
    Path caFile;

    @Override
    public Integer call() {
      if (name.isBlank() || !name.strip().equals(name)) {
        throw new IllegalArgumentException(
            "a context name cannot be blank or padded: '" + name + "'");
      }
      ContextConfig config = config();
      config.add(
          new Context(
              name,
              url("--commit-url", commitUrl),
              url("--lineage-url", lineageUrl),
              bootstrapServers,
              token == null ? null : token.token,
              token == null || token.tokenFile == null ? null : token.tokenFile.toAbsolutePath(),
              caFile == null ? null : caFile.toAbsolutePath()));
      config.write();
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "added context %s to %s; `tusk context use %s` switches to it%n",
          name, config.file(), name);
      out.flush();
      return 0;
    }

    private static String url(String option, String value) {
      try {
        URI uri = new URI(value);
        if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
            && uri.getHost() != null) {
          return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
        }
      } catch (URISyntaxException e) {
        // reported below
      }
      throw new IllegalArgumentException(
          option + " must be an http:// or https:// URL with a host, not '" + value + "'");
    }
  }

  /** {@code tusk context use NAME}. */
  @Command(name = "use", description = "Make a context the current one.")
  static final class Use implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<context>", description = "The context.")
    String name;

    @Override
    public Integer call() {
      ContextConfig config = config();
      config.use(name);
      config.write();
      spec.commandLine().getOut().printf("now using context %s%n", name);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /** {@code tusk context list}. */
  @Command(
      name = "list",
      description = "List the contexts; * marks the current one. Tokens are never printed.")
  static final class List implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      ContextConfig config = config();
      PrintWriter out = spec.commandLine().getOut();
      String current = config.current().map(Context::name).orElse(null);
      out.printf(
          "  %-16s %-32s %-32s %-22s %s%n",
          "NAME", "COMMIT URL", "LINEAGE URL", "BOOTSTRAP", "TOKEN");
      config
          .contexts()
          .values()
          .forEach(
              c ->
                  out.printf(
                      "%s %-16s %-32s %-32s %-22s %s%n",
                      c.name().equals(current) ? "*" : " ",
                      c.name(),
                      c.commitUrl(),
                      c.lineageUrl(),
                      c.bootstrapServers() == null ? "-" : c.bootstrapServers(),
                      c.token() != null
                          ? "(in the config file)"
                          : c.tokenFile() != null ? c.tokenFile().toString() : "-"));
      if (current == null) {
        out.println(
            "(no current context: flags, environment variables, else the local stack's defaults)");
      }
      out.flush();
      return 0;
    }
  }

  /** {@code tusk context current}. */
  @Command(name = "current", description = "Print the current context's name (exit 1 if none).")
  static final class Current implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      ContextConfig config = config();
      return config
          .current()
          .map(
              c -> {
                spec.commandLine().getOut().println(c.name());
                spec.commandLine().getOut().flush();
                return 0;
              })
          .orElseGet(
              () -> {
                spec.commandLine()
                    .getErr()
                    .println(
                        "tusk: no current context (in "
                            + config.file()
                            + "): commands use their flags, environment variables, else the local"
                            + " stack");
                return 1;
              });
    }
  }

  /** {@code tusk context delete NAME}. */
  @Command(
      name = "delete",
      description = "Delete a context (if it was current, none is: the local stack's defaults).")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<context>", description = "The context.")
    String name;

    @Override
    public Integer call() {
      ContextConfig config = config();
      boolean wasCurrent = config.delete(name);
      config.write();
      spec.commandLine()
          .getOut()
          .printf(
              "deleted context %s%s%n", name, wasCurrent ? " (it was current: now none is)" : "");
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
