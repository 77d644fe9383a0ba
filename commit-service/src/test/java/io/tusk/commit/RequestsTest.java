package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.Trigger;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

class RequestsTest {
  private static final long NOW = 1_700_000_000_000L;

  @Test
  void shouldApplyDefaultsWhenOptionalRepoFieldsAreAbsent() {
    // Given a repo with one table and nothing optional
    JsonObject body = repo();

    // When it is validated
    RepoSpec spec = Requests.repoSpec(body, NOW, 0);

    // Then format is CSV, the default table the first, 3 partitions on both sides, no row key
    assertThat(spec.getName()).isEqualTo("omop");
    assertThat(spec.getFormat()).isEqualTo(RowFormat.CSV);
    assertThat(spec.getDefaultTable()).isEqualTo("CONDITION_ERA");
    assertThat(spec.getUpdatePartitions()).isEqualTo(3);
    assertThat(spec.getMemberPartitions()).isEqualTo(3);
    assertThat(spec.getCreatedAt()).isEqualTo(NOW);
    assertThat(spec.getTables())
        .containsExactly(
            TableSpec.newBuilder()
                .setName("CONDITION_ERA")
                .setColumns(List.of("CONDITION_ERA_ID", "PERSON_ID", "CONDITION_CONCEPT_ID"))
                .setMemberKey("PERSON_ID")
                .setRowKey(List.of())
                .build());
  }

  @Test
  void shouldRefuseAMemberPartitionCountOtherThanTheDeploymentsWhenOneIsGiven() {
    JsonObject body = repo().put("memberPartitions", 4);
    assertBadRequest(() -> Requests.repoSpec(body, NOW, 6))
        .hasMessageStartingWith("memberPartitions is 6 for every repo");
  }

  @Test
  void shouldKeepTypesOpColumnRetentionAndAvroWhenGiven() {
    // Given an Avro repo whose table has typed columns, an op column and a row key
    JsonObject body = repo().put("format", "avro").put("historyRetention", 10);
    JsonObject table = body.getJsonArray("tables").getJsonObject(0);
    table.getJsonArray("columns").add("OP");
    table
        .put("rowKey", new JsonArray().add("CONDITION_ERA_ID"))
        .put("opColumn", "OP")
        .put("columnTypes", new JsonObject().put("CONDITION_CONCEPT_ID", "long"));

    // When it is validated
    RepoSpec spec = Requests.repoSpec(body, NOW, 0);

    // Then every setting is kept
    assertThat(spec.getFormat()).isEqualTo(RowFormat.AVRO);
    assertThat(spec.getHistoryRetention()).isEqualTo(10);
    assertThat(spec.getTables().get(0).getOpColumn()).isEqualTo("OP");
    assertThat(spec.getTables().get(0).getColumnTypes())
        .containsEntry("CONDITION_CONCEPT_ID", "long");
  }

  @Test
  void shouldNameTheFieldWhenATypeOrOpColumnIsInvalid() {
    JsonObject badType = repo();
    badType
        .getJsonArray("tables")
        .getJsonObject(0)
        .put("columnTypes", new JsonObject().put("PERSON_ID", "money"));
    assertBadRequest(() -> Requests.repoSpec(badType, NOW, 3))
        .hasMessageStartingWith("tables[0].columnTypes.PERSON_ID");
    JsonObject opWithoutKey = repo();
    opWithoutKey.getJsonArray("tables").getJsonObject(0).put("opColumn", "PERSON_ID");
    assertBadRequest(() -> Requests.repoSpec(opWithoutKey, NOW, 3))
        .hasMessageStartingWith("tables[0].opColumn needs");
  }

