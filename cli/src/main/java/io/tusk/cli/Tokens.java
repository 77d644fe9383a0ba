package io.tusk.cli;

import io.tusk.cli.local.LocalAuth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which bearer token the CLI sends: {@code --token}, else {@code TUSK_TOKEN}, else the current
 * context's ({@code tusk context}), else the local stack's admin token in {@code <TUSK_HOME>/token}
 * (written by {@code ./tusk up} and {@code ./tusk demo}), so the CLI works unchanged against the
 * local stack. {@link io.tusk.cli.context.Connection} resolves it with the other settings.
 */
public final class Tokens {
  /** Appended to a 401's message: where the CLI looks for a token. */
  public static final String HINT =
      " (the CLI sends --token, else $TUSK_TOKEN, else the current context's token, else the"
          + " local stack's "
          + ".tusk/"
          + LocalAuth.TOKEN_FILE
          + ")";

  private Tokens() {}

  /** The local stack's admin token file, {@code <TUSK_HOME>/token}. */
  public static Path localTokenFile() {
    return Home.home().resolve(LocalAuth.TOKEN_FILE);
  }

  /** The token in {@code file}, or null when the file does not exist. */
  public static String fromFile(Path file) {
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
