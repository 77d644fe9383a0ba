package io.tusk.cli.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A generated member-event table, like a claims table: one row per event with its own ID, the
 * member, the kind of event, a code, a date and an amount. Generation is seeded, so every run (and
 * both the baseline and Tusk) sees the same rows.
 */
public final class SyntheticTable {
  /** The table's name in the benchmark repo. */
  public static final String TABLE = "EVENTS";

  /** Its columns, CSV order. */
  public static final String[] COLUMNS = {
    "EVENT_ID", "MEMBER_ID", "KIND", "CODE", "EVENT_DATE", "AMOUNT"
  };

  private static final String[] KINDS = {"claim", "condition", "drug", "procedure"};

  /** One generated row. */
  public record Row(String member, String line) {}

  private final int members;
  private final long rows;

  public SyntheticTable(int members, long rows) {
    this.members = members;
    this.rows = rows;
  }

  public int members() {
    return members;
  }

  public long rows() {
    return rows;
  }

  /**
   * The spec of a CSV repo holding this table in {@code partitions} partitions: its columns, member
   * key {@code MEMBER_ID} and row key {@code EVENT_ID}.
   */
  public static ObjectNode repoSpec(String repo, int partitions) {
    ObjectNode spec =
        TuskClient.object().put("name", repo).put("format", "csv").put("partitions", partitions);
    ObjectNode events =
        spec.putArray("tables").addObject().put("name", TABLE).put("memberKey", "MEMBER_ID");
    for (String column : COLUMNS) {
      events.withArray("columns").add(column);
    }
    events.putArray("rowKey").add("EVENT_ID");
    return spec;
  }

  /** Emits every row of the full table, in generation order. */
  public void forEach(Consumer<Row> sink) {
    SplittableRandom random = new SplittableRandom(42);
    for (long id = 0; id < rows; id++) {
      // Every member gets at least one row, the rest are spread at random.
      int member = id < members ? (int) id : random.nextInt(members);
      sink.accept(row(id, member, random));
    }
  }

  /**
   * Emits the update: {@code rowsPerMember} new events for each member whose number is divisible by
   * {@code every} (every = 100 touches 1% of the members).
   */
  public void forEachUpdate(int every, int rowsPerMember, Consumer<Row> sink) {
    SplittableRandom random = new SplittableRandom(7);
    long id = rows;
    for (int member = 0; member < members; member += every) {
      for (int i = 0; i < rowsPerMember; i++) {
        sink.accept(row(id++, member, random));
      }
    }
  }

  /**
   * Emits {@code count} new events of one member, with event IDs from {@code firstId} on: pick IDs
   * past those already loaded (the table's are 0 to rows - 1), so the events add rows rather than
   * replace them.
   */
  public void forEachNewRow(int member, long firstId, int count, Consumer<Row> sink) {
    SplittableRandom random = new SplittableRandom(firstId);
    for (long id = firstId; id < firstId + count; id++) {
      sink.accept(row(id, member, random));
    }
  }

  /** The member key of member number {@code member}. */
  public static String memberId(int member) {
    return "M" + member;
  }

  /** Members the update touches. */
  public int updatedMembers(int every) {
    return (members + every - 1) / every;
  }

  private static Row row(long id, int member, SplittableRandom random) {
    String memberId = memberId(member);
    String line =
        String.format(
            Locale.ROOT,
            "%d,%s,%s,%d,2024-%02d-%02d,%d.%02d",
            id,
            memberId,
            KINDS[random.nextInt(KINDS.length)],
            100000 + random.nextInt(900000),
            1 + random.nextInt(12),
            1 + random.nextInt(28),
            random.nextInt(5000),
            random.nextInt(100));
    return new Row(memberId, line);
  }
}
