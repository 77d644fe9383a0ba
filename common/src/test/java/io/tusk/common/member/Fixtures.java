package io.tusk.common.member;

import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.util.List;

/** A small two-table repo used by the member tests. */
final class Fixtures {
  private Fixtures() {}

  static RepoSpec repo(RowFormat format) {
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
}
