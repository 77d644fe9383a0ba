package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import io.tusk.common.member.Hashing;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
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
    RepoSpec spec = Requests.repoSpec(body, NOW);

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

    // When it is validated
    RepoSpec spec = Requests.repoSpec(body, NOW);

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
    rejected(b -> b.put("format", "xml"), "format must be \"csv\" or \"json\"");
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
    PipelineSpec spec = Requests.pipelineSpec(body, NOW);

    // Then it has the default parallelism and the spec hash of (repo, JAVA, class)
    assertThat(spec.getName()).isEqualTo("gibleed-insights");
    assertThat(spec.getInputRepo()).isEqualTo("omop");
    assertThat(spec.getTransform().getKind()).isEqualTo(TransformKind.JAVA);
    assertThat(spec.getTransform().getName()).isEqualTo("gi-bleed");
    assertThat(spec.getParallelism()).isEqualTo(4);
    assertThat(spec.getSpecHash()).isEqualTo(Hashing.specHash("omop", "JAVA", "gi-bleed"));
    assertThat(spec.getCreatedAt()).isEqualTo(NOW);
    assertThat(Requests.pipelineSpec(pipeline().put("parallelism", 12), NOW).getParallelism())
        .isEqualTo(12);
  }

  @Test
  void shouldNameTheFieldWhenAPipelineIsInvalid() {
    pipelineRejected(b -> b.put("name", "a.b"), "name 'a.b' must be");
    pipelineRejected(b -> b.remove("input"), "input is required");
    pipelineRejected(b -> b.put("input", "omop"), "input must be an object");
    pipelineRejected(b -> b.put("input", new JsonObject()), "input.repo is required");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("repo", "Omop")), "input.repo 'Omop' must be");
    pipelineRejected(
        b -> b.put("input", new JsonObject().put("repo", "omop").put("pipeline", "x")),
        "input.pipeline is not a known field");
    pipelineRejected(b -> b.remove("transform"), "transform is required");
    pipelineRejected(b -> b.put("transform", new JsonObject()), "transform.java is required");
    pipelineRejected(
        b -> b.put("transform", new JsonObject().put("python", "x.py")),
        "transform.python is not a known field");
    pipelineRejected(b -> b.put("parallelism", 0), "parallelism must be a whole number from 1");
  }

  @Test
  void shouldCheckPagingAndIdsWhenParametersAreGiven() {
    // Defaults when absent
    assertThat(Requests.limit(null)).isEqualTo(50);
    assertThat(Requests.before(null)).isEqualTo(Long.MAX_VALUE);
    assertThat(Requests.limit("1000")).isEqualTo(1000);
    assertThat(Requests.before("7")).isEqualTo(7);
    String id = "0123456789abcdef0123456789abcdef";
    assertThat(Requests.commitId("id", id)).isEqualTo(id);

    // Errors name the parameter
    assertBadRequest(() -> Requests.limit("0")).hasMessageStartingWith("limit must be");
    assertBadRequest(() -> Requests.limit("1001")).hasMessageStartingWith("limit must be");
    assertBadRequest(() -> Requests.limit("ten")).hasMessageStartingWith("limit must be");
    assertBadRequest(() -> Requests.before("0")).hasMessageStartingWith("before must be");
    assertBadRequest(() -> Requests.before("x")).hasMessageStartingWith("before must be");
    assertBadRequest(() -> Requests.commitId("id", "XYZ")).hasMessageStartingWith("id must be");
    assertBadRequest(() -> Requests.commitId("id", id.toUpperCase()))
        .hasMessageStartingWith("id must be");
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
    assertBadRequest(() -> Requests.newBranch(new JsonObject().put("name", "d").put("head", "x")))
        .hasMessageStartingWith("head must be a commit ID");
    assertBadRequest(() -> Requests.newBranch(new JsonObject().put("name", "d").put("from", id)))
        .hasMessageStartingWith("from is not a known field");
    assertBadRequest(() -> Requests.branchMove(new JsonObject())).hasMessage("head is required");
    assertBadRequest(
            () -> Requests.branchMove(new JsonObject().put("head", id).put("expectedHead", "x")))
        .hasMessageStartingWith("expectedHead must be a commit ID");
    assertBadRequest(() -> Requests.branchName("branch", "UPPER"))
        .hasMessageStartingWith("branch 'UPPER' must be");
    assertBadRequest(() -> Requests.name("repo", "a.b")).hasMessageStartingWith("repo 'a.b'");
  }

  private static void rejected(Consumer<JsonObject> change, String message) {
    JsonObject body = repo();
    change.accept(body);
    assertBadRequest(() -> Requests.repoSpec(body, NOW)).hasMessageStartingWith(message);
  }

  private static void pipelineRejected(Consumer<JsonObject> change, String message) {
    JsonObject body = pipeline();
    change.accept(body);
    assertBadRequest(() -> Requests.pipelineSpec(body, NOW)).hasMessageStartingWith(message);
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

  private static JsonObject pipeline() {
    return new JsonObject()
        .put("name", "gibleed-insights")
        .put("input", new JsonObject().put("repo", "omop"))
        .put("transform", new JsonObject().put("java", "gi-bleed"));
  }
}
