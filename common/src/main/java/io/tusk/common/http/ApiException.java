package io.tusk.common.http;

/**
 * A request that cannot be answered, with the HTTP status and a short error code; {@link
 * HttpErrors} turns it into a JSON error response.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;

  public ApiException(int status, String error, String message) {
    super(message);
    this.status = status;
    this.error = error;
  }

  /** 400: the request is malformed; the message names the field or parameter. */
  public static ApiException badRequest(String message) {
    return new ApiException(400, "bad_request", message);
  }

  /** 401: no valid bearer token; the message says what was wrong with it. */
  public static ApiException unauthenticated(String message) {
    return new ApiException(401, "unauthenticated", message);
  }

  /** 403: a valid token without the right; the message names the role and the resource. */
  public static ApiException forbidden(String message) {
    return new ApiException(403, "forbidden", message);
  }

  /** 404: the named thing does not exist. */
  public static ApiException notFound(String message) {
    return new ApiException(404, "not_found", message);
  }

  /** 409: the request conflicts with the current state. */
  public static ApiException conflict(String message) {
    return new ApiException(409, "conflict", message);
  }

  /** 503: the answer is not available yet (e.g. a store is rebalancing); retry later. */
  public static ApiException unavailable(String message) {
    return new ApiException(503, "unavailable", message);
  }

  public int status() {
    return status;
  }

  public String error() {
    return error;
  }
}
