package io.tusk.cli;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;

/**
 * A transform that fails for the members whose key ends in {@code 7} and names the member for the
 * others: a job with a few failed datums, for tests of failures and restarts.
 */
public final class FailsForSomeMembers implements Transform {
  @Override
  public TransformOutput apply(DatumInput input) {
    if (input.member().endsWith("7")) {
      throw new IllegalStateException("fails for members ending in 7");
    }
    return TransformOutput.json("{\"member\":\"" + input.member() + "\"}");
  }
}
