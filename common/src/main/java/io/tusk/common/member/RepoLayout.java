package io.tusk.common.member;

import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.TableSpec;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/** The table layouts of one repo, by table name. */
public final class RepoLayout {
  private final RepoSpec spec;
  private final Map<String, TableLayout> tables = new HashMap<>();

  public RepoLayout(RepoSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
    for (TableSpec table : spec.getTables()) {
      tables.put(table.getName(), new TableLayout(table));
    }
  }

  public RepoSpec spec() {
    return spec;
  }

  /** The layout of {@code table}, or null if the repo has no such table. */
  public TableLayout table(String table) {
    return tables.get(table);
  }

  /** The layout of the table a row without a table header belongs to. */
  public TableLayout defaultTable() {
    return tables.get(spec.getDefaultTable());
  }
}
