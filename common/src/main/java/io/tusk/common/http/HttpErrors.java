package io.tusk.common.http;

import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one failure handler of Tusk's HTTP APIs: every error is answered as JSON {@code {"error":
 * code, "message": text}} with a 4xx status for the caller's mistakes and 500 (logged) for ours.
 */
public final class HttpErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

  /** The longest error message answered: room for a rule and a short quote of the input. */
  static final int MAX_MESSAGE = 512;

  private static final String MALFORMED =
      "malformed request: the path or query is not valid percent-encoded UTF-8";

  private HttpErrors() {}

  /**
   * Installs the failure handler and JSON answers for unknown paths and methods and undecodable
   * requests on {@code router}.
   */
  public static void install(Router router) {
    router.route().failureHandler(HttpErrors::handle);
    router.errorHandler(
        404,
        ctx ->
            send(
                ctx,
                404,
                "not_found",
                "no such endpoint: " + ctx.request().method() + " " + ctx.request().path()));
    // Vert.x refuses a path or query it cannot decode (e.g. "%ZZ") before any route runs.
    router.errorHandler(400, ctx -> send(ctx, 400, "bad_request", MALFORMED));
    router.errorHandler(
        405,
        ctx ->
            send(
                ctx,
                405,
                "method_not_allowed",
                "method " + ctx.request().method() + " not allowed on " + ctx.request().path()));
  }

  /** Reads the request body as a JSON object, or fails with 400. */
  public static JsonObject jsonBody(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body == null) {
        throw ApiException.badRequest("request body must be a JSON object");
      }
      return body;
    } catch (DecodeException | ClassCastException e) {
      throw ApiException.badRequest("request body is not a JSON object: " + e.getMessage());
    }
  }

  private static void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiException api) {
      send(ctx, api.status(), api.error(), api.getMessage());
    } else if (failure instanceof HttpException http
        && http.getStatusCode() >= 400
        && http.getStatusCode() < 500) {
      // Vert.x's own refusal, e.g. a query it cannot decode, read by a handler ("%ZZ")
      send(
          ctx,
          http.getStatusCode(),
          "bad_request",
          http.getStatusCode() == 400 ? MALFORMED : "request rejected: " + http.getMessage());
    } else if (failure instanceof DecodeException) {
      send(ctx, 400, "bad_request", "malformed JSON: " + failure.getMessage());
    } else if (failure == null && ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      send(
          ctx, ctx.statusCode(), "bad_request", "request rejected with status " + ctx.statusCode());
    } else {
      log.error("Request {} {} failed", ctx.request().method(), ctx.request().path(), failure);
      send(ctx, 500, "internal_error", "internal error; see the service log");
    }
  }

  /**
   * Answers a request the HTTP decoder refused before any route saw it (a request line over the
   * server's limit, e.g. a 10,000-character name: 414; headers over it: 431; anything else
   * malformed: 400) with the same JSON error, then closes the connection, which cannot carry
   * another request. Install it with {@code HttpServer.invalidRequestHandler}.
   */
  public static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    String reason = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
    int status = 400;
    String message = "malformed HTTP request";
    if (cause instanceof TooLongFrameException && reason.startsWith("An HTTP line is larger")) {
      status = 414;
      message = "request line too long: a name or query parameter is far over its limit";
    } else if (cause instanceof TooLongFrameException && reason.startsWith("HTTP header")) {
      status = 431;
      message = "request headers too large";
    }
    request
        .response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Connection", "close")
        .end(errorJson(status == 400 ? "bad_request" : "too_large", message))
        .onComplete(done -> request.connection().close());
  }

  /**
   * The JSON error body; the message is cut to {@link #MAX_MESSAGE} characters, so no input a
   * message quotes is reflected in full, however it was quoted.
   */
  static String errorJson(String error, String message) {
    String shown =
        message != null && message.length() > MAX_MESSAGE
            ? message.substring(0, MAX_MESSAGE) + "..."
            : message;
    return new JsonObject().put("error", error).put("message", shown).encode();
  }

  private static void send(RoutingContext ctx, int status, String error, String message) {
    if (ctx.response().ended()) {
      return;
    }
    if (status == 503 && ctx.response().headers().get("Retry-After") == null) {
      // Not ready yet (e.g. a store rebalancing): clients should retry shortly.
      ctx.response().putHeader("Retry-After", "1");
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(errorJson(error, message));
  }
}
