package io.tusk.cli.correctness;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * A test transform for layout changes: the member's {@code claims} rows' {@code PLAN} values in row
 * order ({@code null} where the layout has no such column) and its {@code labs} row count, so a
 * test sees which layout the processor read the member with.
 */
public final class PlanEcho implements Transform {
  @Override
  public TransformOutput apply(DatumInput input) {
    List<String> plans = new ArrayList<>();
    for (DatumInput.InputRow row :
        input.tables().contains("claims") ? input.rows("claims") : List.<DatumInput.InputRow>of()) {
      String plan = row.get("PLAN");
      plans.add(plan == null ? "null" : '"' + plan + '"');
    }
    int labs = input.tables().contains("labs") ? input.rows("labs").size() : 0;
    return TransformOutput.json(
        "{\"member\":\"" + input.member() + "\",\"plans\":" + plans + ",\"labs\":" + labs + "}");
  }
}
