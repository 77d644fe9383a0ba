package io.tusk.lineage;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.function.Predicate;

/**
 * An HTTP answer a test waits on: status and body, printed as such when the wait fails (a Vert.x
 * response prints as an object reference).
 */
record HttpAnswer(int status, String body) {

  static HttpAnswer of(HttpResponse<Buffer> response) {
    return new HttpAnswer(response.statusCode(), response.bodyAsString());
  }

  JsonObject json() {
    return new JsonObject(body);
  }

  /** True for a 200 whose JSON body satisfies {@code done}. */
  boolean okAnd(Predicate<JsonObject> done) {
    return status == 200 && done.test(json());
  }

  @Override
  public String toString() {
    return status + " " + body;
  }
}
