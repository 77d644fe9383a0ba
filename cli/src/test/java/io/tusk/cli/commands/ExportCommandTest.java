package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportCommandTest {
  @TempDir Path dir;

  @Test
  void createsAMissingDirectoryAndAcceptsAnEmptyOne() throws Exception {
    Path fresh = dir.resolve("a/b");
    assertThat(ExportCommand.prepare(fresh, false)).isEqualTo(fresh);
    assertThat(Files.isDirectory(fresh)).isTrue();
    assertThat(ExportCommand.prepare(fresh, false)).isEqualTo(fresh);
  }

  @Test
  void refusesANonEmptyDirectoryUnlessOverwrite() throws Exception {
    Files.writeString(dir.resolve("old.parquet"), "x");
    assertThatThrownBy(() -> ExportCommand.prepare(dir, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not empty");
    assertThat(ExportCommand.prepare(dir, true)).isEqualTo(dir);
  }

  @Test
  void refusesAFileAndADirectoryThatCannotBeCreated() throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertThatThrownBy(() -> ExportCommand.prepare(file, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a directory");
    assertThatThrownBy(() -> ExportCommand.prepare(file.resolve("below"), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot create");
  }
}
