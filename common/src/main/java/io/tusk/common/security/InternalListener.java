package io.tusk.common.security;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * The router of a service's internal listener: the endpoints its instances call on each other
 * (forwarded store reads), on a port of their own, never on the public listener. Every request must
 * carry the shared secret ({@code TUSK_INTERNAL_SECRET}) in {@link #SECRET_HEADER}; anything else
 * is a 401. With authentication off and no secret set, the header is not checked.
 */
public final class InternalListener {
  /** The header instances send the shared secret in. */
  public static final String SECRET_HEADER = "X-Tusk-Internal-Secret";

  private InternalListener() {}

  /**
   * A router whose every route first checks the secret; add the internal routes to it.
   *
   * @param secret the shared secret; empty only when authentication is off
   */
  public static Router router(Vertx vertx, String secret) {
    Objects.requireNonNull(secret, "secret");
    byte[] expected = secret.getBytes(StandardCharsets.UTF_8);
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    router.route().handler(ctx -> check(ctx, expected));
    return router;
  }

  private static void check(RoutingContext ctx, byte[] expected) {
    if (expected.length == 0) {
      ctx.next();
      return;
    }
    String given = ctx.request().getHeader(SECRET_HEADER);
    // Constant time: the comparison must not tell how much of a guess was right.
    if (given != null && MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
      ctx.next();
    } else {
      ctx.fail(
          ApiException.unauthenticated(
              "the internal listener answers Tusk instances only (header " + SECRET_HEADER + ")"));
    }
  }
}
