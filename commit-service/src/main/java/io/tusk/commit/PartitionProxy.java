package io.tusk.commit;

import io.tusk.common.http.ApiException;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards member queries (time travel, diffs) to the partition service, which holds the member
 * versions, so users have one API. Status, body, Content-Type and Retry-After pass through; an
 * unreachable partition service is a 502 JSON error, one that does not answer in time a 504.
 */
final class PartitionProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartitionProxy.class);
  private static final long TIMEOUT_MS = 30_000;

  private final WebClient client;
  private final String base;

  /**
   * @param caFile extra CA certificates (PEM) trusted when the partition service is https, or null
   *     (the JVM's trust store)
   */
  PartitionProxy(Vertx vertx, URI baseUrl, Path caFile) {
    WebClientOptions options = new WebClientOptions().setUserAgentEnabled(false);
    if (caFile != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(caFile.toString()));
    }
    this.client = WebClient.create(vertx, options);
    String url = baseUrl.toString();
    this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /**
   * Answers {@code ctx} with the partition service's answer to GET {@code path} (segments already
   * encoded, see {@link #segment}) and the request's query string.
   */
  void forward(RoutingContext ctx, String path) {
    forward(ctx, path, Map.of(), null);
  }

  /**
   * As {@link #forward(RoutingContext, String)}, with some query parameters' values replaced (the
   * full IDs of commit references), answering {@code insteadOf404} (when not null) in place of a
   * 404.
   */
  void forward(
      RoutingContext ctx, String path, Map<String, String> replaced, ApiException insteadOf404) {
    String query = replaced.isEmpty() ? ctx.request().query() : query(ctx, replaced);
    String url = base + path + (query == null || query.isEmpty() ? "" : "?" + query);
    var request = client.requestAbs(HttpMethod.GET, url).timeout(TIMEOUT_MS);
    // The partition service checks the caller's token itself: its routes are protected too.
    String authorization = ctx.request().getHeader("Authorization");
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    request
        .send()
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
        .onFailure(
            failure -> {
              log.warn(
                  "Partition service at {} did not answer GET {}: {}",
                  base,
                  path,
                  failure.toString());
              if (failure instanceof TimeoutException) {
                ctx.fail(
                    new ApiException(
                        504,
                        "gateway_timeout",
                        "the partition service at "
                            + base
                            + " did not answer within "
                            + TIMEOUT_MS / 1000
                            + " s"));
              } else {
                ctx.fail(
                    new ApiException(
                        502,
                        "bad_gateway",
                        "the partition service at "
                            + base
                            + " is unreachable: "
                            + failure.getMessage()));
              }
            });
  }

  /** One path segment, percent-encoded (a member ID may hold any character). */
  static String segment(String value) {
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
