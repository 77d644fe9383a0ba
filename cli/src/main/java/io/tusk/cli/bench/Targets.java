package io.tusk.cli.bench;

/**
 * How the benchmarks print the targets their figures are held to (issue 14's table): one line per
 * figure, {@code met} or {@code MISSED}, so a run's output says where each target stands.
 */
final class Targets {
  private Targets() {}

  /** {@code met} or {@code MISSED}. */
  static String verdict(boolean met) {
    return met ? "met" : "MISSED";
  }

  /** A target line: the figure, what was measured, its target and the verdict. */
  static String line(String figure, String measured, String target, boolean met) {
    return String.format(
        "target    %s: %s (target %s): %s", figure, measured, target, verdict(met));
  }
}
