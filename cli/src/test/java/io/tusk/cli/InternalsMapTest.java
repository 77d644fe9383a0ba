package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The map at the top of docs/internals.md names files that exist. */
class InternalsMapTest {
  private static final Path ROOT = Paths.get(System.getProperty("tusk.root", ".."));

  /** The owner paths of the map's table: the last column of each row. */
  private static List<String> owners() throws IOException {
    String doc = Files.readString(ROOT.resolve("docs/internals.md"));
    Matcher section = Pattern.compile("(?s)## Map:.*?\\n(\\|.*?)\\n\\n").matcher(doc);
    assertThat(section.find()).as("docs/internals.md has a '## Map:' table").isTrue();
    List<String> owners = new ArrayList<>();
    Matcher path =
        Pattern.compile("\\|\\s*`([^`]+\\.java)`\\s*\\|\\s*$", Pattern.MULTILINE)
            .matcher(section.group(1));
    while (path.find()) {
      owners.add(path.group(1));
    }
    return owners;
  }

  @Test
  void shouldNameAnExistingOwnerForEveryConcept() throws IOException {
    List<String> owners = owners();
    assertThat(owners).hasSizeGreaterThanOrEqualTo(20);
    for (String owner : owners) {
      assertThat(ROOT.resolve(owner)).as("owner file " + owner).isRegularFile();
    }
  }
}
