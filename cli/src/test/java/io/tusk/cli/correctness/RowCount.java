package io.tusk.cli.correctness;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;

/**
 * A test transform: the member and how many rows of each table it has, so a test can tell which
 * rows an output was computed from.
 */
public final class RowCount implements Transform {
  @Override
  public TransformOutput apply(DatumInput input) {
    StringBuilder json = new StringBuilder("{\"member\":\"").append(input.member()).append("\"");
    for (String table : new java.util.TreeSet<>(input.tables())) {
      json.append(",\"").append(table).append("\":").append(input.rows(table).size());
    }
    return TransformOutput.json(json.append('}').toString());
  }
}
