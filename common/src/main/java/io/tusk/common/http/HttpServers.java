package io.tusk.common.http;

import io.vertx.core.http.HttpServerOptions;

/** The options of every Tusk HTTP server. */
public final class HttpServers {
  private HttpServers() {}

  /**
   * HTTP/1.1 only. With h2c upgrades enabled, a client that asks for one (the JDK's HttpClient does
   * by default) gets a corrupt or hanging answer once the body is large, e.g. {@code /metrics}.
   */
  public static HttpServerOptions options() {
    return new HttpServerOptions().setHttp2ClearTextEnabled(false);
  }
}
