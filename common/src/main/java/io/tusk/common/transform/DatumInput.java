package io.tusk.common.transform;

import java.util.List;
import java.util.Set;

/** What a {@link Transform} sees of one datum: the member's rows by table, and the datum's IDs. */
public interface DatumInput {

  /** The member key value. */
  String member();

  String pipeline();

  String jobId();

  String commitId();

  String datumHash();

  /** Tables the member has rows in. */
  Set<String> tables();

  /** The member's rows of {@code table} in canonical order; empty if it has none. */
  List<InputRow> rows(String table);

  /** One input row; values are read by column name. */
  interface InputRow {
    String table();

    /** The value of {@code column}, or null if absent. */
    String get(String column);
  }
}
