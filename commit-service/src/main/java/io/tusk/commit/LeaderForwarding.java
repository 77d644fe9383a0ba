package io.tusk.commit;

import io.tusk.common.http.ServiceProxy;
import io.tusk.schemas.CommitLeader;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes every commit service instance answer every request: reads ({@code GET}, {@code HEAD}) are
 * answered from this instance's views; a write reaching an instance that does not lead is forwarded
 * to the leader ({@link Leadership}) with the caller's token, body and idempotency key, and the
 * leader's answer passes back. A write forwarded once is never forwarded again (the leader it was
 * sent to lost the lead meanwhile): 503 {@code not_leader}, as when no instance leads yet; clients
 * retry.
 */
final class LeaderForwarding implements AutoCloseable {
  /** Marks a forwarded request, naming the instance that forwarded it. */
  static final String FORWARDED_BY = "Tusk-Forwarded-By";

  private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD);

  private final Vertx vertx;
  private final Leadership leadership;
  private final Path caFile;
  private final Map<String, ServiceProxy> proxies = new ConcurrentHashMap<>();

  /**
   * @param caFile extra CA certificates (PEM) trusted when the leader is https, or null
   */
  LeaderForwarding(Vertx vertx, Leadership leadership, Path caFile) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.leadership = Objects.requireNonNull(leadership, "leadership");
    this.caFile = caFile;
  }

  /** Forwards writes to the leader ahead of every route of {@code router} installed after it. */
  void install(Router router) {
    router.route().handler(this::handle);
  }

  private void handle(RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    if (READS.contains(method) || leadership.leading()) {
      ctx.next();
      return;
    }
    String forwarder = ctx.request().getHeader(FORWARDED_BY);
    if (forwarder != null) {
      ctx.fail(
          CommitSealer.notLeader(
              "forwarded by instance "
                  + forwarder
                  + " to instance "
                  + leadership.instance()
                  + ", which does not lead (any more)"));
      return;
    }
    Optional<CommitLeader> leader =
        leadership.leader().filter(l -> !l.getInstance().equals(leadership.instance()));
    if (leader.isEmpty()) {
      ctx.fail(CommitSealer.notLeader("no commit service instance leads yet"));
      return;
    }
    proxyOf(leader.get().getUrl())
        .forward(
            ctx,
            method,
            ctx.request().path(),
            Map.of(),
            null,
            Map.of(FORWARDED_BY, leadership.instance()));
  }

  private ServiceProxy proxyOf(String url) {
    return proxies.computeIfAbsent(
        url, u -> new ServiceProxy(vertx, "leading commit service", URI.create(u), caFile));
  }

  /** {@code GET /leader}: this instance, whether it leads, and the leader it knows of. */
  JsonObject status() {
    JsonObject status =
        new JsonObject()
            .put("instance", leadership.instance())
            .put("url", leadership.url())
            .put("leading", leadership.leading());
    leadership
        .leader()
        .ifPresent(
            l ->
                status.put(
                    "leader",
                    new JsonObject()
                        .put("instance", l.getInstance())
                        .put("url", l.getUrl())
                        .put("since", l.getSince())));
    return status;
  }

  @Override
  public void close() {
    proxies.values().forEach(ServiceProxy::close);
  }
}
