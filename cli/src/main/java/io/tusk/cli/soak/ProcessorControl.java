package io.tusk.cli.soak;

/** Stops and starts the datum processors of a pipeline (in-process, for the soak). */
public interface ProcessorControl {
  void stop(String pipeline);

  void start(String pipeline);
}
