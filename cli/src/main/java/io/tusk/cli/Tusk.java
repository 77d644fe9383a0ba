package io.tusk.cli;

import io.tusk.cli.bench.BenchCommand;
import io.tusk.cli.chaos.ChaosCommand;
import io.tusk.cli.commands.AuditCommand;
import io.tusk.cli.commands.AuthCommand;
import io.tusk.cli.commands.BranchCommand;
import io.tusk.cli.commands.CommitCommand;
import io.tusk.cli.commands.DatumCommand;
import io.tusk.cli.commands.DiffCommand;
import io.tusk.cli.commands.EraseCommand;
import io.tusk.cli.commands.ExportCommand;
import io.tusk.cli.commands.JobCommand;
import io.tusk.cli.commands.LineageCommand;
import io.tusk.cli.commands.LogCommand;
import io.tusk.cli.commands.LogsCommand;
import io.tusk.cli.commands.MemberCommand;
import io.tusk.cli.commands.PipelineCommand;
import io.tusk.cli.commands.PutCommand;
import io.tusk.cli.commands.RejectedCommand;
import io.tusk.cli.commands.RepoCommand;
import io.tusk.cli.commands.RerunCommand;
import io.tusk.cli.commands.RunCommand;
import io.tusk.cli.commands.SinkCommand;
import io.tusk.cli.commands.StatusCommand;
import io.tusk.cli.commands.WaitCommand;
import io.tusk.cli.completion.CompletionCommand;
import io.tusk.cli.completion.NamesCommand;
import io.tusk.cli.context.ContextCommand;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.LocalAuth;
import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import io.tusk.cli.soak.SoakCommand;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code tusk} command. */
@Command(
    name = "tusk",
    version = "tusk 0.1.0",
    description = "Versioned, incremental data pipelines on Apache Kafka.",
    footer = {
      "",
      "`tusk help COMMAND [SUBCOMMAND]` or `tusk COMMAND [SUBCOMMAND] --help` shows a command's"
          + " help."
    },
    subcommands = {
      HelpCommand.class,
      Tusk.Up.class,
      Tusk.Demo.class,
      Tusk.Clean.class,
      BenchCommand.class,
      SoakCommand.class,
      ChaosCommand.class,
      RepoCommand.class,
      PutCommand.class,
      CommitCommand.class,
      LogCommand.class,
      BranchCommand.class,
      DiffCommand.class,
      MemberCommand.class,
      RejectedCommand.class,
      PipelineCommand.class,
      JobCommand.class,
      RerunCommand.class,
      DatumCommand.class,
      RunCommand.class,
      LogsCommand.class,
      WaitCommand.class,
      LineageCommand.class,
      AuthCommand.class,
      AuditCommand.class,
      EraseCommand.class,
      SinkCommand.class,
      ExportCommand.class,
      StatusCommand.class,
      ContextCommand.class,
      CompletionCommand.class,
      NamesCommand.class
    })
