package io.tusk.commit;

import static io.tusk.commit.Responses.created;

import io.tusk.common.http.HttpErrors;
import io.tusk.common.security.Need;
import io.tusk.common.security.SecuredRouter;
import io.tusk.schemas.Erasure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * The erasure routes, all for admins: erase a member ({@code POST
 * /repos/{repo}/members/{member}/erasure}), list the erasure log, one request's state and evidence,
 * and a verification scan that needs the member key again (the log does not hold it).
 */
final class ErasureApi {
  private final ErasureControl erasures;

  ErasureApi(ErasureControl erasures) {
    this.erasures = erasures;
  }

  /** Declares the routes on {@code routes}. */
  void mount(SecuredRouter routes) {
    routes
        .post("/repos/:repo/members/:member/erasure", Need.admin(), this::handleErase)
        .get("/erasures", Need.admin(), this::handleList)
        .get("/erasures/:id", Need.admin(), this::handleGet)
        .post("/erasures/:id/verify", Need.admin(), this::handleVerify);
  }

  private void handleErase(RoutingContext ctx) {
    JsonObject body = HttpErrors.jsonBody(ctx);
    erasures
        .erase(ctx.pathParam("repo"), ctx.pathParam("member"), body, SecuredRouter.principal(ctx))
        .compose(recorded -> ctx.vertx().executeBlocking(() -> erasures.json(recorded), false))
        .onSuccess(json -> created(ctx, "/erasures/" + json.getString("id"), json))
        .onFailure(ctx::fail);
  }

  private void handleList(RoutingContext ctx) {
    String repo = ctx.queryParams().get("repo");
    JsonArray items = new JsonArray();
    for (Erasure erasure : erasures.log().all()) {
      if (repo == null || repo.equals(erasure.getRepo())) {
        items.add(erasures.json(erasure));
      }
    }
    ctx.json(new JsonObject().put("erasures", items));
  }

  private void handleVerify(RoutingContext ctx) {
    Erasure erasure =
        erasures.verify(
            ctx.pathParam("id"),
            HttpErrors.jsonBody(ctx).getValue("member"),
            SecuredRouter.principal(ctx));
    ctx.vertx()
        .executeBlocking(() -> erasures.json(erasure), false)
        .onSuccess(
            json ->
                ctx.response()
                    .setStatusCode(202)
                    .putHeader("Content-Type", "application/json")
                    .end(json.encode()))
        .onFailure(ctx::fail);
  }

  private void handleGet(RoutingContext ctx) {
    Erasure erasure = erasures.erasure(ctx.pathParam("id"));
    ctx.json(erasures.json(erasure));
  }
}
