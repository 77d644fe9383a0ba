package io.tusk.cli.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.security.ServiceAcls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's "Kafka ACLs" section is what {@link ServiceAcls} renders, the list the services'
 * errors and {@code SecuredKafkaIT} use: a change to one without the other fails here.
 */
class KafkaAclsReadmeTest {
  private static final Path ROOT = Paths.get(System.getProperty("tusk.root", ".."));

  private static String section() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher section = Pattern.compile("(?s)\n### Kafka ACLs\n(.*?)\n## ").matcher(readme);
    assertThat(section.find()).as("README has a '### Kafka ACLs' section").isTrue();
    return section.group(1);
  }

  @Test
  void shouldListInTheReadmeTableExactlyTheAclsServiceAclsGrants() throws IOException {
    // Given the section's table: its header line and every table line after it
    List<String> lines = section().lines().toList();
    int header = lines.indexOf(ServiceAcls.markdownTable().lines().findFirst().orElseThrow());
    assertThat(header).as("the table's header line").isNotNegative();
    List<String> table =
        lines.subList(header, lines.size()).stream().takeWhile(l -> l.startsWith("|")).toList();

    // Then it is the rendered table, row for row
    assertThat(table).containsExactlyElementsOf(ServiceAcls.markdownTable().lines().toList());
  }

  @Test
  void shouldGiveInTheReadmeTheKafkaAclsCommandsOfEveryAcl() throws IOException {
    // Given the section's code block of kafka-acls commands
    Matcher block =
        Pattern.compile("(?s)```sh\n((?:kafka-acls\\.sh [^\n]*\n)+)```").matcher(section());
    assertThat(block.find()).as("a block of kafka-acls commands").isTrue();

    // Then it holds one command per rule, as rendered
    assertThat(block.group(1).lines().toList())
        .containsExactlyElementsOf(ServiceAcls.kafkaAclsCommands())
        .hasSize(ServiceAcls.rules().size());
  }
}