public final class Tusk {
  /**
   * {@code -h/--help} on every command, nested subcommands too (inherited), so that help never
   * trips over a missing required parameter or an unknown option.
   */
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      scope = ScopeType.INHERIT,
      description = "Show this help message and exit.")
  boolean help;

  /** {@code --version} only on {@code tusk} itself: every subcommand is the same version. */
  @Option(
      names = {"-V", "--version"},
      versionHelp = true,
      description = "Print version information and exit.")
  boolean version;

  public static void main(String[] args) {
    // Services log at WARN (Kafka clients at ERROR, the embedded broker not at all) during the demo
    // and the benchmark so their output stays readable; TUSK_LOG_LEVEL, TUSK_KAFKA_LOG_LEVEL and
    // TUSK_BROKER_LOG_LEVEL override (logback.xml reads them).
    boolean quiet =
        args.length > 0
            && (args[0].equals("demo")
                || args[0].equals("bench")
                || args[0].equals("run")
                || args[0].equals("soak"));
    defaultLogLevel("TUSK_LOG_LEVEL", quiet ? "WARN" : "INFO");
    defaultLogLevel("TUSK_KAFKA_LOG_LEVEL", quiet ? "ERROR" : "WARN");
    defaultLogLevel("TUSK_BROKER_LOG_LEVEL", quiet ? "OFF" : "WARN");
    System.exit(commandLine().execute(args));
  }

  /**
   * The {@code tusk} command line as {@link #main} runs it (tests run commands through this too, so
   * they see the same error handling).
   */
  public static CommandLine commandLine() {
    return new CommandLine(new Tusk())
        .setExecutionExceptionHandler(
            (e, commandLine, parseResult) -> {
              // A service's answer to a bad request is a message for the user, not a stack trace.
              if (e instanceof TuskClient.ApiError
                  || e instanceof IllegalArgumentException
                  || e instanceof IllegalStateException) {
                commandLine.getErr().println("tusk: " + e.getMessage());
                return 1;
              }
              throw e;
            });
  }

  private static void defaultLogLevel(String variable, String level) {
    if (System.getenv(variable) == null && System.getProperty(variable) == null) {
      System.setProperty(variable, level);
    }
  }

  /** {@code tusk up}: the local stack and the services, until Ctrl-C. */
  @Command(
      name = "up",
      description = "Run Kafka, the schema registry and the four services locally until Ctrl-C.")
  static final class Up implements Callable<Integer> {
    @Override
    public Integer call() throws InterruptedException {
      PrintStream out = System.out;
      Path home = Home.home();
      out.printf("Starting Tusk in %s ...%n", home);
      // The hook is registered before anything starts, so Ctrl-C during start-up also stops
      // cleanly.
      java.util.concurrent.atomic.AtomicReference<LocalTusk> running =
          new java.util.concurrent.atomic.AtomicReference<>();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    LocalTusk tusk = running.get();
                    if (tusk != null) {
                      System.out.println("Stopping Tusk ...");
                      tusk.close();
                    }
                    stopped.countDown();
                  },
                  "tusk-up-shutdown"));
      LocalTusk tusk = LocalTusk.start(home, Ports.defaults(), 2);
      running.set(tusk);
      printEndpoints(out, tusk);
      out.printf(
          "      every endpoint needs a token: the admin's is in %s (the CLI sends it; paste it"
              + " into the web page's sign-in box; `./tusk auth token --subject S` makes others)%n",
          home.resolve(LocalAuth.TOKEN_FILE));
      out.println("Ctrl-C stops everything; `./tusk clean` removes " + home + ".");
      stopped.await();
      return 0;
    }
  }

  /** {@code tusk demo}: the OMOP walkthrough on a fresh local stack. */
  @Command(name = "demo", description = "Run the OMOP GiBleed demo on a fresh local stack.")
  static final class Demo implements Callable<Integer> {
    @CommandLine.Option(
        names = "--data",
        description = "Directory of the OMOP CSV files (default: <repo>/data/omop-gibleed).")
    Path data;

    @Override
    public Integer call() {
      PrintStream out = System.out;
      Path home = Home.home();
      if (Files.exists(home)) {
        out.printf("Removing the data of an earlier run in %s%n", home);
        Home.clean(home);
      }
      OmopDataset dataset =
          OmopDataset.read(data == null ? Home.root().resolve("data/omop-gibleed") : data);
      long start = System.nanoTime();
      try (LocalTusk tusk = LocalTusk.start(home, Ports.defaults(), 2)) {
        out.printf("[1/7] Started the local stack in %.1f s%n", (System.nanoTime() - start) / 1e9);
        printEndpoints(out, tusk);
        OmopDemo.Result result =
            new OmopDemo(
                    tusk.client(),
                    tusk.kafkaSettings("demo"),
                    dataset,
                    out,
                    "omop",
                    "gibleed-insights",
                    3)
                .run();
        out.printf(
            "Done: job 2 processed %,d of %,d members. `./tusk up` brings this stack back for more queries.%n",
            result.second().processed(), result.second().total());
      }
      return 0;
    }
  }

  /** {@code tusk clean}: remove everything the local stack stored. */
  @Command(
      name = "clean",
      description = "Stop leftovers of the local stack and delete its data directory.")
  static final class Clean implements Callable<Integer> {
    @Override
    public Integer call() {
      Path home = Home.home();
      Home.clean(home);
      System.out.println("Removed " + home);
      return 0;
    }
  }

  static void printEndpoints(PrintStream out, LocalTusk tusk) {
    out.printf("      Kafka %s, schema registry %s%n", tusk.bootstrapServers(), tusk.registryUrl());
    out.printf(
        "      commit service %s, lineage service %s%n", tusk.commitUrl(), tusk.lineageUrl());
  }
}
