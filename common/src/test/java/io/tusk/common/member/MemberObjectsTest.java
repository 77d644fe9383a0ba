package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemberObjectsTest {
  private final RepoLayout layout = new RepoLayout(Fixtures.repo(RowFormat.CSV));

  private static Row drug(String id, String drug, int partition, long offset) {
    return new Row("DRUG", List.of(id, "42", drug, "2019-01-02"), partition, offset);
  }

  private static Row note(String text, int partition, long offset) {
    return new Row("NOTE", List.of("42", text), partition, offset);
  }

  @Test
  void shouldReplaceRowWithSameRowKeyAndAppendUnkeyedRows() {
    // Given a member with one drug row and one note
    List<Row> current =
        MemberObjects.apply(
            List.of(), List.of(drug("1", "celecoxib", 0, 0), note("a", 0, 1)), layout);

    // When a correction of drug row 1 and another note arrive
    List<Row> updated =
        MemberObjects.apply(
            current, List.of(drug("1", "diclofenac", 1, 5), note("a", 1, 6)), layout);

    // Then the drug row is replaced and the note appended
    assertThat(updated).hasSize(3);
    assertThat(
            updated.stream()
                .filter(r -> r.getTable().equals("DRUG"))
                .map(r -> r.getValues().get(2)))
        .containsExactly("diclofenac");
    assertThat(updated.stream().filter(r -> r.getTable().equals("NOTE"))).hasSize(2);
  }

  @Test
  void shouldHashContentIndependentlyOfArrivalOrderAndSourcePositions() {
    // Given the same rows arriving in two orders from different partitions
    List<Row> rows =
        new ArrayList<>(
            List.of(drug("1", "a", 0, 0), drug("2", "b", 0, 1), note("x", 1, 0), note("y", 2, 3)));
    List<Row> first = MemberObjects.apply(List.of(), rows, layout);
    List<Row> shuffled = new ArrayList<>();
    for (Row r : rows) {
      shuffled.add(
          new Row(
              r.getTable(), r.getValues(), r.getSourcePartition() + 5, r.getSourceOffset() + 100));
    }
    Collections.reverse(shuffled);
    List<Row> second = MemberObjects.apply(List.of(), shuffled, layout);

    // Then the canonical rows hash the same
    assertThat(Hashing.memberHash(first)).isEqualTo(Hashing.memberHash(second));
  }

  @Test
  void shouldNotChangeHashWhenIdenticalCorrectionArrives() {
    List<Row> current = MemberObjects.apply(List.of(), List.of(drug("1", "a", 0, 0)), layout);
    List<Row> corrected = MemberObjects.apply(current, List.of(drug("1", "a", 2, 9)), layout);
    assertThat(Hashing.memberHash(corrected)).isEqualTo(Hashing.memberHash(current));
  }

  @Test
  void shouldChangeHashWhenValueChanges() {
    List<Row> current = MemberObjects.apply(List.of(), List.of(drug("1", "a", 0, 0)), layout);
    List<Row> changed = MemberObjects.apply(current, List.of(drug("1", "b", 0, 1)), layout);
    assertThat(Hashing.memberHash(changed)).isNotEqualTo(Hashing.memberHash(current));
  }

  @Test
  void shouldDistinguishNullFromEmptyAndFieldBoundaries() {
    String nullValue =
        Hashing.memberHash(List.of(new Row("NOTE", java.util.Arrays.asList("42", null), 0, 0L)));
    String empty = Hashing.memberHash(List.of(new Row("NOTE", List.of("42", ""), 0, 0L)));
    String shifted = Hashing.memberHash(List.of(new Row("NOTE", List.of("4", "2"), 0, 0L)));
    String joined = Hashing.memberHash(List.of(new Row("NOTE", List.of("42", ""), 0, 0L)));
    assertThat(nullValue).isNotEqualTo(empty);
    assertThat(shifted).isNotEqualTo(joined);
  }

  @Test
  void shouldMakeDatumHashDependOnSpecAndMember() {
    assertThat(Hashing.datumHash("spec1", "m")).isNotEqualTo(Hashing.datumHash("spec2", "m"));
    assertThat(Hashing.datumHash("spec1", "m")).isEqualTo(Hashing.datumHash("spec1", "m"));
  }

  @Test
  void shouldRemoveTheKeyedRowWhenADeleteRowArrives() {
    // Given a table with row key ID and op column OP, and a member with rows 1 and 2
    TableSpec table =
        TableSpec.newBuilder()
            .setName("T")
            .setColumns(List.of("MEMBER", "ID", "VALUE", "OP"))
            .setMemberKey("MEMBER")
            .setRowKey(List.of("ID"))
            .setOpColumn("OP")
            .build();
    RepoLayout ops =
        new RepoLayout(
            RepoSpec.newBuilder()
                .setName("ops")
                .setFormat(RowFormat.CSV)
                .setDefaultTable("T")
                .setTables(List.of(table))
                .setUpdatePartitions(1)
                .setMemberPartitions(1)
                .setCreatedAt(0)
                .build());
    List<Row> current =
        MemberObjects.apply(
            List.of(),
            List.of(
                new Row("T", Arrays.asList("m", "1", "a", "I"), 0, 0L),
                new Row("T", Arrays.asList("m", "2", "b", null), 0, 1L)),
            ops);

    // When row 1 is deleted ("delete", any case), row 2 deleted ("d") and re-added in order
    List<Row> updated =
        MemberObjects.apply(
            current,
            List.of(
                new Row("T", Arrays.asList("m", "1", "", "DELETE"), 0, 2L),
                new Row("T", Arrays.asList("m", "2", "", "d"), 0, 3L),
                new Row("T", Arrays.asList("m", "2", "c", "U"), 0, 4L)),
            ops);

    // Then only the re-added row 2 remains, and no delete row is stored
    assertThat(updated).extracting(r -> r.getValues().get(2)).containsExactly("c");

    // When the last row is removed because it moved to another member
    List<Row> moved = MemberObjects.remove(updated, "T", List.of("2"), ops);

    // Then the member has no rows
    assertThat(moved).isEmpty();
  }
}
