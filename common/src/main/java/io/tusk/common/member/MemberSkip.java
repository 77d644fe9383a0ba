package io.tusk.common.member;

import io.tusk.schemas.Row;
import java.util.List;

/**
 * The member side's cheap skip decision: whether rows arriving for a member leave its content as it
 * is, decided without applying, sorting or hashing (which cost tens of microseconds for a member of
 * 60 rows). It holds when every incoming row has a row key and the member already holds a row with
 * that key and the same values, or the row deletes a key the member does not hold. A row of a table
 * without row keys always appends, so it is a change. When this says false the member must be
 * applied and hashed as usual; when it says true the hash would not change.
 */
public final class MemberSkip {
  private MemberSkip() {}

  /**
   * True when applying {@code incoming} to {@code current} would leave the member's content (and so
   * its hash) as it is.
   *
   * @param current the member's rows in canonical order ({@link MemberObjects#apply})
   * @param incoming the rows that arrived, in source order
   */
  public static boolean unchanged(List<Row> current, List<Row> incoming, RepoLayout layout) {
    for (Row row : incoming) {
      TableLayout table = layout.table(row.getTable());
      if (table == null || !table.hasRowKey()) {
        return false;
      }
      int index = find(current, row.getTable(), table.rowKeyOf(row.getValues()), layout);
      if (table.isDelete(row.getValues())) {
        if (index >= 0) {
          return false;
        }
      } else if (index < 0 || !current.get(index).getValues().equals(row.getValues())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Binary search for the row of {@code table} with {@code rowKey}: canonical order sorts rows by
   * table, then (for keyed tables) by row key, and a keyed table holds one row per key.
   */
  private static int find(List<Row> rows, String table, List<String> rowKey, RepoLayout layout) {
    int low = 0;
    int high = rows.size() - 1;
    while (low <= high) {
      int middle = (low + high) >>> 1;
      Row row = rows.get(middle);
      int order = row.getTable().compareTo(table);
      if (order == 0) {
        order = compare(layout.table(table).rowKeyOf(row.getValues()), rowKey);
      }
      if (order < 0) {
        low = middle + 1;
      } else if (order > 0) {
        high = middle - 1;
      } else {
        return middle;
      }
    }
    return -1;
  }

  /** The order of row keys in {@link MemberObjects#canonicalOrder}: nulls first, then text. */
  private static int compare(List<String> a, List<String> b) {
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      String x = a.get(i);
      String y = b.get(i);
      int c = x == null ? (y == null ? 0 : -1) : y == null ? 1 : x.compareTo(y);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