  @Test
  void shouldKeepEveryFieldWhenAllAreGiven() {
    // Given two tables, JSON format, a default table, a row key and both partition counts
    JsonObject body =
        repo()
            .put("format", "JSON")
            .put("defaultTable", "DRUG_ERA")
            .put("partitions", 2)
            .put("memberPartitions", 5);
    body.getJsonArray("tables")
        .getJsonObject(0)
        .put("rowKey", new JsonArray().add("CONDITION_ERA_ID"));
    body.getJsonArray("tables").add(table("DRUG_ERA", "DRUG_ERA_ID", "PERSON_ID"));

    // When it is validated in a deployment of 5 member partitions
    RepoSpec spec = Requests.repoSpec(body, NOW, 5);

    // Then nothing is defaulted
    assertThat(spec.getFormat()).isEqualTo(RowFormat.JSON);
    assertThat(spec.getDefaultTable()).isEqualTo("DRUG_ERA");
    assertThat(spec.getUpdatePartitions()).isEqualTo(2);
    assertThat(spec.getMemberPartitions()).isEqualTo(5);
    assertThat(spec.getTables())
        .extracting(TableSpec::getName)
        .containsExactly("CONDITION_ERA", "DRUG_ERA");
    assertThat(spec.getTables().get(0).getRowKey()).containsExactly("CONDITION_ERA_ID");
  }

  @Test
  void shouldNameTheFieldWhenARepoIsInvalid() {
    // Each case: a change to a valid body, and the field its error must name
    rejected(b -> b.remove("name"), "name is required");
    rejected(b -> b.put("name", "Bad Name"), "name 'Bad Name' must be 1-63 characters of a-z");
    rejected(b -> b.put("name", "tusk"), "name 'tusk'");
    rejected(b -> b.put("name", 7), "name must be a non-blank string");
    rejected(
        b -> b.put("format", "xml"), "format must be \"csv\", \"json\", \"avro\" or \"debezium\"");
    rejected(b -> b.remove("tables"), "tables is required");
    rejected(b -> b.put("tables", new JsonArray()), "tables must hold at least one table");
    rejected(b -> b.put("tables", new JsonObject()), "tables must be an array");
    rejected(b -> b.getJsonArray("tables").add("x"), "tables[1] must be an object");
    rejected(
        b -> b.getJsonArray("tables").add(table("CONDITION_ERA", "A", "PERSON_ID")),
        "tables[1].name 'CONDITION_ERA' is used by another table");
    rejected(b -> firstTable(b).remove("name"), "tables[0].name is required");
    rejected(b -> firstTable(b).put("columns", new JsonArray()), "tables[0].columns must not");
    rejected(
        b -> firstTable(b).put("columns", new JsonArray().add("PERSON_ID").add("PERSON_ID")),
        "tables[0].columns[1] 'PERSON_ID' is listed twice");
    rejected(
        b -> firstTable(b).put("columns", new JsonArray().add("PERSON_ID").add(" ")),
        "tables[0].columns[1] must be a non-blank string");
    rejected(
        b -> firstTable(b).put("memberKey", "MEMBER"),
        "tables[0].memberKey 'MEMBER' is not one of tables[0].columns");
    rejected(
        b -> firstTable(b).put("rowKey", new JsonArray().add("PERSON_ID").add("NOPE")),
        "tables[0].rowKey[1] 'NOPE' is not one of tables[0].columns");
    rejected(b -> firstTable(b).put("rowkey", new JsonArray()), "tables[0].rowkey is not a known");
    rejected(b -> b.put("defaultTable", "DRUG_ERA"), "defaultTable 'DRUG_ERA' is not the name");
    rejected(b -> b.put("partitions", 0), "partitions must be a whole number from 1 to 1000");
    rejected(b -> b.put("partitions", 1001), "partitions must be a whole number from 1 to 1000");
    rejected(b -> b.put("partitions", 2.5), "partitions must be a whole number");
    rejected(b -> b.put("partitions", "3"), "partitions must be a whole number");
    rejected(b -> b.put("memberPartitions", -1), "memberPartitions must be a whole number");
    rejected(b -> b.put("partition", 3), "partition is not a known field");
  }

