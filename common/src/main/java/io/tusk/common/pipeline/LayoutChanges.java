package io.tusk.common.pipeline;

import io.tusk.common.http.ApiException;
import io.tusk.common.member.ColumnType;
import io.tusk.schemas.PreviousLayout;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.TableSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The one rule book of repo layout changes ({@code PUT /repos/{repo}}): what may change between a
 * repo's layout and a proposed one, and the spec of the new layout version.
 *
 * <p>Safe, so allowed: a new table; a column added at the end of a table's columns (CSV rows are
 * positional), with an optional default for older rows; a column type widened (int to long or
 * double, long to double, any to string); an op column added, moved or removed on a table with a
 * row key (stored rows are never deletes, so it only reads later rows); a changed default. Unsafe,
 * so refused with 409 naming the change: a table dropped, a column dropped, renamed or reordered, a
 * member key changed, a type narrowed or changed across kinds, a row key changed (rows stored under
 * the old key would be matched by the new one), a default table changed. Fields that are not layout
 * (format, partitions, retention, trigger) must be absent or unchanged: they have their own
 * endpoints or cannot change.
 */
public final class LayoutChanges {
  /** Fields of a repo document that are not layout, and may only repeat the repo's values. */
  private static final Set<String> FIXED_FIELDS =
      Set.of(
          "name",
          "format",
          "partitions",
          "memberPartitions",
          "historyRetention",
          "rawRetention",
          "trigger");

  private LayoutChanges() {}

  /**
   * The repo's spec after a layout update to {@code document} (a repo document as for creation).
   *
   * @param current the repo's spec now
   * @param document the proposed repo document
   * @param startSequence the sequence of the first commit the new layout reads (the next commit)
   * @param now epoch milliseconds of the change
   * @return the new spec, or {@code current} itself when the layout is unchanged
   * @throws SpecException (400) for a malformed document
   * @throws ApiException (409) for an unsafe change, naming it
   */
  public static RepoSpec update(
      RepoSpec current, Map<String, ?> document, long startSequence, long now) {
    Objects.requireNonNull(current, "current");
    Map<String, Object> proposed = new HashMap<>(document);
    proposed.putIfAbsent("name", current.getName());
    RepoSpec parsed =
        RepoSpecs.fromDocument(proposed, current.getCreatedAt(), current.getMemberPartitions());
    requireFixedUnchanged(current, document, parsed);
    List<String> changes = compare(current, parsed);
    if (changes.isEmpty()) {
      return current;
    }
    List<PreviousLayout> previous = new ArrayList<>(current.getPreviousLayouts());
    previous.add(
        PreviousLayout.newBuilder()
            .setVersion(current.getLayoutVersion())
            .setStartSequence(current.getLayoutStartSequence())
            .setChangedAt(current.getLayoutChangedAt())
            .setChanges(current.getLayoutChanges())
            .setDefaultTable(current.getDefaultTable())
            .setTables(current.getTables())
            .build());
    return RepoSpec.newBuilder(current)
        .setTables(parsed.getTables())
        .setLayoutVersion(current.getLayoutVersion() + 1)
        .setLayoutStartSequence(startSequence)
        .setLayoutChangedAt(now)
        .setLayoutChanges(changes)
        .setPreviousLayouts(previous)
        .build();
  }

  /**
   * What {@code proposed}'s layout changes from {@code current}'s, one line per change.
   *
   * @throws ApiException (409) for the first unsafe change
   */
  static List<String> compare(RepoSpec current, RepoSpec proposed) {
    if (!current.getDefaultTable().equals(proposed.getDefaultTable())) {
      throw refused(
          "defaultTable cannot change (from '"
              + current.getDefaultTable()
              + "' to '"
              + proposed.getDefaultTable()
              + "'): rows without a table header would change tables");
    }
    Map<String, TableSpec> proposedTables = new HashMap<>();
    proposed.getTables().forEach(t -> proposedTables.put(t.getName(), t));
    List<String> changes = new ArrayList<>();
    for (TableSpec before : current.getTables()) {
      TableSpec after = proposedTables.remove(before.getName());
      if (after == null) {
        throw refused("table '" + before.getName() + "' was dropped: tables cannot be removed");
      }
      compareTable(before, after, changes);
    }
    for (TableSpec added : proposed.getTables()) {
      if (proposedTables.containsKey(added.getName())) {
        changes.add("add table " + added.getName() + " " + added.getColumns());
      }
    }
    return changes;
  }

