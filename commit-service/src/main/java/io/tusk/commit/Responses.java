package io.tusk.commit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** How the commit service's handlers answer: JSON with a status (and a Location when created). */
final class Responses {
  private Responses() {}

  static JsonArray jsonArray(List<JsonObject> items) {
    return new JsonArray(List.copyOf(items));
  }

  static void ok(RoutingContext ctx, JsonObject json) {
    send(ctx, 200, json.encode());
  }

  static void ok(RoutingContext ctx, JsonArray json) {
    send(ctx, 200, json.encode());
  }

  static void created(RoutingContext ctx, String location, JsonObject json) {
    ctx.response().putHeader("Location", location);
    send(ctx, 201, json.encode());
  }

  static void send(RoutingContext ctx, int status, String body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }
}
