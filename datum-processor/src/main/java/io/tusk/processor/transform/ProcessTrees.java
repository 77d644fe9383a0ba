package io.tusk.processor.transform;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starting and killing transform processes. */
final class ProcessTrees {
  private static final long REAP_SECONDS = 5;

  private ProcessTrees() {}

  /**
   * Kills a process and every process it started (children first seen, then the process), and waits
   * briefly until it is gone: a timed-out command must not leave work running.
   */
  static void kill(Process process) {
    List<ProcessHandle> descendants = process.descendants().toList();
    descendants.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    // Children forked while the first ones were being killed.
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    try {
      process.waitFor(REAP_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The environment of a transform process: the processor's own, without its {@code TUSK_*}
   * configuration (which may hold credentials), plus the spec's variables and Tusk's.
   */
  static Map<String, String> environment(Map<String, String> specEnv, Map<String, String> tusk) {
    Map<String, String> env = new HashMap<>();
    System.getenv()
        .forEach(
            (key, value) -> {
              if (!key.startsWith("TUSK_")) {
                env.put(key, value);
              }
            });
    env.putAll(specEnv);
    env.putAll(tusk);
    return env;
  }

  /** A duration for messages: "30 s", "250 ms". */
  static String describe(java.time.Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
  }
}
