package io.tusk.processor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.MemberDatumInput;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class CohortRatesTest {
  private static final String COHORT = "F|60-69|osteoarthritis";
  private static final RepoLayout LAYOUT =
      new RepoLayout(
          RepoSpec.newBuilder()
              .setName("gibleed-insights-by-cohortkey")
              .setFormat(RowFormat.OUTPUT)
              .setDefaultTable("output")
              .setTables(
                  List.of(
                      TableSpec.newBuilder()
                          .setName("output")
                          .setColumns(List.of("member", "cohortKey", "data"))
                          .setMemberKey("cohortKey")
                          .setRowKey(List.of("member"))
                          .build()))
              .setUpdatePartitions(1)
              .setMemberPartitions(1)
              .setCreatedAt(0)
              .build());

  private static Row insight(String member, boolean bleedAfter, String... drugs) {
    StringBuilder exposures = new StringBuilder();
    for (String drug : drugs) {
      exposures
          .append(exposures.length() == 0 ? "" : ",")
          .append("{\"drug\":\"")
          .append(drug)
          .append("\"}");
    }
    String data =
        "{\"member\":\""
            + member
            + "\",\"nsaidExposures\":["
            + exposures
            + "],\"giBleed\":"
            + (bleedAfter ? "{\"afterNsaidExposure\":true}" : "null")
            + ",\"cohortKey\":\""
            + COHORT
            + "\"}";
    return Row.newBuilder()
        .setTable("output")
        .setValues(List.of(member, COHORT, data))
        .setSourcePartition(0)
        .setSourceOffset(0L)
        .build();
  }

  private static String run(List<Row> rows) throws Exception {
    MemberObject object =
        MemberObject.newBuilder()
            .setRepo("r")
            .setMember(COHORT)
            .setHash("h")
            .setCommitId("c")
            .setSequence(1L)
            .setRows(rows)
            .build();
    Datum datum =
        Datum.newBuilder()
            .setPipeline("cohorts")
            .setJobId("j")
            .setCommitId("c")
            .setGlobalId("g")
            .setDatumHash("d")
            .setSpecHash("s")
            .setMemberObject(object)
            .build();
    return new String(
        new CohortRates().apply(new MemberDatumInput(datum, LAYOUT)).data(),
        StandardCharsets.UTF_8);
  }

  @Test
  void shouldCountExposuresAndBleedsPerDrugWhenMembersShareACohort() throws Exception {
    // Given three members of one cohort: two on celecoxib (one bled after), one on naproxen
    List<Row> rows =
        List.of(
            insight("1", true, "celecoxib"),
            insight("2", false, "celecoxib", "naproxen"),
            insight("3", false));

    // When the cohort is computed
    String out = run(rows);

    // Then each drug has its exposed members, bleeds after exposure and rate
    assertThat(out)
        .isEqualTo(
            "{\"cohort\":\"F|60-69|osteoarthritis\",\"members\":3,\"drugs\":["
                + "{\"drug\":\"celecoxib\",\"exposed\":2,\"bleedsAfterExposure\":1,\"rate\":\"0.5000\"},"
                + "{\"drug\":\"naproxen\",\"exposed\":1,\"bleedsAfterExposure\":0,\"rate\":\"0.0000\"}]}");
  }

  @Test
  void shouldNotDependOnRowOrder() throws Exception {
    List<Row> rows =
        new ArrayList<>(
            List.of(
                insight("1", true, "celecoxib"), insight("2", false, "ibuprofen", "celecoxib")));
    String first = run(rows);
    Collections.reverse(rows);
    assertThat(run(rows)).isEqualTo(first);
  }
}
