package io.tusk.processor;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;

/**
 * A test transform named by class name, with an output unlike the demo's: the member and how many
 * rows it had, {@code {"member":"<id>","rows":<n>}}.
 */
public final class RowCountTransform implements Transform {

  @Override
  public TransformOutput apply(DatumInput input) {
    int rows = 0;
    for (String table : input.tables()) {
      rows += input.rows(table).size();
    }
    return TransformOutput.json(output(input.member(), rows));
  }

  /** The output this transform gives a member of {@code rows} rows. */
  public static String output(String member, int rows) {
    return "{\"member\":\"" + member + "\",\"rows\":" + rows + "}";
  }
}
