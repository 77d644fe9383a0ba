package io.tusk.processor;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import io.tusk.processor.examples.GiBleedInsights;

/**
 * The demo transform, slowed down so a job lasts long enough to kill processors, stop the broker or
 * add an instance in the middle of it. Outputs are the demo transform's, byte for byte.
 */
public final class SlowTransforms {
  private SlowTransforms() {}

  private abstract static class Slow implements Transform {
    private final GiBleedInsights insights = new GiBleedInsights();
    private final long millis;

    Slow(long millis) {
      this.millis = millis;
    }

    @Override
    public TransformOutput apply(DatumInput input) throws Exception {
      Thread.sleep(millis);
      return insights.apply(input);
    }
  }

  /** 10 ms per datum. */
  public static final class TenMillis extends Slow {
    public TenMillis() {
      super(10);
    }
  }

  /** 4 ms per datum. */
  public static final class FourMillis extends Slow {
    public FourMillis() {
      super(4);
    }
  }
}
