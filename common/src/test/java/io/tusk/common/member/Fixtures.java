package io.tusk.common.member;

import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.util.List;
import java.util.Map;

/** A small two-table repo used by the member tests. */
final class Fixtures {
  private Fixtures() {}

  static RepoSpec repo(RowFormat format) {
    return repo(format, Map.of());
  }

  /** The repo, with {@code types} as the column types of table DRUG. */
  static RepoSpec repo(RowFormat format, Map<String, String> types) {
    return RepoSpec.newBuilder()
        .setName("claims")
        .setFormat(format)
        .setDefaultTable("DRUG")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("DRUG")
                    .setColumns(List.of("ID", "PERSON_ID", "DRUG", "START"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("ID"))
                    .setColumnTypes(types)
                    .build(),
                TableSpec.newBuilder()
                    .setName("NOTE")
                    .setColumns(List.of("PERSON_ID", "TEXT"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of())
                    .build()))
        .setUpdatePartitions(3)
        .setMemberPartitions(3)
        .setCreatedAt(0)
        .build();
  }

  /** A derived repo reading pipeline {@code risk}'s outputs by their {@code PATIENT} field. */
  static RepoSpec derived() {
    return RepoSpec.newBuilder()
        .setName("risk-by-patient")
        .setFormat(RowFormat.OUTPUT)
        .setDefaultTable("output")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("output")
                    .setColumns(List.of("member", "PATIENT", "data"))
                    .setMemberKey("PATIENT")
                    .setRowKey(List.of("member"))
                    .build()))
        .setUpdatePartitions(2)
        .setMemberPartitions(3)
        .setCreatedAt(0)
        .setUpdatesTopic("risk.output")
        .setSourcePipeline("risk")
        .build();
  }
}
