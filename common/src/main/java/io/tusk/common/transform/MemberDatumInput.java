package io.tusk.common.transform;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.schemas.Datum;
import io.tusk.schemas.Row;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** A {@link DatumInput} over a {@link Datum}, with column names from the repo's layout. */
public final class MemberDatumInput implements DatumInput {
  private final Datum datum;
  private final Map<String, List<InputRow>> rowsByTable = new LinkedHashMap<>();

  public MemberDatumInput(Datum datum, RepoLayout layout) {
    this.datum = Objects.requireNonNull(datum, "datum");
    for (Row row : datum.getMemberObject().getRows()) {
      TableLayout table = layout.table(row.getTable());
      rowsByTable
          .computeIfAbsent(row.getTable(), t -> new ArrayList<>())
          .add(new LayoutRow(row, table));
    }
  }

  @Override
  public String member() {
    return datum.getMemberObject().getMember();
  }

  @Override
  public String pipeline() {
    return datum.getPipeline();
  }

  @Override
  public String jobId() {
    return datum.getJobId();
  }

  @Override
  public String commitId() {
    return datum.getCommitId();
  }

  @Override
  public String datumHash() {
    return datum.getDatumHash();
  }

  @Override
  public Set<String> tables() {
    return Collections.unmodifiableSet(rowsByTable.keySet());
  }

  @Override
  public List<InputRow> rows(String table) {
    return Collections.unmodifiableList(rowsByTable.getOrDefault(table, List.of()));
  }

  private record LayoutRow(Row row, TableLayout layout) implements InputRow {
    @Override
    public String table() {
      return row.getTable();
    }

    @Override
    public String get(String column) {
      int index = layout == null ? -1 : layout.indexOrMinusOne(column);
      return index < 0 || index >= row.getValues().size() ? null : row.getValues().get(index);
    }
  }
}
