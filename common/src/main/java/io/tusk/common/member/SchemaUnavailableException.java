package io.tusk.common.member;

import org.apache.kafka.common.errors.RetriableException;

/**
 * The schema registry could not answer (unreachable, timeout, server error): the record is neither
 * good nor bad yet, so the caller retries it instead of rejecting it.
 */
public final class SchemaUnavailableException extends RetriableException {
  private static final long serialVersionUID = 1L;

  public SchemaUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
