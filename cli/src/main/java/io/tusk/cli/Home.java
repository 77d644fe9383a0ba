package io.tusk.cli;

import io.tusk.localstack.LocalStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where the {@code tusk} command finds the checkout and keeps the local stack's data. Its own class
 * so that subcommands (the benchmarks among them) need not reach back into {@link Tusk}.
 */
public final class Home {
  private Home() {}

  /**
   * Where the repository is checked out ({@code tusk.root}, set by ./tusk; else the working
   * directory).
   */
  public static Path root() {
    return Paths.get(System.getProperty("tusk.root", ".")).toAbsolutePath().normalize();
  }

  /** Where the local stack keeps all its data ({@code TUSK_HOME}, default {@code <root>/.tusk}). */
  public static Path home() {
    String home = System.getenv("TUSK_HOME");
    return home == null || home.isBlank()
        ? root().resolve(".tusk")
        : Paths.get(home).toAbsolutePath();
  }

  /** Kills a registry left behind by a crashed run, then deletes {@code home}. */
  public static void clean(Path home) {
    if (!Files.exists(home)) {
      return;
    }
    LocalStack.killLeftovers(home);
    try (Stream<Path> paths = Files.walk(home)) {
      paths.sorted(Comparator.reverseOrder()).forEach(Home::delete);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + home, e);
    }
  }

  private static void delete(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + path, e);
    }
  }
}
