package io.tusk.common.member;

import io.tusk.schemas.PreviousLayout;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.TableSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The table layouts of one repo, by table name, in one layout version. A repo's layout changes at
 * commit boundaries ({@code PUT /repos/{repo}}): the spec holds the current layout and the earlier
 * ones with the sequence of the first commit each applies to, and {@link #at} gives the layout in
 * force for a commit. Rows are stored as parsed; {@link #fit} shapes them to a layout when they are
 * applied or shown (older rows get the added columns' defaults).
 */
public final class RepoLayout {
  private final RepoSpec spec;
  private final Map<String, TableLayout> tables = new HashMap<>();
  private final Map<Integer, RepoLayout> older;

  /** The current layout of the repo {@code spec} describes. */
  public RepoLayout(RepoSpec spec) {
    this(spec, olderWidths(spec), new ConcurrentHashMap<>());
  }

  private RepoLayout(
      RepoSpec spec, Map<String, Set<Integer>> olderWidths, Map<Integer, RepoLayout> older) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.older = older;
    for (TableSpec table : spec.getTables()) {
      tables.put(
          table.getName(),
          new TableLayout(table, olderWidths.getOrDefault(table.getName(), Set.of())));
    }
  }

  /**
   * The spec this layout reads: the repo's spec, or for an earlier layout a copy with that layout's
   * tables, default table and version.
   */
  public RepoSpec spec() {
    return spec;
  }

  /** The layout's version (1: the one the repo was created with). */
  public int version() {
    return spec.getLayoutVersion();
  }

  /** The layout in force for the commit with {@code sequence}. */
  public RepoLayout at(long sequence) {
    if (sequence >= spec.getLayoutStartSequence() || spec.getPreviousLayouts().isEmpty()) {
      return this;
    }
    PreviousLayout inForce = spec.getPreviousLayouts().get(0);
    for (PreviousLayout previous : spec.getPreviousLayouts()) {
      if (previous.getStartSequence() <= sequence) {
        inForce = previous;
      }
    }
    return version(inForce.getVersion());
  }

  /** The layout of {@code version}, or the current one if the repo has no such earlier version. */
  public RepoLayout version(int version) {
    if (version == version()) {
      return this;
    }
    for (PreviousLayout previous : spec.getPreviousLayouts()) {
      if (previous.getVersion() == version) {
        return older.computeIfAbsent(
            version,
            v ->
                new RepoLayout(
                    RepoSpec.newBuilder(spec)
                        .setTables(previous.getTables())
                        .setDefaultTable(previous.getDefaultTable())
                        .setLayoutVersion(previous.getVersion())
                        .setLayoutStartSequence(previous.getStartSequence())
                        .setLayoutChangedAt(previous.getChangedAt())
                        .setLayoutChanges(previous.getChanges())
                        .setPreviousLayouts(List.of())
                        .build(),
                    Map.of(),
                    older));
      }
    }
    return this;
  }

  /** The layout of {@code table}, or null if the repo has no such table. */
  public TableLayout table(String table) {
    return tables.get(table);
  }

  /**
   * The layout of {@code table}, matched exactly or else ignoring case (database table names meet
   * Tusk table names), or null if the repo has no such table.
   */
  public TableLayout tableIgnoringCase(String table) {
    TableLayout exact = tables.get(table);
    if (exact != null) {
      return exact;
    }
    // In spec order, so two tables that differ only in case resolve the same way every time.
    for (TableSpec spec : this.spec.getTables()) {
      if (spec.getName().equalsIgnoreCase(table)) {
        return tables.get(spec.getName());
      }
    }
    return null;
  }

  /** The layout of the table a row without a table header belongs to. */
  public TableLayout defaultTable() {
    return tables.get(spec.getDefaultTable());
  }

  /**
   * {@code row} with its values fitted to this layout ({@link TableLayout#fit}), or null if the
   * layout has no table of that name (a row of a table added later).
   */
  public Row fit(Row row) {
    TableLayout table = tables.get(row.getTable());
    if (table == null) {
      return null;
    }
    List<String> values = table.fit(row.getValues());
    return values == row.getValues()
        ? row
        : Row.newBuilder(row).setValues(new ArrayList<>(values)).build();
  }

  /**
   * Every row fitted to this layout: {@code rows} itself when each already fits (the common case,
   * checked without copying), else a new list; rows of tables it does not have are left out.
   */
  public List<Row> fitted(List<Row> rows) {
    for (Row row : rows) {
      TableLayout table = tables.get(row.getTable());
      if (table == null || table.width() != row.getValues().size()) {
        return fit(rows);
      }
    }
    return rows;
  }

  /**
   * Every row fitted to this layout, in a new list; rows of tables it does not have are left out.
   */
  public List<Row> fit(List<Row> rows) {
    List<Row> fitted = new ArrayList<>(rows.size());
    for (Row row : rows) {
      Row fit = fit(row);
      if (fit != null) {
        fitted.add(fit);
      }
    }
    return fitted;
  }

  /** The column counts each current table had in earlier layouts. */
  private static Map<String, Set<Integer>> olderWidths(RepoSpec spec) {
    Map<String, Set<Integer>> widths = new HashMap<>();
    for (PreviousLayout previous : spec.getPreviousLayouts()) {
      for (TableSpec table : previous.getTables()) {
        widths
            .computeIfAbsent(table.getName(), t -> new HashSet<>())
            .add(table.getColumns().size());
      }
    }
    return widths;
  }
}
