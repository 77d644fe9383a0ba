package io.tusk.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A JVM child process on this JVM's class path, as a supervisor runs one: started with its
 * environment (this JVM's {@code TUSK_*} variables are not passed on), killed with SIGKILL (as a
 * lost machine or an OOM kill ends it, without shutdown hooks), paused with SIGSTOP (as a long GC
 * pause or a frozen VM: it keeps its sockets but answers nothing) and started again the same way.
 * Its output is appended to one log file across starts.
 */
public final class JavaProcess {
  private final String mainClass;
  private final List<String> args;
  private final List<String> jvmFlags;
  private final Map<String, String> env;
  private final Path log;
  private Process process;

  /**
   * @param mainClass the class to run
   * @param args its arguments
   * @param jvmFlags flags before the class path, e.g. {@code -Xmx512m}
   * @param env the environment added to this JVM's (less its {@code TUSK_*} variables)
   * @param log the file its standard output and error are appended to
   */
  public JavaProcess(
      String mainClass,
      List<String> args,
      List<String> jvmFlags,
      Map<String, String> env,
      Path log) {
    this.mainClass = mainClass;
    this.args = List.copyOf(args);
    this.jvmFlags = List.copyOf(jvmFlags);
    this.env = Map.copyOf(env);
    this.log = log;
  }

  /** Starts the process. */
  public synchronized void start() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().keySet().removeIf(key -> key.startsWith("TUSK_"));
    builder.environment().putAll(env);
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("Could not start " + mainClass, e);
    }
  }

  /** Kills the process with SIGKILL (resuming it first if paused) and waits until it is gone. */
  public synchronized void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Stops the process with SIGSTOP until {@link #resume}. */
  public synchronized void pause() {
    signal("-STOP");
  }

  /** Lets a paused process run on (SIGCONT). */
  public synchronized void resume() {
    signal("-CONT");
  }

  private void signal(String signal) {
    if (process == null || !process.isAlive()) {
      return;
    }
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("kill " + signal + " " + process.pid() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sending " + signal, e);
    }
  }

  /** Waits up to {@code timeout} for the process to end; true if it has (or never started). */
  public boolean awaitExit(Duration timeout) throws InterruptedException {
    Process current;
    synchronized (this) {
      current = process;
    }
    return current == null || current.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** True while the process runs (paused or not). */
  public synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  /** The file its output goes to. */
  public Path log() {
    return log;
  }
}
