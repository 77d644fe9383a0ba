package io.tusk.cli.soak;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The soak's second stage: per group (the derived repo's member), the first-stage members in it
 * with a checksum of each one's output.
 */
public final class SoakGroupsTransform implements Transform {
  /** The derived repo's table and its columns (see docs/versioning-and-processing.md). */
  static final String TABLE = "output";

  @Override
  public TransformOutput apply(DatumInput input) {
    SortedMap<String, String> dataByMember = new TreeMap<>();
    for (DatumInput.InputRow row : input.rows(TABLE)) {
      dataByMember.put(row.get("member"), row.get("data"));
    }
    return TransformOutput.json(SoakOutputs.groupsOutput(input.member(), dataByMember));
  }
}
