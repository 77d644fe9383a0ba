package io.tusk.cli;

import io.tusk.cli.local.LocalAuth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which bearer token the CLI sends: {@code --token}, else {@code TUSK_TOKEN}, else the local
 * stack's admin token in {@code <TUSK_HOME>/token} (written by {@code ./tusk up} and {@code ./tusk
 * demo}), so the CLI works unchanged against the local stack.
 */
public final class Tokens {
  /** Appended to a 401's message: where the CLI looks for a token. */
  public static final String HINT =
      " (the CLI sends --token, else $TUSK_TOKEN, else the local stack's "
          + ".tusk/"
          + LocalAuth.TOKEN_FILE
          + ")";

  private Tokens() {}

  /**
   * The token to send.
   *
   * @param option the {@code --token} option, null or empty when not given
   * @return the token, or null when there is none anywhere
   */
  public static String resolve(String option) {
    if (option != null && !option.isBlank()) {
      return option.strip();
    }
    String env = System.getenv("TUSK_TOKEN");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    return fromFile(Home.home().resolve(LocalAuth.TOKEN_FILE));
  }

  /** The token in {@code file}, or null when the file does not exist. */
  static String fromFile(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      String token = Files.readString(file).strip();
      return token.isEmpty() ? null : token;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the token in " + file, e);
    }
  }
}
