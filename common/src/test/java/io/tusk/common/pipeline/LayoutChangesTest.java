package io.tusk.common.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import io.tusk.schemas.RepoSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a layout update may change, what it refuses (409 naming the change), and the history. */
class LayoutChangesTest {
  private final RepoSpec repo =
      RepoSpecs.fromDocument(
          Map.of(
              "name",
              "claims",
              "partitions",
              2,
              "tables",
              List.of(
                  table(
                      List.of("ID", "PERSON_ID", "AMOUNT", "OP"),
                      Map.of("AMOUNT", "int"),
                      List.of("ID")))),
          1000,
          0);

  @Test
  void shouldAddColumnsWidenTypesAndAddTablesFromTheNextCommit() {
    Map<String, Object> claims =
        new HashMap<>(
            table(
                List.of("ID", "PERSON_ID", "AMOUNT", "OP", "PLAN"),
                Map.of("AMOUNT", "double"),
                List.of("ID")));
    claims.put("defaults", Map.of("PLAN", "basic"));
    claims.put("opColumn", "OP");
    Map<String, Object> lab =
        Map.of("name", "lab", "columns", List.of("PERSON_ID", "VALUE"), "memberKey", "PERSON_ID");

    RepoSpec updated =
        LayoutChanges.update(
            repo, Map.of("name", "claims", "partitions", 2, "tables", List.of(claims, lab)), 7, 5);

    assertThat(updated.getLayoutVersion()).isEqualTo(2);
    assertThat(updated.getLayoutStartSequence()).isEqualTo(7);
    assertThat(updated.getLayoutChangedAt()).isEqualTo(5);
    assertThat(updated.getLayoutChanges())
        .containsExactly(
            "widen claims.AMOUNT from int to double",
            "add column claims.PLAN (older rows: default 'basic')",
            "op column of claims: none -> OP",
            "add table lab [PERSON_ID, VALUE]");
    assertThat(updated.getPreviousLayouts()).hasSize(1);
    assertThat(updated.getPreviousLayouts().get(0).getTables()).isEqualTo(repo.getTables());
    assertThat(updated.getPreviousLayouts().get(0).getStartSequence()).isZero();
    // Everything that is not layout stays
    assertThat(updated.getUpdatePartitions()).isEqualTo(repo.getUpdatePartitions());
    assertThat(updated.getCreatedAt()).isEqualTo(1000);
  }

  @Test
  void shouldChangeNothingWhenTheLayoutIsTheSame() {
    Map<String, Object> same =
        Map.of(
            "tables",
            List.of(
                table(
                    List.of("ID", "PERSON_ID", "AMOUNT", "OP"),
                    Map.of("AMOUNT", "int"),
                    List.of("ID"))));
    assertThat(LayoutChanges.update(repo, same, 3, 5)).isSameAs(repo);
  }

  @Test
  void shouldRefuseUnsafeChangesNamingThem() {
    assertRefused(
        List.of(table(List.of("ID", "PERSON_ID", "AMOUNT"), Map.of(), List.of("ID"))),
        "can only be added at the end");
    assertRefused(
        List.of(table(List.of("PERSON_ID", "ID", "AMOUNT", "OP"), Map.of(), List.of("ID"))),
        "can only be added at the end");
    assertRefused(
        List.of(
            table(
                List.of("ID", "PERSON_ID", "AMOUNT", "OP"),
                Map.of("AMOUNT", "boolean"),
                List.of("ID"))),
        "cannot change type from int to boolean");
    assertRefused(
        List.of(table(List.of("ID", "PERSON_ID", "AMOUNT", "OP"), Map.of(), List.of("ID", "OP"))),
        "row key of table 'claims' cannot change");
    Map<String, Object> otherKey =
        new HashMap<>(table(List.of("ID", "PERSON_ID", "AMOUNT", "OP"), Map.of(), List.of("ID")));
    otherKey.put("memberKey", "ID");
    assertRefused(List.of(otherKey), "member key of table 'claims' cannot change");
    assertRefused(
        List.of(Map.of("name", "other", "columns", List.of("PERSON_ID"), "memberKey", "PERSON_ID")),
        // The only table gone: its rows without a table header would land elsewhere
        "defaultTable cannot change (from 'claims' to 'other')");
    assertThatThrownBy(
            () ->
                LayoutChanges.update(
                    repo,
                    Map.of(
                        "partitions",
                        3,
                        "tables",
                        List.of(
                            table(
                                List.of("ID", "PERSON_ID", "AMOUNT", "OP"),
                                Map.of("AMOUNT", "int"),
                                List.of("ID")))),
                    3,
                    5))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("partitions cannot change");
  }

  @Test
  void shouldRejectADefaultThatIsNotOfTheColumnsType() {
    Map<String, Object> claims =
        new HashMap<>(
            table(
                List.of("ID", "PERSON_ID", "AMOUNT", "OP", "N"),
                Map.of("N", "int"),
                List.of("ID")));
    claims.put("defaults", Map.of("N", "many"));
    assertThatThrownBy(() -> LayoutChanges.update(repo, Map.of("tables", List.of(claims)), 3, 5))
        .isInstanceOf(SpecException.class)
        .hasMessageContaining("tables[0].defaults.N");
  }

  @Test
  void shouldWidenOnlyWhereEveryOldValueIsANewValue() {
    assertThat(
            LayoutChanges.widens(
                io.tusk.common.member.ColumnType.INT, io.tusk.common.member.ColumnType.LONG))
        .isTrue();
    assertThat(
            LayoutChanges.widens(
                io.tusk.common.member.ColumnType.DATE, io.tusk.common.member.ColumnType.STRING))
        .isTrue();
    assertThat(
            LayoutChanges.widens(
                io.tusk.common.member.ColumnType.DOUBLE, io.tusk.common.member.ColumnType.LONG))
        .isFalse();
    assertThat(
            LayoutChanges.widens(
                io.tusk.common.member.ColumnType.DATE, io.tusk.common.member.ColumnType.TIMESTAMP))
        .isFalse();
  }

  private void assertRefused(List<Map<String, Object>> tables, String message) {
    assertThatThrownBy(() -> LayoutChanges.update(repo, Map.of("tables", tables), 3, 5))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(409));
  }

  private static Map<String, Object> table(
      List<String> columns, Map<String, String> types, List<String> rowKey) {
    return Map.of(
        "name",
        "claims",
        "columns",
        columns,
        "memberKey",
        "PERSON_ID",
        "columnTypes",
        types,
        "rowKey",
        rowKey);
  }
}
