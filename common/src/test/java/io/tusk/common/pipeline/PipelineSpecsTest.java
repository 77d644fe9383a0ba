package io.tusk.common.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.member.Hashing;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PipelineSpecsTest {

  @Test
  void shouldReadEveryFieldWhenGivenYaml() {
    // Given a YAML spec with every field
    String yaml =
        """
        name: insights
        input: {repo: omop, branch: dev}
        transform:
          cmd: [python3, insight.py, 3]
          env: {THRESHOLD: 3, MODE: strict}
          inputFormat: JSON
        parallelism: 6
        datumTries: 2
        datumTimeout: 1m30s
        jobTimeout: 2h
        errCmd: [python3, recover.py]
        keepOutputsOnUpdate: true
        """;

    // When it is parsed
    PipelineSpec spec = PipelineSpecs.parse(yaml, 42);

    // Then every field is in the spec
    assertThat(spec.getName()).isEqualTo("insights");
    assertThat(spec.getInputRepo()).isEqualTo("omop");
    assertThat(spec.getInputBranch()).isEqualTo("dev");
    assertThat(spec.getInputPipeline()).isNull();
    assertThat(spec.getTransform().getKind()).isEqualTo(TransformKind.COMMAND);
    assertThat(spec.getTransform().getCmd()).containsExactly("python3", "insight.py", "3");
    assertThat(spec.getTransform().getEnv())
        .containsExactlyInAnyOrderEntriesOf(Map.of("THRESHOLD", "3", "MODE", "strict"));
    assertThat(spec.getTransform().getInputFormat()).isEqualTo("json");
    assertThat(spec.getParallelism()).isEqualTo(6);
    assertThat(spec.getDatumTries()).isEqualTo(2);
    assertThat(spec.getDatumTimeoutMs()).isEqualTo(90_000L);
    assertThat(spec.getJobTimeoutMs()).isEqualTo(7_200_000L);
    assertThat(spec.getErrCmd()).containsExactly("python3", "recover.py");
    assertThat(spec.getKeepOutputsOnUpdate()).isTrue();
    assertThat(spec.getCreatedAt()).isEqualTo(42);
    assertThat(spec.getSpecHash()).isEqualTo(PipelineSpecs.specHash(spec)).hasSize(64);
  }

  @Test
  void shouldUseDefaultsAndTheOldHashWhenGivenAPlainJavaPipelineAsJson() {
    // Given the JSON body the commit service has always accepted
    String json =
        "{\"name\":\"p\",\"input\":{\"repo\":\"omop\"},\"transform\":{\"java\":\"gibleed-insights\"}}";

    // When it is parsed
    PipelineSpec spec = PipelineSpecs.parse(json, 1);

    // Then defaults apply and the hash is the one plain Java pipelines always had
    assertThat(spec.getTransform().getKind()).isEqualTo(TransformKind.JAVA);
    assertThat(spec.getTransform().getName()).isEqualTo("gibleed-insights");
    assertThat(spec.getInputBranch()).isEqualTo("master");
    assertThat(spec.getParallelism()).isEqualTo(PipelineSpecs.DEFAULT_PARALLELISM);
    assertThat(spec.getDatumTries()).isEqualTo(3);
    assertThat(spec.getDatumTimeoutMs()).isNull();
    assertThat(spec.getErrCmd()).isEmpty();
    assertThat(spec.getSpecHash()).isEqualTo(Hashing.specHash("omop", "JAVA", "gibleed-insights"));
  }

  @Test
  void shouldMakeAWorkerAndReadTheDerivedRepoWhenInputIsAPipeline() {
    // Given a worker pipeline reading another pipeline's outputs by a member key
    String yaml =
        """
        name: cohorts
        input: {pipeline: insights, memberKey: COHORT_KEY}
        transform: {cmd: [python3, w.py], worker: yes}
        """;

    // When it is parsed
    PipelineSpec spec = PipelineSpecs.parse(yaml, 0);

    // Then it is a worker on the derived repo
    assertThat(spec.getTransform().getKind()).isEqualTo(TransformKind.WORKER);
    assertThat(spec.getInputRepo()).isEqualTo("insights-by-cohort_key");
    assertThat(spec.getInputPipeline()).isEqualTo("insights");
    assertThat(spec.getInputMemberKey()).isEqualTo("COHORT_KEY");
  }

  @Test
  void shouldGiveAWorkerItsTablesInTheSplitLayoutWhenAskedAndHashTheLayout() {
    // Given the same worker with row objects (the default), asked for by name, and split
    String worker = "name: p\ninput: {repo: r}\ntransform: {cmd: [w], worker: true%s}\n";
    PipelineSpec objects = PipelineSpecs.parse(worker.formatted(""), 0);
    PipelineSpec json = PipelineSpecs.parse(worker.formatted(", inputFormat: json"), 0);
    PipelineSpec split = PipelineSpecs.parse(worker.formatted(", inputFormat: SPLIT"), 0);

    // Then split is kept (in lower case) and, as it changes what the worker reads, its hash
    assertThat(split.getTransform().getInputFormat()).isEqualTo(PipelineSpecs.SPLIT);
    assertThat(split.getSpecHash()).isNotEqualTo(objects.getSpecHash());
    assertThat(json.getTransform().getInputFormat()).isEqualTo(PipelineSpecs.JSON_LINES);
  }

  @Test
  void shouldChangeTheHashWhenTheCommandEnvOrErrCmdChangeButNotWhenTriesChange() {
    // Given a command pipeline and variants of it
    String base = "name: p\ninput: {repo: r}\ntransform: {cmd: [a, b]}\n";
    String hash = PipelineSpecs.parse(base, 0).getSpecHash();

    // Then what decides outputs changes the hash, operational settings do not
    assertThat(PipelineSpecs.parse(base + "datumTries: 5\nparallelism: 9\n", 0).getSpecHash())
        .isEqualTo(hash);
    assertThat(
            PipelineSpecs.parse("name: p\ninput: {repo: r}\ntransform: {cmd: [a, c]}\n", 0)
                .getSpecHash())
        .isNotEqualTo(hash);
    assertThat(
            PipelineSpecs.parse(
                    "name: p\ninput: {repo: r}\ntransform: {cmd: [a, b], env: {X: 1}}\n", 0)
                .getSpecHash())
        .isNotEqualTo(hash);
    assertThat(PipelineSpecs.parse(base + "errCmd: [true]\n", 0).getSpecHash()).isNotEqualTo(hash);
    // And a list boundary cannot be moved between the command and the error command
    assertThat(
            PipelineSpecs.parse(
                    "name: p\ninput: {repo: r}\ntransform: {cmd: [a]}\nerrCmd: [b]\n", 0)
                .getSpecHash())
        .isNotEqualTo(
            PipelineSpecs.parse(
                    "name: p\ninput: {repo: r}\ntransform: {cmd: [a, b]}\nerrCmd: []\n", 0)
                .getSpecHash());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "name: P|name",
        "input: {repo: r}|name",
        "name: p|input",
        "name: p\\ninput: {repo: r, pipeline: q}\\ntransform: {java: x}|input",
        "name: p\\ninput: {repo: r, memberKey: K}\\ntransform: {java: x}|input.memberKey",
        "name: p\\ninput: {pipeline: q}\\ntransform: {java: x}|input.memberKey",
        "name: p\\ninput: {pipeline: p, memberKey: K}\\ntransform: {java: x}|input.pipeline",
        "name: p\\ninput: {repo: r}|transform",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x, cmd: [y]}|transform",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x, worker: true}|transform.worker",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: []}|transform.cmd",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a, {}]}|transform.cmd[1]",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a], inputFormat: xml}|transform.inputFormat",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a], worker: true, inputFormat: csv}"
            + "|transform.inputFormat",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a], inputFormat: split}"
            + "|transform.inputFormat",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a], env: {TUSK_JOB_ID: x}}"
            + "|transform.env.TUSK_JOB_ID",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a], env: {1X: x}}|transform.env.1X",
        "name: p\\ninput: {repo: r}\\ntransform: {cmd: [a], wrker: true}|transform.wrker",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\nparallelism: 0|parallelism",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\nparallelism: 1001|parallelism",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\ndatumTries: 0|datumTries",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\ndatumTimeout: 30|datumTimeout",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\ndatumTimeout: 30x|datumTimeout",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\njobTimeout: 0s|jobTimeout",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\nkeepOutputsOnUpdate: maybe"
            + "|keepOutputsOnUpdate",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\nerrCmd: run|errCmd",
        "name: p\\ninput: {repo: r}\\ntransform: {java: x}\\nparalellism: 2|paralellism",
      })
  void shouldNameTheFieldWhenTheSpecIsInvalid(String yaml, String field) {
    // When an invalid spec is parsed / Then the error names the field
    assertThatThrownBy(() -> PipelineSpecs.parse(yaml.replace("\\n", "\n"), 0))
        .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + " ");
  }

  @Test
  void shouldRefuseTextThatIsNotAnObject() {
    assertThatThrownBy(() -> PipelineSpecs.parse("{\"name\": ", 0))
        .isInstanceOf(SpecException.class)
        .hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> PipelineSpecs.parse("- a\n- b\n", 0))
        .isInstanceOf(SpecException.class)
        .hasMessageContaining("must be an object");
    assertThatThrownBy(() -> PipelineSpecs.parse("a: [", 0))
        .isInstanceOf(SpecException.class)
        .hasMessageContaining("not valid YAML");
  }

  @ParameterizedTest
  @CsvSource({"30s,30000", "5m,300000", "1h30m,5400000", "250ms,250", "2d,172800000", "1M,60000"})
  void shouldParseDurationsWhenGivenUnits(String text, long millis) {
    assertThat(PipelineSpecs.duration("d", text)).isEqualTo(Duration.ofMillis(millis));
  }

  @Test
  void shouldRefuseABareNumberAsDuration() {
    assertThatThrownBy(() -> PipelineSpecs.duration("datumTimeout", "30"))
        .hasMessageStartingWith("datumTimeout must be a duration");
    assertThat(List.of("s", "1s2", "-1s", ""))
        .allSatisfy(
            bad ->
                assertThatThrownBy(() -> PipelineSpecs.duration("x", bad))
                    .isInstanceOf(SpecException.class));
  }

  // ---- hostile documents (issue 9's fuzz): a SpecException each, never another failure

  @Test
  void shouldRefuseJsonNestedDeeperThanTheParserLimit() {
    String nested = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);

    assertThatThrownBy(() -> PipelineSpecs.readDocument(nested))
        .isInstanceOf(SpecException.class)
        .hasMessageStartingWith("the spec is not valid JSON")
        .hasMessageContaining("nesting depth");
  }

  @Test
  void shouldRefuseTextAfterTheJsonObject() {
    assertThatThrownBy(() -> PipelineSpecs.readDocument("{\"name\":\"p\"}}"))
        .isInstanceOf(SpecException.class)
        .hasMessageStartingWith("the spec is not valid JSON");
  }

  @Test
  void shouldRefuseAYamlAliasBombWithoutExpandingIt() {
    StringBuilder yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\"]\n");
    for (char level = 'b'; level <= 'i'; level++) {
      yaml.append(level).append(": &").append(level).append(" [");
      for (int i = 0; i < 10; i++) {
        yaml.append(i == 0 ? "" : ",").append('*').append((char) (level - 1));
      }
      yaml.append("]\n");
    }
    long start = System.nanoTime();

    assertThatThrownBy(() -> PipelineSpecs.readDocument(yaml.toString()))
        .isInstanceOf(SpecException.class)
        .hasMessageStartingWith("the spec is not valid YAML");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void shouldQuoteOnlyAShortPrefixOfAHugeUnknownFieldName() {
    Map<String, Object> document = new java.util.LinkedHashMap<>(Map.of("name", "p"));
    document.put("x".repeat(10_000), 1);

    assertThatThrownBy(() -> PipelineSpecs.fromDocument(document, 0L))
        .isInstanceOf(SpecException.class)
        .hasMessageContaining("is not a known field")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(1_000));
  }
}
