package io.tusk.common.member;

import io.tusk.schemas.Row;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How rows make up a member object. Rows of a table with row-key columns replace the member's
 * earlier row with the same key, and a delete row (op column {@code D} or {@code delete}) removes
 * it without being stored; rows of a table without row keys append. The object's rows are kept in
 * canonical order (table, then row key, then values; source position last), so its hash depends
 * only on content, never on partitioning or arrival order.
 */
public final class MemberObjects {
  /** Null sorts before any string, so absent values have a fixed place. */
  private static final Comparator<String> VALUE_ORDER =
      Comparator.nullsFirst(Comparator.naturalOrder());

  private MemberObjects() {}

  /**
   * Applies {@code incoming} rows, in source order, to a member's {@code current} rows.
   *
   * @return the member's new rows in canonical order
   */
  public static List<Row> apply(List<Row> current, List<Row> incoming, RepoLayout layout) {
    List<Row> appended = new ArrayList<>();
    Map<List<Object>, Row> keyed = new HashMap<>();
    for (Row row : current) {
      // Stored rows are never deletes, even if a layout change made their op column's value D.
      add(row, layout, appended, keyed, false);
    }
    for (Row row : incoming) {
      add(row, layout, appended, keyed, true);
    }
    List<Row> rows = new ArrayList<>(appended.size() + keyed.size());
    rows.addAll(appended);
    rows.addAll(keyed.values());
    rows.sort(canonicalOrder(layout));
    return rows;
  }

  private static void add(
      Row row,
      RepoLayout layout,
      List<Row> appended,
      Map<List<Object>, Row> keyed,
      boolean mayDelete) {
    TableLayout table = layout.table(row.getTable());
    if (table != null && table.hasRowKey()) {
      List<Object> key = List.of(row.getTable(), table.rowKeyOf(row.getValues()));
      if (mayDelete && table.isDelete(row.getValues())) {
        keyed.remove(key);
      } else {
        keyed.put(key, row);
      }
    } else {
      appended.add(row);
    }
  }

  /**
   * Removes the rows of {@code table} whose row key is {@code rowKey} (a row that moved to another
   * member).
   *
   * @return the remaining rows, still in canonical order
   */
  public static List<Row> remove(
      List<Row> current, String table, List<String> rowKey, RepoLayout layout) {
    TableLayout tableLayout = layout.table(table);
    if (tableLayout == null || !tableLayout.hasRowKey()) {
      return current;
    }
    List<Row> rows = new ArrayList<>(current.size());
    for (Row row : current) {
      if (!(row.getTable().equals(table) && tableLayout.rowKeyOf(row.getValues()).equals(rowKey))) {
        rows.add(row);
      }
    }
    return rows;
  }

  /** The canonical order of rows within a member. */
  public static Comparator<Row> canonicalOrder(RepoLayout layout) {
    return (a, b) -> {
      int byTable = a.getTable().compareTo(b.getTable());
      if (byTable != 0) {
        return byTable;
      }
      TableLayout table = layout.table(a.getTable());
      if (table != null && table.hasRowKey()) {
        int byKey = compareValues(table.rowKeyOf(a.getValues()), table.rowKeyOf(b.getValues()));
        if (byKey != 0) {
          return byKey;
        }
      }
      int byValues = compareValues(a.getValues(), b.getValues());
      if (byValues != 0) {
        return byValues;
      }
      int byPartition = Integer.compare(a.getSourcePartition(), b.getSourcePartition());
      return byPartition != 0
          ? byPartition
          : Long.compare(a.getSourceOffset(), b.getSourceOffset());
    };
  }

  private static int compareValues(List<String> a, List<String> b) {
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      int c = VALUE_ORDER.compare(a.get(i), b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
