package io.tusk.partition;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.ServiceProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Where the member partitions' stores live, so every partition-service instance answers every
 * member query: a member partition belongs to the instance whose Kafka Streams task holds it (the
 * active host of the member stores' partition, as the group assigned it); each instance advertises
 * its HTTP API as its {@code application.server}. A query of one member goes to the owner of its
 * partition with the caller's token (the owner checks it again); a diff asks every owner for its
 * partitions' part ({@code ?partitions=}) and merges them. A request forwarded once is never
 * forwarded again: while the partitions move (a rebalance), it is answered 503 and retried.
 */
final class QueryRouting implements AutoCloseable {
  /** Marks a forwarded request, naming the instance that forwarded it. */
  static final String FORWARDED_BY = "Tusk-Forwarded-By";

  /** The query parameter asking one instance for its part of a diff: partition numbers. */
  static final String PARTITIONS = "partitions";

  private static final long TIMEOUT_MS = 30_000;

  /** Which instance holds a member partition. */
  interface Owners {
    /**
     * The instance holding member partition {@code partition}: empty when it is this one.
     *
     * @throws ApiException 503 while no instance holds it (starting, rebalancing)
     */
    Optional<HostInfo> ownerOf(int partition);
  }

  private final Vertx vertx;
  private final Owners owners;
  private final HostInfo self;
  private final String scheme;
  private final String instance;
  private final Path caFile;
  private final WebClient client;
  private final Map<HostInfo, ServiceProxy> proxies = new ConcurrentHashMap<>();

  /**
   * @param owners which instance holds each member partition (see {@link #ofStreams})
   * @param self this instance's {@code application.server}
   * @param scheme http or https, as every instance serves
   * @param caFile extra CA certificates (PEM) trusted over https, or null
   */
  QueryRouting(
      Vertx vertx, Owners owners, HostInfo self, String scheme, String instance, Path caFile) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.owners = Objects.requireNonNull(owners, "owners");
    this.self = Objects.requireNonNull(self, "self");
    this.scheme = Objects.requireNonNull(scheme, "scheme");
    this.instance = Objects.requireNonNull(instance, "instance");
    this.caFile = caFile;
    WebClientOptions options = new WebClientOptions().setUserAgentEnabled(false);
    if (caFile != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(caFile.toString()));
    }
    this.client = WebClient.create(vertx, options);
  }

  /**
   * The owners as Kafka Streams assigned the member stores' partitions: the active host of each.
   *
   * @param streams the running application (null before it starts: every query is then 503)
   * @param self this instance's {@code application.server}
   */
  static Owners ofStreams(Supplier<KafkaStreams> streams, HostInfo self) {
    return partition -> {
      KafkaStreams running = streams.get();
      if (running == null) {
        throw ApiException.unavailable("the member stores are starting");
      }
      KeyQueryMetadata metadata =
          running.queryMetadataForKey(
              PartitionStores.MEMBER_VERSIONS,
              partition,
              (topic, key, value, partitions) -> Optional.of(Set.of(key)));
      if (metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata)) {
        throw ApiException.unavailable(
            "member partition " + partition + " is not assigned to any instance yet");
      }
      HostInfo owner = metadata.activeHost();
      return owner.equals(self) ? Optional.empty() : Optional.of(owner);
    };
  }

  /** {@link Owners#ownerOf}. */
  Optional<HostInfo> ownerOf(int partition) {
    return owners.ownerOf(partition);
  }

  /** The owners of {@code partitions}, this instance under {@link #self}. */
  Map<HostInfo, Set<Integer>> owners(Set<Integer> partitions) {
    return partitions.stream()
        .collect(
            Collectors.groupingBy(
                p -> ownerOf(p).orElse(self), Collectors.toCollection(java.util.TreeSet::new)));
  }

  /** This instance's {@code application.server}. */
  HostInfo self() {
    return self;
  }

  /** True when another instance forwarded the request here. */
  static boolean forwarded(RoutingContext ctx) {
    return ctx.request().getHeader(FORWARDED_BY) != null;
  }

  /** 503: the instance a request was forwarded to does not hold the partition (any more). */
  ApiException notHeldHere(int partition, RoutingContext ctx) {
    return ApiException.unavailable(
        "member partition "
            + partition
            + " moved while instance "
            + ctx.request().getHeader(FORWARDED_BY)
            + " forwarded the query to "
            + instance
            + "; retry");
  }

  /** Answers {@code ctx} with {@code owner}'s answer to the same request. */
  void forward(RoutingContext ctx, HostInfo owner) {
    proxies
        .computeIfAbsent(
            owner,
            host ->
                new ServiceProxy(
                    vertx,
                    "partition service instance " + host.host() + ":" + host.port(),
                    urlOf(host),
                    caFile))
        .forward(
            ctx,
            HttpMethod.GET,
            ctx.request().path(),
            Map.of(),
            null,
            Map.of(FORWARDED_BY, instance));
  }

  /**
   * {@code owner}'s part of the diff {@code ctx} asks for: the same request, over {@code
   * partitions} only.
   */
  Future<JsonObject> diffPart(RoutingContext ctx, HostInfo owner, Set<Integer> partitions) {
    var request =
        client
            .requestAbs(HttpMethod.GET, urlOf(owner) + ctx.request().path())
            .timeout(TIMEOUT_MS)
            .putHeader(FORWARDED_BY, instance);
    ctx.queryParams().forEach(request::addQueryParam);
    request.setQueryParam(
        PARTITIONS, partitions.stream().map(String::valueOf).collect(Collectors.joining(",")));
    String authorization = ctx.request().getHeader("Authorization");
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    return request
        .send()
        .recover(
            failure ->
                Future.failedFuture(
                    new ApiException(
                        502,
                        "bad_gateway",
                        "partition service instance "
                            + owner.host()
                            + ":"
                            + owner.port()
                            + " is unreachable: "
                            + failure.getMessage())))
        .compose(
            answer -> {
              if (answer.statusCode() == 200) {
                return Future.succeededFuture(answer.bodyAsJsonObject());
              }
              JsonObject error = answer.bodyAsJsonObject();
              return Future.failedFuture(
                  new ApiException(
                      answer.statusCode(),
                      error == null ? "unavailable" : error.getString("error", "unavailable"),
                      error == null
                          ? "partition service instance answered " + answer.statusCode()
                          : error.getString("message", "")));
            });
  }

  private URI urlOf(HostInfo host) {
    return URI.create(scheme + "://" + host.host() + ":" + host.port());
  }

  @Override
  public void close() {
    proxies.values().forEach(ServiceProxy::close);
    client.close();
  }
}
