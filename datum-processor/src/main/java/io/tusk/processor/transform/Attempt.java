package io.tusk.processor.transform;

import io.tusk.common.transform.TransformOutput;

/**
 * One attempt at a datum: an output, or an error. Either way it may carry what the transform
 * printed.
 *
 * @param output the output; null when the attempt failed
 * @param error why the attempt failed, in Tusk's words (exit status, timeout, invalid output,
 *     exception class and message); null on success. Never the transform's own output.
 * @param stdout the end of what the attempt wrote to stdout (commands), or empty
 * @param stderr the end of what the attempt wrote to stderr (commands, workers), or empty
 */
public record Attempt(TransformOutput output, String error, String stdout, String stderr) {

  public Attempt {
    if ((output == null) == (error == null)) {
      throw new IllegalArgumentException("an attempt has an output or an error, not both");
    }
    stdout = stdout == null ? "" : stdout;
    stderr = stderr == null ? "" : stderr;
  }

  /** A successful attempt. */
  public static Attempt success(TransformOutput output, String stdout, String stderr) {
    return new Attempt(output, null, stdout, stderr);
  }

  /** A failed attempt. */
  public static Attempt failure(String error, String stdout, String stderr) {
    return new Attempt(null, error, stdout, stderr);
  }

  public boolean succeeded() {
    return output != null;
  }
}
