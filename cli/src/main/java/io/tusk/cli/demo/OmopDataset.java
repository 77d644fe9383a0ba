package io.tusk.cli.demo;

import io.tusk.common.member.CsvLine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * The OMOP GiBleed sample as the demo uses it: six member tables keyed by {@code PERSON_ID}, each
 * with its first column as row key and one event date, split into the rows known before a cut-off
 * date ("the table as of last week") and the rows of the following days plus corrections ("the
 * weekly update").
 */
public final class OmopDataset {
  /** The member key column of every table. */
  public static final String MEMBER_KEY = "PERSON_ID";

  /** A member table of the sample: file name = table name, date column null for PERSON. */
  public record Table(String name, String dateColumn) {}

  /** The tables loaded into the repo; the first is the repo's default table. */
  public static final List<Table> TABLES =
      List.of(
          new Table("CONDITION_ERA", "CONDITION_ERA_START_DATE"),
          new Table("DRUG_ERA", "DRUG_ERA_START_DATE"),
          new Table("PROCEDURE_OCCURRENCE", "PROCEDURE_DATE"),
          new Table("VISIT_OCCURRENCE", "VISIT_START_DATE"),
          new Table("OBSERVATION", "OBSERVATION_DATE"),
          new Table("PERSON", null));

  /** One row as it is produced: its table, member and original CSV line. */
  public record Row(String table, String member, String line) {}

  /** A table's header and rows, parsed. */
  public record TableData(
      Table table, List<String> columns, List<List<String>> rows, List<String> lines) {
    int index(String column) {
      int i = columns.indexOf(column);
      if (i < 0) {
        throw new IllegalStateException(table.name() + " has no column " + column);
      }
      return i;
    }
  }

  /** The update: new rows, rows whose content is corrected, and rows re-sent unchanged. */
  public record Update(List<Row> newRows, List<Row> corrections, List<Row> unchangedResends) {
    /** Every row of the update, in the order it is produced. */
    public List<Row> all() {
      List<Row> all = new ArrayList<>(newRows);
      all.addAll(corrections);
      all.addAll(unchangedResends);
      return all;
    }
  }

  private final List<TableData> tables;

  private OmopDataset(List<TableData> tables) {
    this.tables = tables;
  }

  /** Reads the sample's CSV files from {@code dir}. */
  public static OmopDataset read(Path dir) {
    List<TableData> tables = new ArrayList<>();
    for (Table table : TABLES) {
      Path file = dir.resolve(table.name() + ".csv");
      try {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> columns = CsvLine.parse(lines.get(0));
        List<List<String>> rows = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
          if (!line.isBlank()) {
            rows.add(CsvLine.parse(line));
            kept.add(line);
          }
        }
        tables.add(new TableData(table, columns, rows, kept));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      } catch (CsvLine.MalformedCsvException e) {
        throw new IllegalStateException("malformed CSV in " + file + ": " + e.getMessage(), e);
      }
    }
    return new OmopDataset(tables);
  }

  /** The tables with their headers (for creating the repo). */
  public List<TableData> tables() {
    return tables;
  }

  /** Rows of the table as of {@code cutoff}: dated before it (PERSON rows always). */
  public List<Row> before(LocalDate cutoff) {
    List<Row> rows = new ArrayList<>();
    for (TableData data : tables) {
      int member = data.index(MEMBER_KEY);
      int date = data.table().dateColumn() == null ? -1 : data.index(data.table().dateColumn());
      for (int i = 0; i < data.rows().size(); i++) {
        List<String> values = data.rows().get(i);
        if (date < 0 || LocalDate.parse(values.get(date)).isBefore(cutoff)) {
          rows.add(new Row(data.table().name(), values.get(member), data.lines().get(i)));
        }
      }
    }
    return rows;
  }

  /**
   * The weekly update after {@code cutoff}: rows dated in {@code [cutoff, cutoff + days)}, {@code
   * corrections} earlier CONDITION_ERA rows with their end date moved one day later (same row key,
   * so they replace the earlier version), and {@code resends} earlier DRUG_ERA rows sent again
   * unchanged (they must not count as changes).
   */
  public Update weeklyUpdate(LocalDate cutoff, int days, int corrections, int resends) {
    LocalDate end = cutoff.plusDays(days);
    List<Row> newRows = new ArrayList<>();
    for (TableData data : tables) {
      if (data.table().dateColumn() == null) {
        continue;
      }
      int member = data.index(MEMBER_KEY);
      int date = data.index(data.table().dateColumn());
      for (int i = 0; i < data.rows().size(); i++) {
        LocalDate d = LocalDate.parse(data.rows().get(i).get(date));
        if (!d.isBefore(cutoff) && d.isBefore(end)) {
          newRows.add(
              new Row(data.table().name(), data.rows().get(i).get(member), data.lines().get(i)));
        }
      }
    }
    return new Update(
        newRows, corrected(cutoff, corrections), earlier("DRUG_ERA", cutoff, resends, 1));
  }

  private List<Row> corrected(LocalDate cutoff, int count) {
    TableData conditions = table("CONDITION_ERA");
    int member = conditions.index(MEMBER_KEY);
    int endDate = conditions.index("CONDITION_ERA_END_DATE");
    List<Row> rows = new ArrayList<>();
    for (int i : earlierIndexes(conditions, cutoff, count, 0)) {
      List<String> values = new ArrayList<>(conditions.rows().get(i));
      values.set(endDate, LocalDate.parse(values.get(endDate)).plusDays(1).toString());
      rows.add(
          new Row(
              "CONDITION_ERA",
              values.get(member),
              String.join(",", values.stream().map(v -> v == null ? "" : v).toList())));
    }
    return rows;
  }

  private List<Row> earlier(String table, LocalDate cutoff, int count, int offset) {
    TableData data = table(table);
    int member = data.index(MEMBER_KEY);
    List<Row> rows = new ArrayList<>();
    for (int i : earlierIndexes(data, cutoff, count, offset)) {
      rows.add(new Row(table, data.rows().get(i).get(member), data.lines().get(i)));
    }
    return rows;
  }

  /** Every 1000th earlier row (deterministic, spread over members), skipping {@code offset}. */
  private static List<Integer> earlierIndexes(
      TableData data, LocalDate cutoff, int count, int offset) {
    int date = data.index(data.table().dateColumn());
    List<Integer> picked = new ArrayList<>();
    for (int i = 1000 * (offset + 1); i < data.rows().size() && picked.size() < count; i += 1000) {
      if (LocalDate.parse(data.rows().get(i).get(date)).isBefore(cutoff)) {
        picked.add(i);
      }
    }
    return picked;
  }

  private TableData table(String name) {
    return tables.stream()
        .filter(t -> t.table().name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no table " + name));
  }
}
