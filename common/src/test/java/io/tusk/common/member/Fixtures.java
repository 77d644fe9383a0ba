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
                new TableSpec(
                    "DRUG",
                    List.of("ID", "PERSON_ID", "DRUG", "START"),
                    "PERSON_ID",
                    List.of("ID")),
                new TableSpec("NOTE", List.of("PERSON_ID", "TEXT"), "PERSON_ID", List.of())))
        .setUpdatePartitions(3)
        .setMemberPartitions(3)
        .setCreatedAt(0)
        .build();
  }
}
