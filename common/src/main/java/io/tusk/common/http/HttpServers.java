package io.tusk.common.http;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;

/** The options of every Tusk HTTP server. */
public final class HttpServers {
  private HttpServers() {}

  /** {@link #options()}, serving HTTPS with the operator's certificate when {@code tls} has one. */
  public static HttpServerOptions options(HttpTls tls) {
    HttpServerOptions options = options();
    if (tls.enabled()) {
      options
          .setSsl(true)
          .setKeyCertOptions(
              new PemKeyCertOptions()
                  .setCertPath(tls.cert().toString())
                  .setKeyPath(tls.key().toString()));
    }
    return options;
  }

  /**
   * HTTP/1.1 only. With h2c upgrades enabled, a client that asks for one (the JDK's HttpClient does
   * by default) gets a corrupt or hanging answer once the body is large, e.g. {@code /metrics}.
   */
  public static HttpServerOptions options() {
    return new HttpServerOptions().setHttp2ClearTextEnabled(false);
  }
}