  @Test
  void shouldHashTheSpecWhenAPipelineIsValid() {
    // Given a pipeline with no parallelism
    JsonObject body = pipeline();

    // When it is validated
    PipelineSpec spec = pipelineSpec(body, NOW);

    // Then it has the defaults (master, parallelism 4, 3 tries, no timeouts) and its spec hash
    assertThat(spec.getName()).isEqualTo("gibleed-insights");
    assertThat(spec.getInputRepo()).isEqualTo("omop");
    assertThat(spec.getInputBranch()).isEqualTo("master");
    assertThat(spec.getInputPipeline()).isNull();
    assertThat(spec.getTransform().getKind()).isEqualTo(TransformKind.JAVA);
    assertThat(spec.getTransform().getName()).isEqualTo("gi-bleed");
    assertThat(spec.getParallelism()).isEqualTo(4);
    assertThat(spec.getDatumTries()).isEqualTo(3);
    assertThat(spec.getDatumTimeoutMs()).isNull();
    assertThat(spec.getJobTimeoutMs()).isNull();
    assertThat(spec.getErrCmd()).isEmpty();
    assertThat(spec.getKeepOutputsOnUpdate()).isFalse();
    assertThat(spec.getVersion()).isEqualTo(1);
    assertThat(spec.getSpecHash()).isEqualTo(PipelineSpecs.specHash(spec)).hasSize(64);
    assertThat(spec.getCreatedAt()).isEqualTo(NOW);
    assertThat(spec.getUpdatedAt()).isEqualTo(NOW);
    assertThat(pipelineSpec(pipeline().put("parallelism", 12), NOW).getParallelism()).isEqualTo(12);
  }

