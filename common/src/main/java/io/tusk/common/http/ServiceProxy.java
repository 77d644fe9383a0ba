package io.tusk.common.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards a request to another Tusk service with the caller's token, which that service checks
 * itself (its routes are protected too), so users see one API: the commit service forwards member
 * queries to the partition service, the lineage service forwards the console's commit-service
 * calls. Status, body, Content-Type and Retry-After pass through; an unreachable service is a 502
 * JSON error, one that does not answer in time a 504.
 */
public final class ServiceProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServiceProxy.class);
  private static final long TIMEOUT_MS = 30_000;

  /**
   * The caller's headers the target needs besides its token: the body's type, and a seal's
   * idempotency key (a retried seal forwarded to the leader must still count once).
   */
  private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Idempotency-Key");

  private final String service;
  private final WebClient client;
  private final String base;

  /**
   * @param service the target's name in error messages, e.g. "partition service"
   * @param baseUrl the target's base URL
   * @param caFile extra CA certificates (PEM) trusted when the target is https, or null (the JVM's
   *     trust store)
   */
  public ServiceProxy(Vertx vertx, String service, URI baseUrl, Path caFile) {
    this.service = Objects.requireNonNull(service, "service");
    WebClientOptions options = new WebClientOptions().setUserAgentEnabled(false);
    if (caFile != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(caFile.toString()));
    }
    this.client = WebClient.create(vertx, options);
    String url = baseUrl.toString();
    this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /**
   * Answers {@code ctx} with the target's answer to GET {@code path} (segments already encoded, see
   * {@link #segment}) and the request's query string.
   */
  public void forward(RoutingContext ctx, String path) {
    forward(ctx, HttpMethod.GET, path, Map.of(), null);
  }

  /**
   * Answers {@code ctx} with the target's answer to {@code method} {@code path} with the request's
   * query string, some query parameters' values replaced (e.g. the full IDs of commit references),
   * and the request's body when it has one; {@code insteadOf404} (when not null) answers in place
   * of a 404.
   */
  public void forward(
      RoutingContext ctx,
      HttpMethod method,
      String path,
      Map<String, String> replaced,
      ApiException insteadOf404) {
    forward(ctx, method, path, replaced, insteadOf404, Map.of());
  }

  /**
   * {@link #forward(RoutingContext, HttpMethod, String, Map, ApiException)} with {@code headers}
   * added to the forwarded request.
   */
  public void forward(
      RoutingContext ctx,
      HttpMethod method,
      String path,
      Map<String, String> replaced,
      ApiException insteadOf404,
      Map<String, String> headers) {
    String query = replaced.isEmpty() ? ctx.request().query() : query(ctx, replaced);
    String url = base + path + (query == null || query.isEmpty() ? "" : "?" + query);
    var request = client.requestAbs(method, url).timeout(TIMEOUT_MS);
    String authorization = ctx.request().getHeader("Authorization");
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    for (String name : PASSED_HEADERS) {
      String value = ctx.request().getHeader(name);
      if (value != null) {
        request.putHeader(name, value);
      }
    }
    headers.forEach(request::putHeader);
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    (body == null || body.length() == 0 ? request.send() : request.sendBuffer(body))
        .onSuccess(
            answer -> {
              if (answer.statusCode() == 404 && insteadOf404 != null) {
                ctx.fail(insteadOf404);
                return;
              }
              ctx.response().setStatusCode(answer.statusCode());
              copyHeader(answer.getHeader("Content-Type"), "Content-Type", ctx);
              copyHeader(answer.getHeader("Retry-After"), "Retry-After", ctx);
              if (answer.body() == null) {
                ctx.response().end();
              } else {
                ctx.response().end(answer.body());
              }
            })
        .onFailure(failure -> fail(ctx, method, path, failure));
  }

  private void fail(RoutingContext ctx, HttpMethod method, String path, Throwable failure) {
    log.warn(
        "The {} at {} did not answer {} {}: {}", service, base, method, path, failure.toString());
    if (failure instanceof TimeoutException) {
      ctx.fail(
          new ApiException(
              504,
              "gateway_timeout",
              "the "
                  + service
                  + " at "
                  + base
                  + " did not answer within "
                  + TIMEOUT_MS / 1000
                  + " s"));
    } else {
      ctx.fail(
          new ApiException(
              502,
              "bad_gateway",
              "the " + service + " at " + base + " is unreachable: " + failure.getMessage()));
    }
  }

  /** One path segment, percent-encoded (a member ID may hold any character). */
  public static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The request's query with the {@code replaced} parameters' values swapped. */
  private static String query(RoutingContext ctx, Map<String, String> replaced) {
    StringBuilder query = new StringBuilder();
    for (Map.Entry<String, String> parameter : ctx.queryParams().entries()) {
      String value = replaced.getOrDefault(parameter.getKey(), parameter.getValue());
      query
          .append(query.length() == 0 ? "" : "&")
          .append(URLEncoder.encode(parameter.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
    return query.toString();
  }

  private static void copyHeader(String value, String name, RoutingContext ctx) {
    if (value != null) {
      ctx.response().putHeader(name, value);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
