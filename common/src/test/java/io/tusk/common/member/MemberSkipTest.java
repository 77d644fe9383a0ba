package io.tusk.common.member;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MemberSkipTest {
  private final RepoLayout layout = new RepoLayout(Fixtures.repo(RowFormat.CSV));

  private static Row drug(String id, String drug, long offset) {
    return new Row("DRUG", List.of(id, "42", drug, "2019-01-02"), 0, offset);
  }

  @Test
  void shouldSayUnchangedOnlyWhenEveryIncomingRowRepeatsAStoredKeyedRow() {
    // Given a member with three drug rows and a note
    List<Row> current =
        MemberObjects.apply(
            List.of(),
            List.of(
                drug("1", "a", 0),
                drug("2", "b", 1),
                drug("3", "c", 2),
                new Row("NOTE", List.of("42", "x"), 0, 3L)),
            layout);

    // Then re-sent rows (from anywhere) change nothing; new values, new keys and notes do
    assertThat(
            MemberSkip.unchanged(current, List.of(drug("2", "b", 99), drug("3", "c", 7)), layout))
        .isTrue();
    assertThat(MemberSkip.unchanged(current, List.of(), layout)).isTrue();
    assertThat(MemberSkip.unchanged(current, List.of(drug("2", "z", 99)), layout)).isFalse();
    assertThat(MemberSkip.unchanged(current, List.of(drug("4", "a", 99)), layout)).isFalse();
    assertThat(
            MemberSkip.unchanged(
                current, List.of(new Row("NOTE", List.of("42", "x"), 0, 9L)), layout))
        .isFalse();
  }

  @Test
  void shouldAgreeWithApplyAndHashWhenItSaysUnchanged() {
    // Given random members and random arrivals: re-sends, corrections, new keys
    Random random = new Random(11);
    int unchanged = 0;
    for (int member = 0; member < 2000; member++) {
      List<Row> rows = new ArrayList<>();
      for (int i = 0, n = 1 + random.nextInt(30); i < n; i++) {
        rows.add(drug(Integer.toString(random.nextInt(40)), "d" + random.nextInt(3), i));
      }
      List<Row> current = MemberObjects.apply(List.of(), rows, layout);
      List<Row> incoming = new ArrayList<>();
      for (int i = 0, n = random.nextInt(4); i < n; i++) {
        incoming.add(
            random.nextInt(3) > 0
                ? current.get(random.nextInt(current.size()))
                : drug(Integer.toString(random.nextInt(40)), "d" + random.nextInt(3), 100 + i));
      }

      // When the cheap decision says unchanged / Then applying and hashing agrees
      boolean same =
          Hashing.memberHash(MemberObjects.apply(current, incoming, layout))
              .equals(Hashing.memberHash(current));
      if (MemberSkip.unchanged(current, incoming, layout)) {
        unchanged++;
        assertThat(same).isTrue();
      }
    }
    assertThat(unchanged).isGreaterThan(100);
  }

  @Test
  void shouldTreatADeleteOfAnAbsentKeyAsUnchangedAndOfAPresentKeyAsAChange() {
    // Given a table with an op column
    RepoSpec repo =
        RepoSpec.newBuilder()
            .setName("r")
            .setFormat(RowFormat.CSV)
            .setDefaultTable("T")
            .setTables(
                List.of(
                    TableSpec.newBuilder()
                        .setName("T")
                        .setColumns(List.of("ID", "M", "V", "OP"))
                        .setMemberKey("M")
                        .setRowKey(List.of("ID"))
                        .setOpColumn("OP")
                        .build()))
            .setUpdatePartitions(1)
            .setMemberPartitions(1)
            .setCreatedAt(0)
            .build();
    RepoLayout ops = new RepoLayout(repo);
    List<Row> current = List.of(new Row("T", List.of("1", "m", "v", "U"), 0, 0L));

    // Then deleting key 2 changes nothing, deleting key 1 does
    assertThat(
            MemberSkip.unchanged(
                current, List.of(new Row("T", List.of("2", "m", "", "D"), 0, 1L)), ops))
        .isTrue();
    assertThat(
            MemberSkip.unchanged(
                current, List.of(new Row("T", List.of("1", "m", "", "delete"), 0, 1L)), ops))
        .isFalse();
  }
}
