package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.pipeline.PipelineSpecs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's set-up commands are the ones that exist and the ones CI runs, and its pipeline spec
 * and the examples' specs are valid.
 */
class ReadmeCheckTest {
  private static final Path ROOT = Paths.get(System.getProperty("tusk.root", ".."));

  /** The fenced block right after the "Two commands" heading: the README's set-up commands. */
  private static List<String> readmeCommands() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher block =
        Pattern.compile("(?s)## Two commands.*?```(?:sh|bash)?\\n(.*?)```").matcher(readme);
    assertThat(block.find())
        .as("README has a '## Two commands' section with a code block")
        .isTrue();
    return block
        .group(1)
        .lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
  }

  /** The commands .ci/run executes, without comments, shell settings and version printing. */
  private static List<String> ciCommands() throws IOException {
    return Files.readAllLines(ROOT.resolve(".ci/run")).stream()
        .map(String::strip)
        .filter(
            l ->
                !l.isEmpty() && !l.startsWith("#") && !l.startsWith("set ") && !l.startsWith("cd "))
        .filter(l -> !l.endsWith("-version"))
        .toList();
  }

  @Test
  void shouldGiveExactlyTheDemoAndTheTestCommand() throws IOException {
    assertThat(readmeCommands()).containsExactly("./tusk demo", "mvn verify");
  }

  @Test
  void shouldRunInCiTheTestCommandTheReadmeGives() throws IOException {
    List<String> ci = ciCommands();
    String testCommand = readmeCommands().get(1);
    assertThat(ci).contains(testCommand);
    assertThat(ci.stream().filter(l -> l.contains("mvn ")).toList()).containsExactly(testCommand);
  }

  @Test
  void shouldGiveValidPipelineSpecsInTheReadmeAndTheExamples() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher block = Pattern.compile("(?s)### Pipelines.*?```yaml\\n(.*?)```").matcher(readme);
    assertThat(block.find()).as("README has a '### Pipelines' section with a YAML spec").isTrue();
    assertThat(PipelineSpecs.parse(block.group(1), 0).getTransform().getInputFormat())
        .isEqualTo(PipelineSpecs.SPLIT);
    for (String example : List.of("java", "python-worker", "python-command")) {
      String spec = Files.readString(ROOT.resolve("examples/" + example + "/pipeline.yaml"));
      assertThat(PipelineSpecs.parse(spec, 0).getName()).as(example).isNotEmpty();
    }
  }

  @Test
  void shouldShipTheCommandsTheReadmeNames() {
    assertThat(ROOT.resolve("tusk")).isExecutable();
    assertThat(ROOT.resolve(".ci/run")).isExecutable();
    assertThat(ROOT.resolve("pom.xml")).exists();
  }
}
