package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import java.util.List;
import java.util.Locale;

/**
 * The soak repo's two tables and the one text form of a row that the soak's transforms and its
 * reference model share: {@code EVENT} is keyed by {@code EVENT_ID} with the op column {@code OP};
 * {@code NOTE} has no row key, so its rows append.
 */
public final class SoakTables {
  private SoakTables() {}

  public static final String EVENT = "EVENT";
  public static final List<String> EVENT_COLUMNS =
      List.of("EVENT_ID", "MEMBER", "CODE", "AMOUNT", "OP");
  public static final int EVENT_ID = 0;
  public static final int EVENT_MEMBER = 1;
  public static final int EVENT_CODE = 2;
  public static final int EVENT_OP = 4;

  public static final String NOTE = "NOTE";
  public static final List<String> NOTE_COLUMNS = List.of("MEMBER", "TEXT");
  public static final int NOTE_MEMBER = 0;

  /**
   * The column a layout change adds to NOTE (once per soak run), with {@link #NOTE_TAG_DEFAULT} for
   * the notes from before it.
   */
  public static final String NOTE_TAG = "TAG";

  public static final String NOTE_TAG_DEFAULT = "t0";
  public static final List<String> TAGGED_NOTE_COLUMNS = List.of("MEMBER", "TEXT", NOTE_TAG);

  /** A CODE value that makes every soak transform fail on the member, whatever the switch. */
  public static final String FAIL_CODE = "FAIL";

  /** A CODE value that makes the transform fail while {@link FailSwitch} is on. */
  public static final String FLAKY_CODE = "FLAKY";

  /** The columns of {@code table} before the layout change. */
  public static List<String> columns(String table) {
    return columns(table, false);
  }

  /** The columns of {@code table}, with NOTE's {@link #NOTE_TAG} once {@code tagged}. */
  public static List<String> columns(String table, boolean tagged) {
    return table.equals(EVENT) ? EVENT_COLUMNS : tagged ? TAGGED_NOTE_COLUMNS : NOTE_COLUMNS;
  }

  /** The index of the member column of {@code table}. */
  public static int memberIndex(String table) {
    return table.equals(EVENT) ? EVENT_MEMBER : NOTE_MEMBER;
  }

  /** True if {@code op} marks a delete: {@code D} or {@code delete}, any case, spaces ignored. */
  public static boolean isDelete(String op) {
    if (op == null) {
      return false;
    }
    String trimmed = op.trim().toLowerCase(Locale.ROOT);
    return trimmed.equals("d") || trimmed.equals("delete");
  }

  /**
   * The canonical text of a row: table and values joined by {@code |}, an absent value as {@code
   * ~}. Two rows with the same text are the same content.
   */
  public static String rowText(String table, List<String> values) {
    StringBuilder text = new StringBuilder(table);
    for (String value : values) {
      text.append('|').append(value == null ? "~" : value);
    }
    return text.toString();
  }

  /** The repo spec the soak creates: both tables, CSV by default, a short history. */
  public static ObjectNode repoSpec(String name, int partitions, int historyRetention) {
    return repoSpec(name, partitions, historyRetention, false);
  }

  /**
   * The repo spec, with NOTE's added column {@link #NOTE_TAG} (default {@link #NOTE_TAG_DEFAULT})
   * once {@code tagged}: the layout update the soak makes.
   */
  public static ObjectNode repoSpec(
      String name, int partitions, int historyRetention, boolean tagged) {
    ObjectNode spec = TuskClient.object().put("name", name).put("format", "csv");
    spec.put("defaultTable", EVENT)
        .put("partitions", partitions)
        .put("historyRetention", historyRetention);
    ArrayNode tables = spec.putArray("tables");
    ObjectNode events = tables.addObject().put("name", EVENT).put("memberKey", "MEMBER");
    EVENT_COLUMNS.forEach(events.putArray("columns")::add);
    events.putArray("rowKey").add("EVENT_ID");
    events.put("opColumn", "OP");
    events.putObject("columnTypes").put("AMOUNT", "double");
    ObjectNode notes = tables.addObject().put("name", NOTE).put("memberKey", "MEMBER");
    columns(NOTE, tagged).forEach(notes.putArray("columns")::add);
    if (tagged) {
      notes.putObject("defaults").put(NOTE_TAG, NOTE_TAG_DEFAULT);
    }
    return spec;
  }
}
