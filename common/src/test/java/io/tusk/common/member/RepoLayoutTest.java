package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.pipeline.LayoutChanges;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Layout versions: which layout a commit is read with, how rows are fitted to it, and how the
 * parser reads rows of earlier widths after columns were added.
 */
class RepoLayoutTest {
  /** DRUG gains DOSE (default "0") from commit 3 on, and table LAB from commit 5 on. */
  private final RepoSpec v1 = Fixtures.repo(RowFormat.CSV);

  private final RepoSpec v2 =
      LayoutChanges.update(
          v1,
          document(List.of("ID", "PERSON_ID", "DRUG", "START", "DOSE"), Map.of("DOSE", "0"), false),
          3,
          1000);
  private final RepoSpec v3 =
      LayoutChanges.update(
          v2,
          document(List.of("ID", "PERSON_ID", "DRUG", "START", "DOSE"), Map.of("DOSE", "0"), true),
          5,
          2000);

  @Test
  void shouldReadEachCommitWithTheLayoutInForceAtItsSequence() {
    RepoLayout layout = new RepoLayout(v3);
    assertThat(layout.version()).isEqualTo(3);
    assertThat(layout.at(1).version()).isEqualTo(1);
    assertThat(layout.at(2).version()).isEqualTo(1);
    assertThat(layout.at(3).version()).isEqualTo(2);
    assertThat(layout.at(4).version()).isEqualTo(2);
    assertThat(layout.at(5).version()).isEqualTo(3);
    assertThat(layout.at(Long.MAX_VALUE).version()).isEqualTo(3);
    assertThat(layout.at(2).table("DRUG").width()).isEqualTo(4);
    assertThat(layout.at(3).table("DRUG").width()).isEqualTo(5);
    assertThat(layout.at(4).table("LAB")).isNull();
    assertThat(layout.at(5).table("LAB")).isNotNull();
    assertThat(v3.getPreviousLayouts()).extracting(p -> p.getVersion()).containsExactly(1, 2);
    assertThat(v3.getLayoutChanges()).containsExactly("add table LAB [PERSON_ID, VALUE]");
  }

  @Test
  void shouldFitOlderRowsWithDefaultsAndCutNewerOnes() {
    RepoLayout layout = new RepoLayout(v3);
    Row old = row("DRUG", "7", "42", "naproxen", "2019-01-02");
    Row wide = row("DRUG", "7", "42", "naproxen", "2019-01-02", "5");
    Row lab = row("LAB", "42", "1.5");

    assertThat(layout.fit(old).getValues())
        .containsExactly("7", "42", "naproxen", "2019-01-02", "0");
    assertThat(layout.at(1).fit(wide).getValues())
        .containsExactly("7", "42", "naproxen", "2019-01-02");
    assertThat(layout.at(1).fit(old)).isSameAs(old);
    // A row of a table the commit's layout does not have yet is left out
    assertThat(layout.at(4).fit(List.of(old, lab))).hasSize(1);
    // And rows that already fit are not copied
    List<Row> fitting = List.of(old);
    assertThat(layout.at(1).fitted(fitting)).isSameAs(fitting);
    assertThat(layout.fitted(fitting)).isNotSameAs(fitting).hasSize(1);
  }

  @Test
  void shouldParseCsvRowsOfEveryWidthTheTableHadAndJsonWithoutTheNewField() {
    RowParser csv = new RowParser(v3);
    assertThat(values(csv.parse(utf8("7,42,naproxen,2019-01-02"), null, 0, 1)))
        .containsExactly("7", "42", "naproxen", "2019-01-02", "0");
    assertThat(values(csv.parse(utf8("7,42,naproxen,2019-01-02,5"), null, 0, 2)))
        .containsExactly("7", "42", "naproxen", "2019-01-02", "5");
    assertThat(csv.parse(utf8("7,42,naproxen"), null, 0, 3))
        .isInstanceOf(ParseResult.Rejected.class);
    // The header line of the old columns is a header still
    assertThat(csv.parse(utf8("ID,PERSON_ID,DRUG,START"), null, 0, 4))
        .isInstanceOf(ParseResult.Skipped.class);

    RowParser json = new RowParser(RepoSpec.newBuilder(v3).setFormat(RowFormat.JSON).build());
    assertThat(values(json.parse(utf8("{\"PERSON_ID\":42,\"ID\":7}"), null, 0, 5)))
        .containsExactly("7", "42", null, null, "0");
  }

  @Test
  void shouldNeverTreatAStoredRowAsADeleteWhenAnOpColumnArrivesLater() {
    // DRUG gets op column DRUG: a stored row whose DRUG value is "D" stays
    RepoSpec withOp =
        LayoutChanges.update(
            v1, documentWithOp(List.of("ID", "PERSON_ID", "DRUG", "START"), "DRUG"), 2, 1000);
    RepoLayout layout = new RepoLayout(withOp);
    Row stored = row("DRUG", "7", "42", "D", "2019-01-02");
    Row delete8 = row("DRUG", "8", "42", "D", "2019-01-02");
    Row stored8 = row("DRUG", "8", "42", "x", "2019-01-01");

    List<Row> rows = MemberObjects.apply(List.of(stored, stored8), List.of(delete8), layout);

    assertThat(rows).containsExactly(stored);
  }

  private static Map<String, Object> document(
      List<String> drugColumns, Map<String, String> defaults, boolean withLab) {
    List<Object> tables = new ArrayList<>();
    tables.add(
        Map.of(
            "name",
            "DRUG",
            "columns",
            drugColumns,
            "memberKey",
            "PERSON_ID",
            "rowKey",
            List.of("ID"),
            "defaults",
            defaults));
    tables.add(
        Map.of("name", "NOTE", "columns", List.of("PERSON_ID", "TEXT"), "memberKey", "PERSON_ID"));
    if (withLab) {
      tables.add(
          Map.of(
              "name", "LAB", "columns", List.of("PERSON_ID", "VALUE"), "memberKey", "PERSON_ID"));
    }
    return Map.of("defaultTable", "DRUG", "tables", tables);
  }

  private static Map<String, Object> documentWithOp(List<String> drugColumns, String op) {
    return Map.of(
        "defaultTable",
        "DRUG",
        "tables",
        List.of(
            Map.of(
                "name",
                "DRUG",
                "columns",
                drugColumns,
                "memberKey",
                "PERSON_ID",
                "rowKey",
                List.of("ID"),
                "opColumn",
                op),
            Map.of(
                "name",
                "NOTE",
                "columns",
                List.of("PERSON_ID", "TEXT"),
                "memberKey",
                "PERSON_ID")));
  }

  private static Row row(String table, String... values) {
    return Row.newBuilder()
        .setTable(table)
        .setValues(Arrays.asList(values))
        .setSourcePartition(0)
        .setSourceOffset(0)
        .build();
  }

  private static List<String> values(ParseResult result) {
    assertThat(result).isInstanceOf(ParseResult.Accepted.class);
    return ((ParseResult.Accepted) result).row().getValues();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
