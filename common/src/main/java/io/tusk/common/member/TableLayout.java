package io.tusk.common.member;

import io.tusk.schemas.TableSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Column positions of one table, computed once from its spec. */
public final class TableLayout {
  private final TableSpec spec;
  private final Map<String, Integer> indexByColumn = new HashMap<>();
  private final int memberKeyIndex;
  private final int[] rowKeyIndexes;
  private final ColumnType[] columnTypes;
  private final List<String> typeErrors = new ArrayList<>();
  private final int opIndex;
  private final String[] defaults;
  private final Set<Integer> olderWidths;

  /** The layout of a table that never changed its columns. */
  public TableLayout(TableSpec spec) {
    this(spec, Set.of());
  }

  /**
   * @param olderWidths column counts the table had in earlier layouts of its repo: CSV rows of
   *     those widths are still accepted, with the added columns' defaults
   */
  public TableLayout(TableSpec spec, Set<Integer> olderWidths) {
    this.spec = spec;
    this.olderWidths = Set.copyOf(olderWidths);
    List<String> columns = spec.getColumns();
    defaults = new String[columns.size()];
    for (int i = 0; i < columns.size(); i++) {
      defaults[i] = spec.getDefaults().get(columns.get(i));
    }
    for (int i = 0; i < columns.size(); i++) {
      indexByColumn.put(columns.get(i), i);
    }
    memberKeyIndex = indexOf(spec.getMemberKey());
    rowKeyIndexes = spec.getRowKey().stream().mapToInt(this::indexOf).toArray();
    columnTypes = new ColumnType[columns.size()];
    Arrays.fill(columnTypes, ColumnType.STRING);
    // A bad type is reported, not thrown: the member side builds layouts too and must not fail on
    // a spec that only the ingest side (which rejects the table's rows) cares about.
    spec.getColumnTypes()
        .forEach(
            (column, name) -> {
              int index = indexOrMinusOne(column);
              Optional<ColumnType> type = ColumnType.named(name);
              if (index < 0) {
                typeErrors.add("typed column " + column + " is not a column");
              } else if (type.isEmpty()) {
                typeErrors.add("column " + column + " has unknown type " + name);
              } else {
                columnTypes[index] = type.get();
              }
            });
    opIndex = spec.getOpColumn() == null ? -1 : indexOf(spec.getOpColumn());
  }

  /** The table's spec. */
  public TableSpec spec() {
    return spec;
  }

  /** Position of {@code column}. */
  public int indexOf(String column) {
    Integer index = indexByColumn.get(column);
    if (index == null) {
      throw new IllegalArgumentException("table " + spec.getName() + " has no column " + column);
    }
    return index;
  }

  /** Position of {@code column}, or -1. */
  public int indexOrMinusOne(String column) {
    return indexByColumn.getOrDefault(column, -1);
  }

  public int memberKeyIndex() {
    return memberKeyIndex;
  }

  /** Positions of the row-key columns (empty: rows of this table append). */
  public int[] rowKeyIndexes() {
    return rowKeyIndexes.clone();
  }

  public boolean hasRowKey() {
    return rowKeyIndexes.length > 0;
  }

  /**
   * Whether a row is a delete: the table has an op column and row keys, and the row's op value is
   * {@code D} or {@code delete} (case-insensitive).
   */
  public boolean isDelete(List<String> values) {
    if (opIndex < 0 || !hasRowKey() || opIndex >= values.size()) {
      return false;
    }
    String op = values.get(opIndex);
    if (op == null) {
      return false;
    }
    // The one rule for op values (MemberSkip and MemberObjects use it too): D or delete, any
    // case, surrounding spaces ignored.
    String trimmed = op.trim();
    return trimmed.equalsIgnoreCase("D") || trimmed.equalsIgnoreCase("delete");
  }

  /** Column count. */
  public int width() {
    return spec.getColumns().size();
  }

  /** Whether a CSV row of {@code fields} fields fits: this layout's width or an earlier one's. */
  public boolean acceptsWidth(int fields) {
    return fields == width() || olderWidths.contains(fields);
  }

  /** The value of the column at {@code index} for a row that lacks it (null: no default). */
  public String defaultValue(int index) {
    return defaults[index];
  }

  /**
   * {@code values} fitted to this table's width: a row from before columns were added gets their
   * defaults, a row parsed with a later layout (more columns) is cut to this one's columns.
   */
  public List<String> fit(List<String> values) {
    int width = width();
    if (values.size() == width) {
      return values;
    }
    if (values.size() > width) {
      return new ArrayList<>(values.subList(0, width));
    }
    List<String> fitted = new ArrayList<>(width);
    fitted.addAll(values);
    for (int i = values.size(); i < width; i++) {
      fitted.add(defaults[i]);
    }
    return fitted;
  }

  /** The type of the column at {@code index} ({@link ColumnType#STRING} when untyped). */
  public ColumnType columnType(int index) {
    return columnTypes[index];
  }

  /** What is wrong with the spec's column types (empty when they are all usable). */
  public List<String> typeErrors() {
    return List.copyOf(typeErrors);
  }

  /** The row-key values of a row's values, in row-key order. */
  public List<String> rowKeyOf(List<String> values) {
    String[] key = new String[rowKeyIndexes.length];
    for (int i = 0; i < key.length; i++) {
      key[i] = values.get(rowKeyIndexes[i]);
    }
    return java.util.Arrays.asList(key);
  }
}
