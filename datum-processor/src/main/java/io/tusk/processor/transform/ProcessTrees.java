package io.tusk.processor.transform;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starting and killing transform processes. */
final class ProcessTrees {
  private static final Logger log = LoggerFactory.getLogger(ProcessTrees.class);
  private static final long REAP_SECONDS = 5;

  private ProcessTrees() {}

  /**
   * Kills a process and every process it started (children first seen, then the process), and waits
   * briefly until it is gone: a timed-out command must not leave work running.
   */
  static void kill(Process process) {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    tree.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    tree.add(process.toHandle());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(REAP_SECONDS);
    for (ProcessHandle handle : tree) {
      try {
        handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        log.warn("Process {} did not end within {} s of being killed", handle.pid(), REAP_SECONDS);
      }
    }
  }

  /**
   * Variables a transform inherits from the processor: what a command needs to find programs, its
   * home, its locale and its time zone, nothing else. An allow list rather than a deny list,
   * because a processor's environment may hold credentials under any name (Kafka's {@code
   * TUSK_KAFKA_*}, a JAAS file in {@code KAFKA_OPTS}, a cloud provider's keys) and a transform is
   * user code.
   */
  static final Set<String> INHERITED =
      Set.of("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME", "JAVA_HOME");

  /**
   * The environment of a transform process: the {@link #INHERITED} variables of the processor's own
   * (and its {@code LC_*} locale variables), plus the spec's variables and Tusk's.
   */
  static Map<String, String> environment(Map<String, String> specEnv, Map<String, String> tusk) {
    return environment(System.getenv(), specEnv, tusk);
  }

  static Map<String, String> environment(
      Map<String, String> processor, Map<String, String> specEnv, Map<String, String> tusk) {
    Map<String, String> env = new HashMap<>();
    processor.forEach(
        (key, value) -> {
          if (INHERITED.contains(key) || key.startsWith("LC_")) {
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
