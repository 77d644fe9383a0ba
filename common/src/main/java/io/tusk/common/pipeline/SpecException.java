package io.tusk.common.pipeline;

import java.util.Objects;

/**
 * A repo or pipeline spec document is invalid. The message starts with the path of the offending
 * field (e.g. {@code transform.cmd[1]}, {@code tables[0].memberKey}), which {@link #field()} also
 * gives, so an HTTP API can answer 400 naming it.
 */
public final class SpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;

  public SpecException(String field, String message) {
    super(field.isEmpty() ? message : field + " " + message);
    this.field = Objects.requireNonNull(field, "field");
  }

  /** The path of the offending field; empty when the document as a whole is wrong. */
  public String field() {
    return field;
  }
}
