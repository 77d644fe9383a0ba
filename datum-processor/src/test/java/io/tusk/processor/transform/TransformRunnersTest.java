package io.tusk.processor.transform;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.transform.MemberDatumInput;
import io.tusk.common.transform.TransformOutput;
import io.tusk.processor.OmopFixtures;
import io.tusk.processor.examples.GiBleedInsights;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.serde.TrustedClasses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three transform kinds, tries, timeouts and the error command, on real processes. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TransformRunnersTest {
  static {
    TrustedClasses.install(); // datums are built here without a serde, which would install it
  }

  private static final RepoSpec REPO = OmopFixtures.repo("omop");
  private static final RepoLayout LAYOUT = new RepoLayout(REPO);
  private static final Path EXAMPLES = Paths.get("..", "examples").toAbsolutePath().normalize();

  @TempDir Path work;

  private final AtomicInteger workerStarts = new AtomicInteger();

  private static Datum datum(String member) {
    return OmopFixtures.datum(
        "p",
        "job-1",
        "commit-1",
        OmopFixtures.random(new Random(member.hashCode()), member).object(REPO, "commit-1"));
  }

  private DatumExecution execution(String yaml) {
    PipelineSpec spec = PipelineSpecs.parse(yaml, 0);
    return TransformRunners.create(
        spec, getClass().getClassLoader(), work.resolve("thread"), workerStarts::incrementAndGet);
  }

  private Path script(String name, String text) throws Exception {
    Path file = work.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  /** A worker that answers every datum with the error "no insight". */
  private Path errorWorker() throws Exception {
    return script(
        "err.py",
        "import json, sys\nfor line in sys.stdin:\n"
            + "    print(json.dumps({'error': 'no insight'})); sys.stdout.flush()\n");
  }

  private static String text(TransformOutput output) {
    return new String(output.data(), StandardCharsets.UTF_8);
  }

  @Test
  void shouldGiveTheJavaTransformsBytesWhenRunningThePythonCommandExampleInCsvAndJson()
      throws Exception {
    // Given the Python command example, reading CSV and reading JSON lines
    String command =
        "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
            + EXAMPLES.resolve("python-command/insight.py")
            + "'], inputFormat: ";
    try (DatumExecution csv = execution(command + "csv}\n");
        DatumExecution json = execution(command + "json}\n")) {
      GiBleedInsights java = new GiBleedInsights();
      for (int i = 0; i < 8; i++) {
        // When both run on a member
        Datum datum = datum(Integer.toString(100 + i));
        DatumExecution.Result fromCsv = csv.execute(datum, LAYOUT);
        DatumExecution.Result fromJson = json.execute(datum, LAYOUT);

        // Then both outputs are the Java transform's bytes, as application/json
        TransformOutput expected = java.apply(new MemberDatumInput(datum, LAYOUT));
        assertThat(fromCsv.state())
            .as(fromCsv.error() + " " + fromCsv.log())
            .isEqualTo(DatumState.SUCCESS);
        assertThat(text(fromCsv.output())).isEqualTo(text(expected));
        assertThat(fromCsv.output().contentType()).isEqualTo("application/json");
        assertThat(text(fromJson.output())).isEqualTo(text(expected));
        // And the script's stderr line is the datum's log
        assertThat(fromCsv.log()).contains("-- stderr --").contains("NSAID(s)");
      }
    }
  }

  @ParameterizedTest(name = "tables as {0}")
  @ValueSource(strings = {"json", "split"})
  void shouldGiveTheJavaTransformsBytesFromOneProcessWhenRunningThePythonWorkerExample(
      String layout) {
    // Given the Python worker example, reading row objects or the split layout
    try (DatumExecution worker =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + EXAMPLES.resolve("python-worker/insight_worker.py")
                + "'], worker: true, inputFormat: "
                + layout
                + "}\n")) {
      GiBleedInsights java = new GiBleedInsights();
      for (int i = 0; i < 50; i++) {
        // When it serves many datums
        Datum datum = datum(Integer.toString(200 + i));
        DatumExecution.Result result = worker.execute(datum, LAYOUT);

        // Then each output is the Java transform's bytes
        assertThat(result.state()).as(result.error()).isEqualTo(DatumState.SUCCESS);
        assertThat(text(result.output()))
            .isEqualTo(text(java.apply(new MemberDatumInput(datum, LAYOUT))));
        assertThat(result.attempts()).isEqualTo(1);
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    // And one process served them all
    assertThat(workerStarts).hasValue(1);
  }

  @Test
  void shouldWriteEachTableAsColumnsAndDataRowsWhenTheWorkerAsksForTheSplitLayout()
      throws Exception {
    // Given a worker that answers the tables it read
    Path echo =
        script(
            "echo_tables.py",
            """
            import json, sys
            for line in sys.stdin:
                print(json.dumps({"output": json.loads(line)["tables"]}), flush=True)
            """);
    Datum datum = datum("300");
    try (DatumExecution worker =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + echo
                + "'], worker: true, inputFormat: split}\n")) {
      // When it serves a member
      DatumExecution.Result result = worker.execute(datum, LAYOUT);

      // Then every table of the repo came as its columns once and the member's rows as arrays,
      // absent values null, in the canonical order
      assertThat(result.state()).as(result.error()).isEqualTo(DatumState.SUCCESS);
      JsonNode tables = new ObjectMapper().readTree(result.output().data());
      Map<String, List<Row>> expected = DatumFiles.rowsByTable(datum, LAYOUT);
      assertThat(tables.fieldNames()).toIterable().containsExactlyElementsOf(expected.keySet());
      for (Map.Entry<String, List<Row>> table : expected.entrySet()) {
        JsonNode split = tables.get(table.getKey());
        List<String> columns = LAYOUT.table(table.getKey()).spec().getColumns();
        assertThat(split.get("columns").size()).isEqualTo(columns.size());
        for (int c = 0; c < columns.size(); c++) {
          assertThat(split.get("columns").get(c).asText()).isEqualTo(columns.get(c));
        }
        assertThat(split.get("data").size()).isEqualTo(table.getValue().size());
        for (int r = 0; r < table.getValue().size(); r++) {
          List<String> values = table.getValue().get(r).getValues();
          JsonNode row = split.get("data").get(r);
          assertThat(row.size()).isEqualTo(columns.size());
          for (int c = 0; c < columns.size(); c++) {
            String value = c < values.size() ? values.get(c) : null;
            assertThat(row.get(c).isNull() ? null : row.get(c).asText()).isEqualTo(value);
          }
        }
      }
    }
  }

  @Test
  void shouldRetryThenFailWithExitStatusAndStderrWhenTheCommandExitsNonZero() throws Exception {
    // Given a command that always fails loudly
    Path failing =
        script(
            "fail.py",
            "import sys\nprint('out line')\nprint('x' * 5000, file=sys.stderr)\n"
                + "print('the cause', file=sys.stderr)\nsys.exit(3)\n");
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + failing
                + "']}\n"
                + "datumTries: 2\n")) {
      // When it runs on a datum
      DatumExecution.Result result = execution.execute(datum("1"), LAYOUT);

      // Then it failed after two attempts, naming the exit status, with the end of stderr
      assertThat(result.state()).isEqualTo(DatumState.FAILED);
      assertThat(result.attempts()).isEqualTo(2);
      assertThat(result.error()).isEqualTo("exited with status 3");
      assertThat(result.stderr()).hasSizeLessThanOrEqualTo(4096).endsWith("the cause\n");
      // And the log holds both attempts, bounded to 16 KiB
      assertThat(result.log())
          .contains("== attempt 2: exited with status 3")
          .contains("out line")
          .hasSizeLessThanOrEqualTo(16 * 1024);
    }
  }

  @Test
  void shouldKillTheProcessTreeWhenTheCommandTimesOut() throws Exception {
    // Given a command that starts a child and both sleep, writing the child's pid first
    Path pidFile = work.resolve("child.pid");
    Path sleeper = script("sleep.sh", "sleep 60 &\necho $! > '" + pidFile + "'\nsleep 60\n");
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [sh, '"
                + sleeper
                + "']}\ndatumTries: 1\ndatumTimeout: 700ms\n")) {
      // When it runs past the timeout
      long start = System.nanoTime();
      DatumExecution.Result result = execution.execute(datum("1"), LAYOUT);

      // Then the attempt failed as a timeout, soon, and the child is gone too
      assertThat(result.state()).isEqualTo(DatumState.FAILED);
      assertThat(result.error()).startsWith("timed out after 700 ms");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      long child = Long.parseLong(Files.readString(pidFile).trim());
      assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }
  }

  @Test
  void shouldRecoverWhenEveryTryFailsAndTheErrorCommandSucceeds() throws Exception {
    // Given a command that fails and an error command that checks its input is there
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [sh, -c, 'exit 1']}\n"
                + "errCmd: [sh, -c, 'test -f in/PERSON.csv && test -n \"$TUSK_DATUM_HASH\"']\n")) {
      // When a datum runs
      DatumExecution.Result result = execution.execute(datum("1"), LAYOUT);

      // Then it is RECOVERED after three tries, without output
      assertThat(result.state()).isEqualTo(DatumState.RECOVERED);
      assertThat(result.attempts()).isEqualTo(3);
      assertThat(result.output()).isNull();
      assertThat(result.log()).contains("== errCmd: ok");
    }
    // And an error command that fails too leaves the datum FAILED, naming both
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [sh, -c, 'exit 1']}\n"
                + "datumTries: 1\nerrCmd: [sh, -c, 'exit 2']\n")) {
      DatumExecution.Result result = execution.execute(datum("1"), LAYOUT);
      assertThat(result.state()).isEqualTo(DatumState.FAILED);
      assertThat(result.error()).isEqualTo("exited with status 1; errCmd: exited with status 2");
    }
  }

  @Test
  void shouldServeAMemberAHundredTimesTheTypicalSizeAndTheNextOneThroughTheSplitLayoutWorker() {
    // Given a member with 6,000 drug eras (the sample's members have about 60 rows) and a small one
    OmopFixtures.Member big = OmopFixtures.random(new Random(7), "big");
    LocalDate start = LocalDate.of(2001, 1, 1);
    for (int i = 0; i < 6_000; i++) {
      big.drugEra(
          i % 2 == 0 ? OmopFixtures.NAPROXEN : OmopFixtures.ACETAMINOPHEN,
          start.plusDays(i),
          start.plusDays(i + 1));
    }
    List<Datum> datums =
        List.of(
            OmopFixtures.datum("p", "job-1", "commit-1", big.object(REPO, "commit-1")),
            datum("small"));
    try (DatumExecution worker =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + EXAMPLES.resolve("python-worker/insight_worker.py")
                + "'], worker: true, inputFormat: split}\n")) {
      GiBleedInsights java = new GiBleedInsights();
      for (Datum datum : datums) {
        // When the worker serves each in turn
        DatumExecution.Result result = worker.execute(datum, LAYOUT);

        // Then each output is the Java transform's bytes, on the first attempt
        assertThat(result.state()).as(result.error()).isEqualTo(DatumState.SUCCESS);
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(text(result.output()))
            .isEqualTo(text(java.apply(new MemberDatumInput(datum, LAYOUT))));
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(workerStarts).hasValue(1);
  }

  @Test
  void shouldGiveTheErrorCommandOfASplitLayoutWorkerCsvFiles() throws Exception {
    // Given a split-layout worker that fails every datum, and an error command that needs CSV
    Path failing = errorWorker();
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + failing
                + "'], worker: true, inputFormat: split}\ndatumTries: 2\n"
                + "errCmd: [sh, -c, 'head -1 in/PERSON.csv | grep -q ^PERSON_ID,']\n")) {
      // When a datum runs
      DatumExecution.Result result = execution.execute(datum("1"), LAYOUT);

      // Then the error command found the member's tables as CSV and recovered it
      assertThat(result.state()).as(result.error()).isEqualTo(DatumState.RECOVERED);
      assertThat(result.attempts()).isEqualTo(2);
    }
  }

  @Test
  void shouldGiveCommandsAndWorkersNoCredentialOfTheProcessor() throws Exception {
    // Given a processor whose environment holds credentials (the build sets them for this test
    // JVM: TUSK_KAFKA_SASL_JAAS_CONFIG, KAFKA_OPTS, AWS_SECRET_ACCESS_KEY, TUSK_AUTH_TOKEN)
    assertThat(System.getenv("TUSK_KAFKA_SASL_JAAS_CONFIG")).isEqualTo("secret-jaas");
    Path worker =
        script(
            "env_worker.py",
            "import json, os, sys\n"
                + "for line in sys.stdin:\n"
                + "    print(json.dumps({'output': {'env': dict(os.environ)}})); sys.stdout.flush()\n");
    try (DatumExecution command =
            execution(
                "name: p\ninput: {repo: omop}\ntransform: {cmd: [sh, -c, 'env > out/env.txt'],"
                    + " env: {THRESHOLD: 3}}\n");
        DatumExecution longLived =
            execution(
                "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                    + worker
                    + "'], worker: true, env: {THRESHOLD: 3}}\n")) {
      // When a command and a worker print their environment
      DatumExecution.Result fromCommand = command.execute(datum("1"), LAYOUT);
      DatumExecution.Result fromWorker = longLived.execute(datum("1"), LAYOUT);

      // Then neither holds a credential, and both have PATH, the spec's variables and Tusk's
      for (DatumExecution.Result result : List.of(fromCommand, fromWorker)) {
        assertThat(result.state()).as(result.error()).isEqualTo(DatumState.SUCCESS);
        assertThat(text(result.output()))
            .doesNotContain("secret")
            .doesNotContain("TUSK_KAFKA")
            .doesNotContain("KAFKA_OPTS")
            .doesNotContain("AWS_SECRET")
            .doesNotContain("TUSK_AUTH")
            .contains("PATH")
            .contains("THRESHOLD")
            .contains("TUSK_PIPELINE");
      }
    }
  }

  @Test
  void shouldMakeOneJsonObjectWhenTheCommandWritesSeveralFilesAndFailWhenJsonIsInvalid()
      throws Exception {
    // Given a command writing a JSON file and a text file, and one writing broken JSON
    try (DatumExecution several =
            execution(
                "name: p\ninput: {repo: omop}\ntransform: {cmd: [sh, -c,"
                    + " 'echo {\\\"a\\\": 1} > out/b.json; mkdir out/sub; printf hi >"
                    + " out/sub/a.txt']}\n");
        DatumExecution broken =
            execution(
                "name: p\ninput: {repo: omop}\ntransform: {cmd: [sh, -c, 'echo {x >"
                    + " out/o.json']}\ndatumTries: 1\n");
        DatumExecution none =
            execution(
                "name: p\ninput: {repo: omop}\ntransform: {cmd: ['true']}\ndatumTries: 1\n")) {
      // When they run
      DatumExecution.Result object = several.execute(datum("1"), LAYOUT);
      DatumExecution.Result invalid = broken.execute(datum("1"), LAYOUT);
      DatumExecution.Result empty = none.execute(datum("1"), LAYOUT);

      // Then several files are one object by path; invalid JSON and no file fail the attempt
      assertThat(object.state()).as(object.error()).isEqualTo(DatumState.SUCCESS);
      assertThat(text(object.output())).isEqualTo("{\"b.json\":{\"a\":1},\"sub/a.txt\":\"hi\"}");
      assertThat(invalid.error()).startsWith("invalid output: out/o.json is not valid JSON");
      assertThat(empty.error()).isEqualTo("invalid output: the command wrote no file to out/");
    }
  }

  @Test
  void shouldRestartTheWorkerAndRetryTheDatumWhenItDiesOrHangsOrAnswersGarbage() throws Exception {
    // Given a worker that dies on member 13's first sight, hangs on member 14's, prints garbage on
    // member 15's, and otherwise echoes the member (a marker file remembers what it has seen)
    Path seen = Files.createDirectories(work.resolve("seen"));
    Path worker =
        script(
            "worker.py",
            String.join(
                "\n",
                "import json, os, sys, time",
                "for line in sys.stdin:",
                "    m = json.loads(line)['member']",
                "    marker = os.path.join('" + seen + "', m)",
                "    first = not os.path.exists(marker)",
                "    open(marker, 'w').close()",
                "    if first and m == '13':",
                "        print('dying', file=sys.stderr); sys.stderr.flush(); os._exit(9)",
                "    if first and m == '14':",
                "        time.sleep(60)",
                "    if first and m == '15':",
                "        print('not json'); sys.stdout.flush(); continue",
                "    print(json.dumps({'output': {'m': m}})); sys.stdout.flush()",
                ""));
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + worker
                + "'], worker: true}\ndatumTimeout: 1s\n")) {
      for (String member : List.of("12", "13", "14", "15", "16")) {
        // When each member is processed
        DatumExecution.Result result = execution.execute(datum(member), LAYOUT);

        // Then each succeeds, the troubled ones on their second attempt
        assertThat(result.state()).as(result.error()).isEqualTo(DatumState.SUCCESS);
        assertThat(text(result.output())).isEqualTo("{\"m\":\"" + member + "\"}");
        assertThat(result.attempts()).isEqualTo(List.of("13", "14", "15").contains(member) ? 2 : 1);
        if (member.equals("13")) {
          assertThat(result.log())
              .contains("the worker exited before answering (exit status 9)")
              .contains("dying");
        }
        if (member.equals("14")) {
          assertThat(result.log()).contains("the worker gave no answer within 1 s");
        }
        if (member.equals("15")) {
          assertThat(result.log()).contains("the worker's answer is not a JSON line");
        }
      }
    }
    // And the worker was started once, then once per trouble
    assertThat(workerStarts).hasValue(4);
  }

  @Test
  void shouldFailTheAttemptButKeepTheWorkerWhenItAnswersAnError() throws Exception {
    // Given a worker that reports an error for every datum
    Path worker = errorWorker();
    try (DatumExecution execution =
        execution(
            "name: p\ninput: {repo: omop}\ntransform: {cmd: [python3, '"
                + worker
                + "'], worker: true}\ndatumTries: 2\n")) {
      // When two datums run
      DatumExecution.Result first = execution.execute(datum("1"), LAYOUT);
      DatumExecution.Result second = execution.execute(datum("2"), LAYOUT);

      // Then both fail with the worker's words, and one process answered all four attempts
      assertThat(first.state()).isEqualTo(DatumState.FAILED);
      assertThat(first.error()).isEqualTo("the worker reported: no insight");
      assertThat(second.attempts()).isEqualTo(2);
    }
    assertThat(workerStarts).hasValue(1);
  }

  @Test
  void shouldInterruptAJavaTransformAndUseAFreshInstanceWhenItTimesOut() {
    // Given a Java transform that hangs on member 1 only
    try (DatumExecution execution =
        new DatumExecution(
            new JavaRunner(
                () ->
                    input -> {
                      if (input.member().equals("1")) {
                        Thread.sleep(60_000);
                      }
                      return TransformOutput.json("{}");
                    }),
            2,
            Duration.ofMillis(300),
            null,
            List.of())) {
      // When member 1 and then member 2 run
      DatumExecution.Result hung = execution.execute(datum("1"), LAYOUT);
      DatumExecution.Result fine = execution.execute(datum("2"), LAYOUT);

      // Then member 1 failed on timeouts and member 2 succeeded
      assertThat(hung.state()).isEqualTo(DatumState.FAILED);
      assertThat(hung.error()).startsWith("timed out after 300 ms");
      assertThat(fine.state()).isEqualTo(DatumState.SUCCESS);
    }
  }
}
