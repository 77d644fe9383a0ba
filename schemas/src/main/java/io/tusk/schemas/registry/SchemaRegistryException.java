package io.tusk.schemas.registry;

/** A schema registry call failed; carries the HTTP status and the Confluent error code if any. */
public final class SchemaRegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Confluent's code for "subject not found". */
  public static final int SUBJECT_NOT_FOUND = 40401;

  /** Confluent's code for "schema not found". */
  public static final int SCHEMA_NOT_FOUND = 40403;

  private final int status;
  private final int errorCode;

  public SchemaRegistryException(String message, int status, int errorCode) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  public SchemaRegistryException(String message, Throwable cause) {
    super(message, cause);
    this.status = -1;
    this.errorCode = -1;
  }

  /** HTTP status of the failed call, or -1 if the registry could not be reached. */
  public int status() {
    return status;
  }

  /** Confluent error code (e.g. 40401), or -1. */
  public int errorCode() {
    return errorCode;
  }

  /** True when the registry answered "not found" for the subject or schema. */
  public boolean isNotFound() {
    return status == 404;
  }
}
