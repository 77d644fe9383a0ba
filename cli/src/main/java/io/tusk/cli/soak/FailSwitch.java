package io.tusk.cli.soak;

/**
 * Whether members with a {@link SoakTables#FLAKY_CODE} row fail: the soak turns it off to "fix the
 * environment" before restarting failed datums. Processors run in the soak's JVM, so a static flag
 * reaches them; the reference model keeps its own copy.
 */
public final class FailSwitch {
  private static volatile boolean flakyFails = true;

  private FailSwitch() {}

  public static boolean flakyFails() {
    return flakyFails;
  }

  public static void set(boolean fails) {
    flakyFails = fails;
  }
}
