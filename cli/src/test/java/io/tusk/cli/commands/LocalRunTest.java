package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.schemas.PipelineSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalRunTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PipelineSpec JAVA =
      PipelineSpecs.parse(
          "name: insights\ninput: {repo: omop}\ntransform: {java: gibleed-insights}\n", 0);

  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  private List<LocalRun.Input> write(String persons, String drugEras) throws Exception {
    Path person = dir.resolve("PERSON-" + persons.hashCode() + ".csv");
    Path drugEra = dir.resolve("DRUG_ERA-" + drugEras.hashCode() + ".csv");
    Files.writeString(person, "PERSON_ID,GENDER_CONCEPT_ID,YEAR_OF_BIRTH\n" + persons);
    Files.writeString(
        drugEra, "DRUG_ERA_ID,PERSON_ID,DRUG_CONCEPT_ID,DRUG_ERA_START_DATE\n" + drugEras);
    return List.of(new LocalRun.Input("PERSON", person), new LocalRun.Input("DRUG_ERA", drugEra));
  }

  private LocalRun.Summary run(
      PipelineSpec spec, List<LocalRun.Input> inputs, Path previous, Path out) throws Exception {
    return new LocalRun(
            spec,
            inputs,
            "PERSON_ID",
            Map.of("DRUG_ERA", List.of("DRUG_ERA_ID")),
            previous,
            out,
            2,
            new PrintStream(log, true, StandardCharsets.UTF_8))
        .run();
  }

  @Test
  void shouldProcessEveryMemberThenOnlyChangedOnesWhenGivenThePreviousRun() throws Exception {
    // Given three members in two tables
    List<LocalRun.Input> first =
        write(
            "1,8532,1950\n2,8507,1960\n3,8532,1970\n",
            "10,1,1118084,2001-02-03\n11,2,1177480,2002-03-04\n");

    // When the pipeline runs on them
    Path out1 = dir.resolve("out1");
    LocalRun.Summary summary1 = run(JAVA, first, null, out1);

    // Then every member has an output and a manifest entry with its datum hash
    assertThat(summary1.members()).isEqualTo(3);
    assertThat(summary1.processed()).isEqualTo(3);
    assertThat(Files.readString(out1.resolve("outputs/1.json")))
        .startsWith("{\"member\":\"1\",\"sex\":\"F\",");
    JsonNode manifest1 = JSON.readTree(out1.resolve(LocalRun.MANIFEST).toFile());
    assertThat(manifest1.path("specHash").asText()).isEqualTo(JAVA.getSpecHash());
    assertThat(manifest1.path("members").path("2").path("state").asText()).isEqualTo("SUCCESS");

    // When member 2's drug era changes, member 3 disappears, and it runs again with --previous
    List<LocalRun.Input> second =
        write("1,8532,1950\n2,8507,1960\n", "10,1,1118084,2001-02-03\n11,2,1177480,2009-03-04\n");
    Path out2 = dir.resolve("out2");
    LocalRun.Summary summary2 = run(JAVA, second, out1, out2);

    // Then only member 2 is processed; member 1 is skipped with its output copied
    assertThat(summary2.processed()).isEqualTo(1);
    assertThat(summary2.skipped()).isEqualTo(1);
    assertThat(summary2.removed()).isEqualTo(1);
    assertThat(out2.resolve("outputs/1.json"))
        .hasSameTextualContentAs(out1.resolve("outputs/1.json"));
    assertThat(Files.readString(out2.resolve("outputs/2.json"))).contains("2009-03-04");
    assertThat(out2.resolve("outputs/3.json")).doesNotExist();
    JsonNode manifest2 = JSON.readTree(out2.resolve(LocalRun.MANIFEST).toFile());
    assertThat(manifest2.path("members").path("1").path("datumHash"))
        .isEqualTo(manifest1.path("members").path("1").path("datumHash"));
    assertThat(manifest2.path("members").path("2").path("datumHash"))
        .isNotEqualTo(manifest1.path("members").path("2").path("datumHash"));
  }

  @Test
  void shouldRecordFailuresWithTheirErrorWhenTheCommandFails() throws Exception {
    // Given a command pipeline whose command fails for every datum
    PipelineSpec failing =
        PipelineSpecs.parse(
            "name: f\ninput: {repo: omop}\ntransform: {cmd: [sh, -c, 'echo oops >&2; exit 4']}\n"
                + "datumTries: 2\n",
            0);

    // When it runs
    Path out = dir.resolve("out");
    LocalRun.Summary summary = run(failing, write("1,8532,1950\n", ""), null, out);

    // Then the datum failed after two tries, with its error and stderr in failed/
    assertThat(summary.failed()).isEqualTo(1);
    JsonNode entry =
        JSON.readTree(out.resolve(LocalRun.MANIFEST).toFile()).path("members").path("1");
    assertThat(entry.path("state").asText()).isEqualTo("FAILED");
    assertThat(entry.path("attempts").asInt()).isEqualTo(2);
    assertThat(Files.readString(out.resolve("failed/1.txt")))
        .startsWith("exited with status 4")
        .contains("oops");
  }

  @Test
  void shouldNameTheFileWhenTheMemberKeyColumnIsMissing() throws Exception {
    // Given a table without the member key column
    Path file = dir.resolve("T.csv");
    Files.writeString(file, "A,B\n1,2\n");

    // When / Then the run refuses, naming the file and the option
    assertThatThrownBy(
            () -> run(JAVA, List.of(new LocalRun.Input("T", file)), null, dir.resolve("o")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("T.csv")
        .hasMessageContaining("--member-key");
  }
}
