package io.tusk.common.pipeline;

import java.util.Objects;

/**
 * A pipeline spec document is invalid. The message starts with the path of the offending field
 * (e.g. {@code transform.cmd[1]}), which {@link #field()} also gives, so an HTTP API can answer 400
 * naming it.
 */
public final class PipelineSpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;

  public PipelineSpecException(String field, String message) {
    super(field.isEmpty() ? message : field + " " + message);
    this.field = Objects.requireNonNull(field, "field");
  }

  /** The path of the offending field; empty when the document as a whole is wrong. */
  public String field() {
    return field;
  }
}
