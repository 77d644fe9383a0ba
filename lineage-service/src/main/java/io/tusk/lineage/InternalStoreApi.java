package io.tusk.lineage;

import io.tusk.common.http.ApiException;
import io.tusk.common.security.InternalListener;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The endpoints instances read each other's stores with ({@link StreamsStoreLocator}): {@code GET
 * /internal/stores/{store}/get?key=} (200 with the serialized value, 204 when absent) and {@code
 * GET /internal/stores/{store}/range?prefix=&after=&limit=} (the serialized entries) and {@code GET
 * /internal/stores/{store}/scan?prefix=&limit=} (the entries of every partition this instance holds
 * whose keys start with the prefix). Keys are base64url; 503 while this instance does not own the
 * key's partition. They are served on the internal listener only ({@link InternalListener}: the
 * shared secret), never the public one.
 */
final class InternalStoreApi {
  private final Vertx vertx;
  private final StreamsStoreLocator locator;

  private InternalStoreApi(Vertx vertx, StreamsStoreLocator locator) {
    this.vertx = vertx;
    this.locator = locator;
  }

  /** The internal listener's router: the store endpoints behind the shared secret. */
  static Router router(Vertx vertx, StreamsStoreLocator locator, String secret) {
    Router router = InternalListener.router(vertx, secret);
    InternalStoreApi api = new InternalStoreApi(vertx, locator);
    router.get(StreamsStoreLocator.INTERNAL_PATH + ":store/get").handler(api::handleGet);
    router.get(StreamsStoreLocator.INTERNAL_PATH + ":store/range").handler(api::handleRange);
    router.get(StreamsStoreLocator.INTERNAL_PATH + ":store/scan").handler(api::handleScan);
    return router;
  }

  private void handleGet(RoutingContext ctx) {
    String store = store(ctx);
    String key = encoded(ctx, "key");
    answer(ctx, () -> locator.localGet(store, key));
  }

  private void handleRange(RoutingContext ctx) {
    String store = store(ctx);
    String prefix = encoded(ctx, "prefix");
    String after = ctx.queryParams().get("after") == null ? null : encoded(ctx, "after");
    int limit = limit(ctx);
    answer(ctx, () -> locator.localRange(store, prefix, after, limit));
  }

  private void handleScan(RoutingContext ctx) {
    String store = store(ctx);
    String prefix = encoded(ctx, "prefix");
    int limit = limit(ctx);
    answer(ctx, () -> locator.localScan(store, prefix, limit));
  }

  private static int limit(RoutingContext ctx) {
    int limit;
    try {
      limit = Integer.parseInt(ctx.queryParams().get("limit"));
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("query parameter 'limit' must be a whole number");
    }
    if (limit < 1 || limit > IndexReads.MAX_VERSIONS) {
      throw ApiException.badRequest(
          "query parameter 'limit' must be from 1 to " + IndexReads.MAX_VERSIONS);
    }
    return limit;
  }

  private void answer(RoutingContext ctx, java.util.concurrent.Callable<byte[]> read) {
    vertx
        .executeBlocking(read, false)
        .onSuccess(
            bytes -> {
              if (bytes == null) {
                ctx.response().setStatusCode(204).end();
              } else {
                ctx.response()
                    .putHeader("Content-Type", "application/octet-stream")
                    .end(Buffer.buffer(bytes));
              }
            })
        .onFailure(
            failure ->
                ctx.fail(
                    failure instanceof InvalidStateStoreException
                        ? ApiException.unavailable(failure.getMessage())
                        : failure));
  }

  private String store(RoutingContext ctx) {
    String store = ctx.pathParam("store");
    if (!locator.knows(store)) {
      throw ApiException.notFound("no store " + store);
    }
    return store;
  }

  private static String encoded(RoutingContext ctx, String name) {
    String value = ctx.queryParams().get(name);
    if (value == null) {
      throw ApiException.badRequest("query parameter '" + name + "' is required");
    }
    try {
      return StreamsStoreLocator.decode(value);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("query parameter '" + name + "' must be base64url");
    }
  }
}
