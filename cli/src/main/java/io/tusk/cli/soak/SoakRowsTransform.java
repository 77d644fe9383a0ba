package io.tusk.cli.soak;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * The soak's first stage: a member's rows in the soak's canonical text, plus a group for the second
 * stage. Fails on a member with a marker row ({@link SoakTables#FAIL_CODE} always, {@link
 * SoakTables#FLAKY_CODE} while {@link FailSwitch} is on).
 */
public class SoakRowsTransform implements Transform {

  /** The variant tag written into every output (pipeline updates switch variants). */
  protected String variant() {
    return "a";
  }

  @Override
  public TransformOutput apply(DatumInput input) {
    List<String> texts = new ArrayList<>();
    for (String table : input.tables()) {
      List<String> columns = SoakTables.columns(table);
      for (DatumInput.InputRow row : input.rows(table)) {
        List<String> values = new ArrayList<>(columns.size());
        columns.forEach(column -> values.add(row.get(column)));
        // A note read with the layout that added TAG has it (its default for older notes)
        if (table.equals(SoakTables.NOTE) && row.get(SoakTables.NOTE_TAG) != null) {
          values.add(row.get(SoakTables.NOTE_TAG));
        }
        if (SoakOutputs.fails(table, values, FailSwitch.flakyFails())) {
          // The message names the marker, never row contents.
          throw new IllegalStateException("member has a failure marker row");
        }
        texts.add(SoakTables.rowText(table, values));
      }
    }
    texts.sort(null);
    return TransformOutput.json(SoakOutputs.rowsOutput(variant(), input.member(), texts));
  }
}
