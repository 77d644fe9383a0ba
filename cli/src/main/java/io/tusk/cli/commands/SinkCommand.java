package io.tusk.cli.commands;

import io.tusk.cli.TuskClient;
import io.tusk.cli.sink.PostgresSink;
import io.tusk.common.config.KafkaSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk sink PIPELINE --postgres URL}: keeps a PostgreSQL table equal to the pipeline's
 * current outputs (see {@link PostgresSink}), until stopped, or once to the end with {@code
 * --once}. The pipeline is looked up through the commit service first, so the caller's token must
 * be allowed to read it; the outputs come straight from Kafka with the caller's Kafka settings.
 */
@Command(
    name = "sink",
    description =
        "Keep a PostgreSQL table equal to a pipeline's current outputs: a row per member, upserted"
            + " and deleted as jobs change them, exactly once.")
public final class SinkCommand implements Callable<Integer> {
  @Mixin Api api;

  @Mixin OutputTopicAccess kafka;

  @Parameters(index = "0", description = "The pipeline.")
  String pipeline;

  @Option(
      names = "--postgres",
      required = true,
      paramLabel = "JDBC_URL",
      description =
          "The database, e.g. jdbc:postgresql://db:5432/analytics; user from --db-user or env"
              + " PGUSER, password from env PGPASSWORD.")
  String jdbcUrl;

  @Option(
      names = "--table",
      description = "NAME or SCHEMA.NAME (default: the pipeline's name, _ for other characters).")
  String table;

  @Option(names = "--db-user", description = "The database user (default: env PGUSER).")
  String dbUser;

  @Option(
      names = "--once",
      description = "Apply what the output topic holds now, then exit (default: follow it).")
  boolean once;

  @Override
  public Integer call() throws Exception {
    // Fails with the service's 403 or 404 unless the caller may read this pipeline.
    api.client().commitGet("/pipelines/" + TuskClient.segment(pipeline));
    KafkaSettings settings = kafka.settings(api, "tusk-sink");
    String target = table == null ? PostgresSink.defaultTable(pipeline) : table;
    try (PostgresSink sink = new PostgresSink(settings, pipeline, connect(), target)) {
      sink.prepare();
      if (once) {
        print("applied", sink.catchUp(), target);
        return 0;
      }
      Thread main = Thread.currentThread();
      Thread stopper =
          new Thread(
              () -> {
                sink.wakeup();
                try {
                  main.join(10_000);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "tusk-sink-stop");
      Runtime.getRuntime().addShutdownHook(stopper);
      System.out.printf("Following %s into table %s (Ctrl-C stops)%n", pipeline, target);
      PostgresSink.Summary total = sink.follow(applied -> print("applied", applied, target));
      print("stopped after", total, target);
      try {
        Runtime.getRuntime().removeShutdownHook(stopper);
      } catch (IllegalStateException shuttingDown) {
        // The hook is running: it is what stopped us.
      }
      return 0;
    }
  }

  private Connection connect() {
    Properties properties = new Properties();
    String user = dbUser != null ? dbUser : System.getenv("PGUSER");
    if (user != null) {
      properties.setProperty("user", user);
    }
    String password = System.getenv("PGPASSWORD");
    if (password != null) {
      properties.setProperty("password", password);
    }
    try {
      return DriverManager.getConnection(jdbcUrl, properties);
    } catch (SQLException e) {
      // The URL may carry a password: name the problem, not the URL.
      throw new IllegalArgumentException("cannot connect to --postgres: " + e.getMessage(), e);
    }
  }

  private void print(String what, PostgresSink.Summary summary, String target) {
    if (api.json()) {
      Api.printJson(
          System.out,
          TuskClient.object()
              .put("pipeline", pipeline)
              .put("table", target)
              .put("records", summary.records())
              .put("upserted", summary.upserted())
              .put("deleted", summary.deleted())
              .put("unchanged", summary.unchanged()));
      return;
    }
    System.out.printf(
        "%s %,d output records to %s: %,d upserted, %,d deleted, %,d unchanged%n",
        what,
        summary.records(),
        target,
        summary.upserted(),
        summary.deleted(),
        summary.unchanged());
  }
}
