package io.tusk.common.http;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;

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

  /**
   * Where the other instances of a service reach this one: {@code configured} when set, else {@code
   * scheme}://(the bound address, or the host name when bound to every address):{@code port}.
   */
  public static String advertisedUrl(String configured, String scheme, String boundHost, int port) {
    if (configured != null && !configured.isEmpty()) {
      return configured;
    }
    String host = boundHost;
    if (host == null || host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        host = "localhost";
      }
    }
    return scheme + "://" + host + ":" + port;
  }
}
