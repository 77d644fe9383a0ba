package io.tusk.cli.context;

import io.tusk.cli.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where an API command talks to and with which token, resolved setting by setting: the command-line
 * flag, else the environment variable, else the current context ({@link ContextConfig}), else the
 * local stack's default. With no config file this is exactly what the CLI did before contexts.
 *
 * @param token null when there is none anywhere
 * @param caFile null when none is configured (the system's trust store only)
 * @param context the current context's name, if one is in use
 */
public record Connection(
    String commitUrl,
    String lineageUrl,
    String bootstrapServers,
    String token,
    Path caFile,
    Optional<String> context) {

  /** The local stack's commit service. */
  public static final String LOCAL_COMMIT_URL = "http://127.0.0.1:8080";

  /** The local stack's lineage service. */
  public static final String LOCAL_LINEAGE_URL = "http://127.0.0.1:8082";

  /** The local stack's Kafka. */
  public static final String LOCAL_BOOTSTRAP_SERVERS = "127.0.0.1:9092";

  /** What the command line gave; null where a flag was not given. */
  public record Flags(
      String commitUrl, String lineageUrl, String bootstrapServers, String token, Path caFile) {}

  /**
   * Resolves every setting.
   *
   * @param env the environment (System::getenv, or a map in tests)
   * @param configFile the config file (it need not exist)
   * @param localTokenFile the local stack's admin token file (it need not exist)
   */
  public static Connection resolve(
      Flags flags, Function<String, String> env, Path configFile, Path localTokenFile) {
    Optional<Context> context = ContextConfig.read(configFile).current();
    String commitUrl =
        first(flags.commitUrl(), env.apply("TUSK_COMMIT_URL"), context.map(Context::commitUrl))
            .orElse(LOCAL_COMMIT_URL);
    String lineageUrl =
        first(flags.lineageUrl(), env.apply("TUSK_LINEAGE_URL"), context.map(Context::lineageUrl))
            .orElse(LOCAL_LINEAGE_URL);
    String bootstrap =
        first(
                flags.bootstrapServers(),
                env.apply("TUSK_BOOTSTRAP_SERVERS"),
                context.map(Context::bootstrapServers))
            .orElse(LOCAL_BOOTSTRAP_SERVERS);
    String caFile =
        first(
                flags.caFile() == null ? null : flags.caFile().toString(),
                env.apply("TUSK_CA_FILE"),
                context.map(Context::caFile).map(Path::toString))
            .orElse(null);
    String token =
        first(flags.token(), env.apply("TUSK_TOKEN"), context.map(Connection::contextToken))
            .orElseGet(() -> Tokens.fromFile(localTokenFile));
    return new Connection(
        commitUrl,
        lineageUrl,
        bootstrap,
        token,
        caFile == null ? null : Paths.get(caFile),
        context.map(Context::name));
  }

  /** The context's token, else the one in its token file (which must then exist). */
  private static String contextToken(Context context) {
    if (context.token() != null && !context.token().isBlank()) {
      return context.token();
    }
    if (context.tokenFile() == null) {
      return null;
    }
    if (!Files.isRegularFile(context.tokenFile())) {
      throw new IllegalArgumentException(
          "the token file "
              + context.tokenFile()
              + " of context "
              + context.name()
              + " does not exist");
    }
    return Tokens.fromFile(context.tokenFile());
  }

  private static Optional<String> first(String flag, String env, Optional<String> context) {
    if (flag != null && !flag.isBlank()) {
      return Optional.of(flag.strip());
    }
    if (env != null && !env.isBlank()) {
      return Optional.of(env.strip());
    }
    return context.filter(value -> !value.isBlank()).map(String::strip);
  }
}
