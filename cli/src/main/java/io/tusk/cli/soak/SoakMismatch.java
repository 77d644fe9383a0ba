package io.tusk.cli.soak;

import java.util.List;

/**
 * Tusk did something else than the reference model says it must: names the seed and the operation
 * that reproduce it, and every difference found.
 */
public final class SoakMismatch extends RuntimeException {
  private static final long serialVersionUID = 1L;

  SoakMismatch(long seed, int opIndex, Op op, List<String> differences) {
    super(
        "Tusk differs from the model (seed "
            + seed
            + ", op "
            + opIndex
            + ": "
            + op.describe()
            + "):\n  - "
            + String.join("\n  - ", differences));
  }
}