  @Test
  void shouldNameTheFieldWhenAPipelineIsInvalid() {
    pipelineRejected(b -> b.put("name", "a.b"), "name 'a.b' must be");
    pipelineRejected(b -> b.remove("input"), "input is required");
    pipelineRejected(b -> b.put("input", "omop"), "input must be an object");
    pipelineRejected(b -> b.put("input", new JsonObject()), "input is required");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("repo", "Omop")), "input.repo 'Omop' must be");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("repo", "omop").put("pipeline", "x")),
        "input must name a repo (and optional branch) or a pipeline (and memberKey), not both");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("repo", "omop").put("branch", "Dev")),
        "input.branch 'Dev' must be");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("repo", "omop").put("memberKey", "x")),
        "input.memberKey applies to pipeline inputs only");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("pipeline", "up")), "input.memberKey is required");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("pipeline", "up").put("memberKey", "member")),
        "input.memberKey 'member' is a column of the derived repo's own table");
    pipelineRejected(
        b ->
            b.put(
                "input",
                new JsonObject().put("pipeline", "gibleed-insights").put("memberKey", "k")),
        "input.pipeline 'gibleed-insights' is the pipeline itself");
    pipelineRejected(
        b ->
            b.put("input", new JsonObject().put("pipeline", "up").put("memberKey", "k".repeat(60))),
        "input.memberKey 'kkk");
    pipelineRejected(
        b ->
            b.put(
                "input",
                new JsonObject().put("pipeline", "up").put("memberKey", "k").put("branch", "dev")),
        "input.branch applies to repo inputs only");
    pipelineRejected(b -> b.remove("transform"), "transform is required");
    pipelineRejected(b -> b.put("transform", new JsonObject()), "transform is required");
    pipelineRejected(
        b -> b.put("transform", new JsonObject().put("python", "x.py")),
        "transform.python is not a known field");
    pipelineRejected(
        b ->
            b.put(
                "transform",
                new JsonObject().put("java", "x").put("cmd", new JsonArray().add("a"))),
        "transform must have java or cmd, not both");
    pipelineRejected(
        b -> b.put("transform", new JsonObject().put("java", "x").put("worker", true)),
        "transform.worker applies to cmd transforms only");
    pipelineRejected(
        b -> b.put("transform", new JsonObject().put("cmd", new JsonArray())),
        "transform.cmd must hold the command");
    pipelineRejected(
        b -> b.put("transform", new JsonObject().put("cmd", new JsonArray().add(" "))),
        "transform.cmd[0] must name the program");
    pipelineRejected(
        b -> b.put("transform", new JsonObject().put("cmd", "python3 x.py")),
        "transform.cmd must be an array");
    pipelineRejected(
        b -> b.put("transform", cmd().put("worker", "yes")),
        "transform.worker must be true or false");
    pipelineRejected(
        b -> b.put("transform", cmd().put("worker", true).put("inputFormat", "csv")),
        "transform.inputFormat does not apply to workers");
    pipelineRejected(
        b -> b.put("transform", cmd().put("inputFormat", "xml")),
        "transform.inputFormat must be \"csv\" or \"json\"");
    pipelineRejected(
        b -> b.put("transform", cmd().put("env", new JsonObject().put("A-B", "1"))),
        "transform.env.A-B is not a valid environment variable name");
    pipelineRejected(
        b -> b.put("transform", cmd().put("env", new JsonObject().put("TUSK_JOB_ID", "1"))),
        "transform.env.TUSK_JOB_ID names starting with TUSK_ are set by Tusk");
    pipelineRejected(
        b -> b.put("transform", cmd().put("env", new JsonObject().put("A", new JsonArray()))),
        "transform.env.A must be a string");
    pipelineRejected(b -> b.put("parallelism", 0), "parallelism must be a whole number from 1");
    pipelineRejected(
        b -> b.put("datumTries", 0), "datumTries must be a whole number from 1 to 100");
    pipelineRejected(b -> b.put("datumTimeout", "30"), "datumTimeout must be a duration such as");
    pipelineRejected(b -> b.put("jobTimeout", 30), "jobTimeout must be a non-blank string");
    pipelineRejected(b -> b.put("jobTimeout", "0s"), "jobTimeout must be more than 0");
    pipelineRejected(b -> b.put("keepOutputsOnUpdate", "no"), "keepOutputsOnUpdate must be true");
    pipelineRejected(b -> b.put("datum_tries", 2), "datum_tries is not a known field");
  }

  @Test
  void shouldKeepEveryFieldWhenACommandPipelineIsFullySpecified() {
    // Given a command transform on branch dev with every optional field
    JsonObject body =
        pipeline()
            .put("input", new JsonObject().put("repo", "omop").put("branch", "dev"))
            .put(
                "transform",
                cmd()
                    .put("env", new JsonObject().put("MODE", "strict").put("THREADS", 2))
                    .put("inputFormat", "json"))
            .put("parallelism", 2)
            .put("datumTries", 5)
            .put("datumTimeout", "1m30s")
            .put("jobTimeout", "2h")
            .put("errCmd", new JsonArray().add("sh").add("-c").add("exit 0"))
            .put("keepOutputsOnUpdate", true);

    // When it is validated
    PipelineSpec spec = pipelineSpec(body, NOW);

    // Then every field is kept, durations in milliseconds
    assertThat(spec.getInputBranch()).isEqualTo("dev");
    assertThat(spec.getTransform().getKind()).isEqualTo(TransformKind.COMMAND);
    assertThat(spec.getTransform().getName()).isEmpty();
    assertThat(spec.getTransform().getCmd()).containsExactly("python3", "gi.py");
    assertThat(spec.getTransform().getEnv())
        .containsEntry("MODE", "strict")
        .containsEntry("THREADS", "2");
    assertThat(spec.getTransform().getInputFormat()).isEqualTo("json");
    assertThat(spec.getParallelism()).isEqualTo(2);
    assertThat(spec.getDatumTries()).isEqualTo(5);
    assertThat(spec.getDatumTimeoutMs()).isEqualTo(90_000L);
    assertThat(spec.getJobTimeoutMs()).isEqualTo(7_200_000L);
    assertThat(spec.getErrCmd()).containsExactly("sh", "-c", "exit 0");
    assertThat(spec.getKeepOutputsOnUpdate()).isTrue();

    // And a worker is a WORKER transform
    JsonObject worker = pipeline().put("transform", cmd().put("worker", true));
    assertThat(pipelineSpec(worker, NOW).getTransform().getKind()).isEqualTo(TransformKind.WORKER);
  }

  @Test
  void shouldReadTheDerivedRepoWhenTheInputIsAPipeline() {
    // Given an input of pipeline gibleed's outputs keyed by PERSON_ID
    JsonObject body =
        pipeline()
            .put("name", "risk")
            .put(
                "input", new JsonObject().put("pipeline", "gibleed").put("memberKey", "PERSON_ID"));

    // When it is validated
    PipelineSpec spec = pipelineSpec(body, NOW);

    // Then it reads master of the derived repo gibleed-by-person_id
    assertThat(spec.getInputRepo()).isEqualTo("gibleed-by-person_id");
    assertThat(spec.getInputBranch()).isEqualTo("master");
    assertThat(spec.getInputPipeline()).isEqualTo("gibleed");
    assertThat(spec.getInputMemberKey()).isEqualTo("PERSON_ID");
  }

  @Test
  void shouldReadTheSameSpecWhenTheDocumentIsYaml() {
    // Given the same pipeline as YAML and as JSON
    String yaml =
        String.join(
            "\n",
            "name: gibleed-insights",
            "input:",
            "  repo: omop",
            "  branch: dev",
            "transform:",
            "  cmd: [python3, gi.py]",
            "  env:",
            "    THREADS: 2",
            "datumTimeout: 30s",
            "keepOutputsOnUpdate: true",
            "");
    JsonObject json =
        pipeline()
            .put("input", new JsonObject().put("repo", "omop").put("branch", "dev"))
            .put("transform", cmd().put("env", new JsonObject().put("THREADS", "2")))
            .put("datumTimeout", "30s")
            .put("keepOutputsOnUpdate", true);

    // When both are read
    Map<String, Object> fromYaml = Requests.specDocument(yaml);
    Map<String, Object> fromJson = Requests.specDocument(json.encode());

    // Then they give the same spec
    assertThat(Requests.pipelineSpec(fromYaml, NOW))
        .isEqualTo(Requests.pipelineSpec(fromJson, NOW));

    // And broken documents are 400s saying why
    assertBadRequest(() -> Requests.specDocument("name: [unclosed"))
        .hasMessageStartingWith("request body: the spec is not valid YAML");
    assertBadRequest(() -> Requests.specDocument("- a\n- b\n"))
        .hasMessageStartingWith("request body: the spec must be an object");
    assertBadRequest(() -> Requests.specDocument("{\"name\":"))
        .hasMessageStartingWith("request body: the spec is not valid JSON");
    assertBadRequest(() -> Requests.specDocument(""))
        .hasMessageStartingWith("request body must be a pipeline spec");
  }

  @Test
  void shouldKeepNameAndParallelismWhenAnUpdateLeavesThemOut() {
    // Given a pipeline of parallelism 2
    PipelineSpec current = pipelineSpec(pipeline().put("parallelism", 2), NOW);

    // When an update names neither
    JsonObject update = pipeline();
    update.remove("name");
    PipelineSpec updated = pipelineSpec(update, NOW + 1, current);

    // Then both are kept
    assertThat(updated.getName()).isEqualTo("gibleed-insights");
    assertThat(updated.getParallelism()).isEqualTo(2);

    // And an update naming another pipeline is a 400
    assertBadRequest(() -> pipelineSpec(pipeline().put("name", "other"), NOW, current))
        .hasMessageStartingWith("name 'other' differs from the pipeline updated");
  }

  @Test
  void shouldChangeTheSpecHashOnlyWhenWhatDecidesOutputsChanges() {
    // Given a command pipeline
    JsonObject base = pipeline().put("transform", cmd());
    String hash = pipelineSpec(base, NOW).getSpecHash();

    // Then parallelism, tries, timeouts and keepOutputsOnUpdate keep the hash
    for (Consumer<JsonObject> same :
        List.<Consumer<JsonObject>>of(
            b -> b.put("parallelism", 9),
            b -> b.put("datumTries", 9),
            b -> b.put("datumTimeout", "1s"),
            b -> b.put("jobTimeout", "1h"),
            b -> b.put("keepOutputsOnUpdate", true))) {
      JsonObject body = base.copy();
      same.accept(body);
      assertThat(pipelineSpec(body, NOW).getSpecHash()).isEqualTo(hash);
    }

    // And input, command, environment, input format and error command change it (the branch does
    // not: a member's datum is the same whichever branch led to it)
    for (Consumer<JsonObject> different :
        List.<Consumer<JsonObject>>of(
            b -> b.put("input", new JsonObject().put("repo", "other")),
            b -> b.put("transform", cmd().put("cmd", new JsonArray().add("python3").add("v2.py"))),
            b -> b.put("transform", cmd().put("env", new JsonObject().put("A", "1"))),
            b -> b.put("transform", cmd().put("inputFormat", "json")),
            b -> b.put("transform", cmd().put("worker", true)),
            b -> b.put("errCmd", new JsonArray().add("true")))) {
      JsonObject body = base.copy();
      different.accept(body);
      assertThat(pipelineSpec(body, NOW).getSpecHash()).isNotEqualTo(hash);
    }
  }

  @Test
  void shouldCheckPagingAndIdsWhenParametersAreGiven() {
    // Defaults when absent
    assertThat(Requests.limit(null)).isEqualTo(50);
    assertThat(Requests.before(null)).isEqualTo(Long.MAX_VALUE);
    assertThat(Requests.limit("1000")).isEqualTo(1000);
    assertThat(Requests.before("7")).isEqualTo(7);
    String id = "0123456789abcdef0123456789abcdef";
    assertThat(Requests.erasureId("id", id)).isEqualTo(id);

    // Errors name the parameter
    assertBadRequest(() -> Requests.limit("0")).hasMessageStartingWith("limit must be");
    assertBadRequest(() -> Requests.limit("1001")).hasMessageStartingWith("limit must be");
    assertBadRequest(() -> Requests.limit("ten")).hasMessageStartingWith("limit must be");
    assertBadRequest(() -> Requests.before("0")).hasMessageStartingWith("before must be");
    assertBadRequest(() -> Requests.before("x")).hasMessageStartingWith("before must be");
    assertBadRequest(() -> Requests.erasureId("id", "XYZ"))
        .hasMessageStartingWith("id must be an erasure request ID");
    assertThat(Requests.limit(null, 100)).isEqualTo(100);
    assertThat(Requests.cursor("after", null)).isNull();
    assertThat(Requests.cursor("after", "2:17")).isEqualTo(new RejectedRows.Cursor(2, 17));
    for (String bad : List.of("2", "2:", ":1", "a:1", "1:2:3", "-1:0")) {
      assertBadRequest(() -> Requests.cursor("after", bad)).hasMessageStartingWith("after must be");
    }
    assertThat(Requests.flag("reprocess", null)).isFalse();
    assertThat(Requests.flag("reprocess", "TRUE")).isTrue();
    assertThat(Requests.flag("reprocess", "false")).isFalse();
    assertBadRequest(() -> Requests.flag("reprocess", "yes"))
        .hasMessageStartingWith("reprocess must be true or false");
    assertBadRequest(() -> Requests.erasureId("id", id.toUpperCase()))
        .hasMessageStartingWith("id must be");
  }

  @Test
  void shouldReadTheTriggerWhenARepoOrATriggerUpdateSetsOne() {
    // Given a repo with a trigger of every kind
    JsonObject body =
        repo()
            .put(
                "trigger",
                new JsonObject()
                    .put("everyRows", 10000)
                    .put("everySeconds", 30)
                    .put("cron", "*/5 * * * *"));

    // When it is validated
    Trigger trigger = Requests.repoSpec(body, NOW, 0).getTrigger();

    // Then all three are kept; a repo without one has none, an empty update clears it
    assertThat(trigger.getEveryRows()).isEqualTo(10000L);
    assertThat(trigger.getEverySeconds()).isEqualTo(30L);
    assertThat(trigger.getCron()).isEqualTo("*/5 * * * *");
    assertThat(Requests.repoSpec(repo(), NOW, 0).getTrigger()).isNull();
    assertThat(Requests.trigger(new JsonObject())).isNull();
    assertThat(Requests.trigger(new JsonObject().put("everySeconds", 5)).getEverySeconds())
        .isEqualTo(5L);

    // And bad values are 400s naming the field
    rejected(
        b -> b.put("trigger", new JsonObject().put("everyRows", 0)),
        "trigger.everyRows must be a whole number from 1");
    rejected(
        b -> b.put("trigger", new JsonObject().put("cron", "* * *")),
        "trigger.cron '* * *' must have 5 fields");
    rejected(
        b -> b.put("trigger", new JsonObject().put("cron", "0 0 31 2 *")),
        "trigger.cron '0 0 31 2 *' never fires");
    rejected(b -> b.put("trigger", new JsonObject().put("every", 3)), "trigger.every is not");
    assertBadRequest(() -> Requests.trigger(new JsonObject().put("everySeconds", "5")))
        .hasMessageStartingWith("everySeconds must be a whole number");
  }

  @Test
  void shouldNameTheFieldWhenBranchRequestsAreInvalid() {
    // Given a commit ID
    String id = "0123456789abcdef0123456789abcdef";

    // Then valid bodies are read, with an optional head or expected head
    assertThat(Requests.newBranch(new JsonObject().put("name", "dev")))
        .isEqualTo(new Requests.NewBranch("dev", null));
    assertThat(Requests.newBranch(new JsonObject().put("name", "dev").put("head", id)))
        .isEqualTo(new Requests.NewBranch("dev", id));
    assertThat(Requests.branchMove(new JsonObject().put("head", id).put("expectedHead", id)))
        .isEqualTo(new Requests.BranchMove(id, id));

    // And invalid ones are 400s naming the field
    assertBadRequest(() -> Requests.newBranch(new JsonObject())).hasMessage("name is required");
    assertBadRequest(() -> Requests.newBranch(new JsonObject().put("name", "Dev")))
        .hasMessageStartingWith("name 'Dev' must be 1-63 characters");
    assertBadRequest(() -> Requests.newBranch(new JsonObject().put("name", "a/b")))
        .hasMessageStartingWith("name 'a/b' must be");
    // (a head is any commit reference, "x" a branch maybe: BranchControl resolves it, CommitRefs)
    assertThat(Requests.newBranch(new JsonObject().put("name", "d").put("head", "master~2")))
        .isEqualTo(new Requests.NewBranch("d", "master~2"));
    assertBadRequest(() -> Requests.newBranch(new JsonObject().put("name", "d").put("from", id)))
        .hasMessageStartingWith("from is not a known field");
    assertBadRequest(() -> Requests.branchMove(new JsonObject())).hasMessage("head is required");
    assertBadRequest(() -> Requests.branchName("branch", "UPPER"))
        .hasMessageStartingWith("branch 'UPPER' must be");
    assertBadRequest(() -> Requests.name("repo", "a.b")).hasMessageStartingWith("repo 'a.b'");
  }

  private static void rejected(Consumer<JsonObject> change, String message) {
    JsonObject body = repo();
    change.accept(body);
    assertBadRequest(() -> Requests.repoSpec(body, NOW, 0)).hasMessageStartingWith(message);
  }

  /**
   * A 400 whose message starts with the offending field's path (the wording is the shared parser's,
   * tested in PipelineSpecsTest).
   */
  private static void pipelineRejected(Consumer<JsonObject> change, String message) {
    JsonObject body = pipeline();
    change.accept(body);
    String field = message.split(" ", 2)[0];
    assertBadRequest(() -> pipelineSpec(body, NOW)).hasMessageStartingWith(field + " ");
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertBadRequest(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    return assertThatThrownBy(call)
        .isInstanceOf(ApiException.class)
        .satisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(400));
  }

  private static JsonObject repo() {
    return new JsonObject()
        .put("name", "omop")
        .put(
            "tables",
            new JsonArray()
                .add(
                    table("CONDITION_ERA", "CONDITION_ERA_ID", "PERSON_ID")
                        .put(
                            "columns",
                            new JsonArray()
                                .add("CONDITION_ERA_ID")
                                .add("PERSON_ID")
                                .add("CONDITION_CONCEPT_ID"))));
  }

  private static JsonObject table(String name, String id, String member) {
    return new JsonObject()
        .put("name", name)
        .put("columns", new JsonArray().add(id).add(member))
        .put("memberKey", member);
  }

  private static JsonObject firstTable(JsonObject body) {
    return body.getJsonArray("tables").getJsonObject(0);
  }

  private static JsonObject cmd() {
    return new JsonObject().put("cmd", new JsonArray().add("python3").add("gi.py"));
  }

  private static JsonObject pipeline() {
    return new JsonObject()
        .put("name", "gibleed-insights")
        .put("input", new JsonObject().put("repo", "omop"))
        .put("transform", new JsonObject().put("java", "gi-bleed"));
  }

  /** A spec document as the API reads a JSON body. */
  private static PipelineSpec pipelineSpec(JsonObject body, long now) {
    return Requests.pipelineSpec(Requests.specDocument(body.encode()), now);
  }

  private static PipelineSpec pipelineSpec(JsonObject body, long now, PipelineSpec previous) {
    return Requests.pipelineSpec(Requests.specDocument(body.encode()), now, previous);
  }
}
