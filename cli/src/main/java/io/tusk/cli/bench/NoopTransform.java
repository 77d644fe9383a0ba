package io.tusk.cli.bench;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;

/**
 * A transform that does nothing but name the member: the processor benchmark's measure of the
 * processor's own cost per datum.
 */
public final class NoopTransform implements Transform {
  @Override
  public TransformOutput apply(DatumInput input) {
    return TransformOutput.json("{\"member\":\"" + input.member() + "\"}");
  }
}
