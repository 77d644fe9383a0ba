package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tusk.cli.Tokens;
import io.tusk.cli.TuskClient;
import io.tusk.cli.context.Connection;
import io.tusk.cli.context.ContextConfig;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * Options every API command shares (where the services are, which token, how to print), mixed into
 * each command, and the printing helpers they use.
 */
public final class Api {
  /**
   * How many characters of an ID tables print: a prefix every command accepts back (the commit
   * service takes unique prefixes of 6 or more).
   */
  public static final int SHORT_ID = 12;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  // No picocli default values: a flag given wins, and what is not given is resolved by
  // Connection (environment variable, else the current context, else the local stack).
  @Option(
      names = "--commit-url",
      description =
          "Commit service URL (default: env TUSK_COMMIT_URL, else the current context's, else "
              + Connection.LOCAL_COMMIT_URL
              + ").")
  String commitUrl;

  @Option(
      names = "--lineage-url",
      description =
          "Lineage service URL (default: env TUSK_LINEAGE_URL, else the current context's, else "
              + Connection.LOCAL_LINEAGE_URL
              + ").")
  String lineageUrl;

  @Option(
      names = "--token",
      description =
          "Bearer token (JWT) sent to the services (default: env TUSK_TOKEN, else the current"
              + " context's, else the local stack's admin token in .tusk/token).")
  String token;

  @Option(
      names = "--ca-file",
      description =
          "PEM CA certificates trusted for services served over HTTPS, besides the system's"
              + " (default: env TUSK_CA_FILE, else the current context's).")
  Path caFile;

  @Option(names = "--json", description = "Print the service's JSON answer instead of a table.")
  boolean json;

  /** A client of the configured services, sending the configured token. */
  public TuskClient client() {
    Connection connection = connection(null);
    return new TuskClient(
        connection.commitUrl(), connection.lineageUrl(), connection.token(), connection.caFile());
  }

  /**
   * Where to talk to: the flags given, else the environment, else the current context, else the
   * local stack.
   *
   * @param bootstrapServers a command's {@code --bootstrap} flag, null when not given
   */
  public Connection connection(String bootstrapServers) {
    return Connection.resolve(
        new Connection.Flags(commitUrl, lineageUrl, bootstrapServers, token, caFile),
        System::getenv,
        ContextConfig.path(System::getenv),
        Tokens.localTokenFile());
  }

  /** True when the raw JSON is wanted. */
  public boolean json() {
    return json;
  }

  /**
   * Prints a service's answer to System.out: its JSON with {@code --json}, else as {@code text}
   * prints it for a reader.
   */
  public void print(JsonNode answer, Consumer<JsonNode> text) {
    if (json) {
      printJson(System.out, answer);
    } else {
      text.accept(answer);
    }
  }

  /** Prints the commit service's JSON answer to {@code GET path} (a spec, a branch). */
  public void printCommitGet(String path) {
    printJson(System.out, client().commitGet(path));
  }

  /** Prints {@code node} as indented JSON. */
  public static void printJson(PrintStream out, JsonNode node) {
    out.println(indented(node));
  }

  /** Prints {@code node} as indented JSON (to a command's picocli output). */
  public static void printJson(PrintWriter out, JsonNode node) {
    out.println(indented(node));
  }

  private static String indented(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return node.toString(); // a tree read from JSON always writes; compact is the fallback
    }
  }

  /** An epoch-millisecond field as UTC time, or "-". */
  public static String time(JsonNode millis) {
    return millis == null || millis.isNull() || millis.asLong() == 0
        ? "-"
        : TIME.format(Instant.ofEpochMilli(millis.asLong()));
  }

  /** A text field, or "-" when absent or null. */
  public static String text(JsonNode node) {
    return node == null || node.isNull() || node.isMissingNode() ? "-" : node.asText();
  }

  /** An ID whole when {@code full} ({@code --full}), else {@link #shortId short}. */
  public static String id(JsonNode id, boolean full) {
    return full ? text(id) : shortId(id);
  }

  /** The first {@link #SHORT_ID} characters of an ID, as in git. */
  public static String shortId(JsonNode id) {
    String text = text(id);
    return text.length() > SHORT_ID ? text.substring(0, SHORT_ID) : text;
  }
}
