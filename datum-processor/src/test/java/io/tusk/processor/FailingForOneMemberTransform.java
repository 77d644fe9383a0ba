package io.tusk.processor;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import io.tusk.processor.examples.GiBleedInsights;

/**
 * A test transform named by class name: the demo insight, except that member {@link
 * #FAILING_MEMBER} always fails.
 */
public final class FailingForOneMemberTransform implements Transform {
  /** The member whose datum fails. */
  public static final String FAILING_MEMBER = "1000";

  private final GiBleedInsights insights = new GiBleedInsights();

  @Override
  public TransformOutput apply(DatumInput input) throws Exception {
    if (FAILING_MEMBER.equals(input.member())) {
      throw new IllegalStateException("this test transform fails for one member");
    }
    return insights.apply(input);
  }
}