  private static void compareTable(TableSpec before, TableSpec after, List<String> changes) {
    String table = before.getName();
    if (!before.getMemberKey().equals(after.getMemberKey())) {
      throw refused(
          "member key of table '"
              + table
              + "' cannot change (from "
              + before.getMemberKey()
              + " to "
              + after.getMemberKey()
              + "): every stored member would split");
    }
    List<String> oldColumns = before.getColumns();
    List<String> newColumns = after.getColumns();
    if (newColumns.size() < oldColumns.size()
        || !newColumns.subList(0, oldColumns.size()).equals(oldColumns)) {
      throw refused(
          "columns of table '"
              + table
              + "' can only be added at the end ("
              + oldColumns
              + " is not the start of "
              + newColumns
              + "): dropping, renaming or reordering columns would misread stored rows");
    }
    if (!before.getRowKey().equals(after.getRowKey())) {
      throw refused(
          "row key of table '"
              + table
              + "' cannot change (from "
              + before.getRowKey()
              + " to "
              + after.getRowKey()
              + "): rows stored under the old key would be matched by the new one");
    }
    for (String column : oldColumns) {
      ColumnType from = type(before, column);
      ColumnType to = type(after, column);
      if (from != to && !widens(from, to)) {
        throw refused(
            "column "
                + table
                + "."
                + column
                + " cannot change type from "
                + from.typeName()
                + " to "
                + to.typeName()
                + ": stored values may not be a "
                + to.typeName());
      }
      if (from != to) {
        changes.add(
            "widen " + table + "." + column + " from " + from.typeName() + " to " + to.typeName());
      }
    }
    for (String column : newColumns.subList(oldColumns.size(), newColumns.size())) {
      String fallback = after.getDefaults().get(column);
      changes.add(
          "add column "
              + table
              + "."
              + column
              + (fallback == null
                  ? " (older rows: null)"
                  : " (older rows: default '" + fallback + "')"));
    }
    for (String column : oldColumns) {
      String was = before.getDefaults().get(column);
      String is = after.getDefaults().get(column);
      if (!Objects.equals(was, is)) {
        changes.add(
            "default of " + table + "." + column + ": " + quoted(was) + " -> " + quoted(is));
      }
    }
    if (!Objects.equals(before.getOpColumn(), after.getOpColumn())) {
      changes.add(
          "op column of "
              + table
              + ": "
              + (before.getOpColumn() == null ? "none" : before.getOpColumn())
              + " -> "
              + (after.getOpColumn() == null ? "none" : after.getOpColumn()));
    }
  }

  /** Whether every value of {@code from} is a value of {@code to}, as text. */
  static boolean widens(ColumnType from, ColumnType to) {
    return to == ColumnType.STRING
        || (from == ColumnType.INT && (to == ColumnType.LONG || to == ColumnType.DOUBLE))
        || (from == ColumnType.LONG && to == ColumnType.DOUBLE);
  }

  private static ColumnType type(TableSpec table, String column) {
    String name = table.getColumnTypes().get(column);
    return name == null ? ColumnType.STRING : ColumnType.named(name).orElse(ColumnType.STRING);
  }

  private static void requireFixedUnchanged(
      RepoSpec current, Map<String, ?> document, RepoSpec parsed) {
    for (String field : FIXED_FIELDS) {
      if (!document.containsKey(field)) {
        continue;
      }
      boolean same =
          switch (field) {
            case "name" -> parsed.getName().equals(current.getName());
            case "format" -> parsed.getFormat() == current.getFormat();
            case "partitions" -> parsed.getUpdatePartitions() == current.getUpdatePartitions();
            case "memberPartitions" ->
                parsed.getMemberPartitions() == current.getMemberPartitions();
            case "historyRetention" ->
                parsed.getHistoryRetention() == current.getHistoryRetention();
            case "rawRetention" ->
                Objects.equals(parsed.getRawRetentionMs(), current.getRawRetentionMs());
            default -> Objects.equals(parsed.getTrigger(), current.getTrigger());
          };
      if (!same) {
        throw refused(
            field
                + " cannot change in a layout update"
                + switch (field) {
                  case "rawRetention" -> ": use PUT /repos/{repo}/retention";
                  case "trigger" -> ": use PUT /repos/{repo}/trigger";
                  default -> "";
                });
      }
    }
  }

  private static String quoted(String value) {
    return value == null ? "none" : "'" + value + "'";
  }

  private static ApiException refused(String message) {
    return ApiException.conflict(message);
  }
}
