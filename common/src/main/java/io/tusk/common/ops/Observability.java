package io.tusk.common.ops;

import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tusk.common.http.HttpServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health and Prometheus metrics of one service: JVM metrics, the metrics of its Kafka clients and
 * Kafka Streams instances (consumer lag among them: {@code
 * kafka_consumer_fetch_manager_records_lag_max}), and whatever the service records itself. Mounts
 * {@code GET /health} and {@code GET /metrics} on a router.
 */
public final class Observability implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Observability.class);

  private static final long LOOP_PROBE_MILLIS = 10;

  private final String service;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, BooleanSupplier> checks = new ConcurrentHashMap<>();
  private final Map<String, java.util.function.Supplier<String>> states = new ConcurrentHashMap<>();
  private final List<AutoCloseable> binders = new ArrayList<>();

  public Observability(String service) {
    this.service = Objects.requireNonNull(service, "service");
    registry.config().commonTags("service", service);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    binders.add(gc);
  }

  /** The registry to record service metrics in. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Adds a named check; {@code /health} answers 503 while any check is false. */
  public void addHealthCheck(String name, BooleanSupplier healthy) {
    checks.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(healthy, "healthy"));
  }

  /** Exposes a consumer's metrics (fetch rate, records lag). */
  public synchronized void bind(Consumer<?, ?> consumer, String clientName) {
    KafkaClientMetrics metrics =
        new KafkaClientMetrics(consumer, List.of(Tag.of("client", clientName)));
    metrics.bindTo(registry);
    binders.add(metrics);
  }

  /** Exposes a producer's metrics. */
  public synchronized void bind(Producer<?, ?> producer, String clientName) {
    KafkaClientMetrics metrics =
        new KafkaClientMetrics(producer, List.of(Tag.of("client", clientName)));
    metrics.bindTo(registry);
    binders.add(metrics);
  }

  /** Exposes a Kafka Streams instance's metrics and adds a health check on its state. */
  public synchronized void bind(KafkaStreams streams, String name) {
    KafkaStreamsMetrics metrics =
        new KafkaStreamsMetrics(streams, List.of(Tag.of("streams", name)));
    metrics.bindTo(registry);
    binders.add(metrics);
    states.put(name, () -> streams.state().name());
    addHealthCheck(
        name,
        () -> {
          KafkaStreams.State state = streams.state();
          return state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
        });
  }

  /** Mounts {@code GET /health} and {@code GET /metrics} on {@code router}. */
  public void mount(Router router) {
    router.get("/health").handler(this::handleHealth);
    router.get("/metrics").handler(this::handleMetrics);
  }

  /**
   * Serves only the health and metrics endpoints on {@code host:port}; for services without an API
   * of their own.
   */
  public Future<HttpServer> serve(Vertx vertx, String host, int port) {
    Router router = Router.router(vertx);
    mount(router);
    return vertx.createHttpServer(HttpServers.options()).requestHandler(router).listen(port, host);
  }

  /**
   * Records in {@code tusk_event_loop_delay_seconds} how late a timer due every {@value
   * #LOOP_PROBE_MILLIS} ms runs on the event loop of the calling thread's Vert.x context (a service
   * calls it from the thread that started its HTTP server, so it is that server's loop): while the
   * loop or the whole JVM is stopped (a collector pause, a blocking handler, the thread not
   * scheduled), no request is read, and the delay says for how long.
   *
   * @return stops the probe
   */
  public AutoCloseable watchEventLoop(Vertx vertx) {
    Timer delays =
        Timer.builder("tusk.event.loop.delay")
            .description(
                "How late a timer due every 10 ms ran on the HTTP server's event loop: time in"
                    + " which it could not serve requests")
            .publishPercentileHistogram()
            .serviceLevelObjectives(Duration.ofMillis(LOOP_PROBE_MILLIS))
            .register(registry);
    long period = TimeUnit.MILLISECONDS.toNanos(LOOP_PROBE_MILLIS);
    long[] due = {System.nanoTime() + period};
    AtomicLong timer = new AtomicLong(-1);
    // Set on the context, so the timer runs on its event loop.
    vertx
        .getOrCreateContext()
        .runOnContext(
            started ->
                timer.set(
                    vertx.setPeriodic(
                        LOOP_PROBE_MILLIS,
                        id -> {
                          long now = System.nanoTime();
                          delays.record(Math.max(0, now - due[0]), TimeUnit.NANOSECONDS);
                          due[0] = now + period;
                        })));
    return () -> vertx.cancelTimer(timer.get());
  }

  /** True if every health check passes. */
  public boolean isHealthy() {
    return checks.values().stream().allMatch(BooleanSupplier::getAsBoolean);
  }

  /** Answers {@code GET /health}: 200 {@code {"status":"UP",...}} or 503 while a check fails. */
  public void handleHealth(RoutingContext ctx) {
    JsonObject details = new JsonObject();
    boolean up = true;
    for (var check : new java.util.TreeMap<>(checks).entrySet()) {
      boolean ok = check.getValue().getAsBoolean();
      up &= ok;
      details.put(check.getKey(), ok ? "UP" : "DOWN");
    }
    JsonObject body =
        new JsonObject()
            .put("status", up ? "UP" : "DOWN")
            .put("service", service)
            .put("checks", details);
    ctx.response()
        .setStatusCode(up ? 200 : 503)
        .putHeader("Content-Type", "application/json")
        .end(body.encode());
  }

  /**
   * Answers {@code GET /metrics} in the Prometheus text format. The scrape is written on a worker
   * thread: with Kafka Streams' metrics and the request histograms it takes the event loop 100 ms
   * and more, and on the loop every request of the service would wait for it.
   */
  public void handleMetrics(RoutingContext ctx) {
    ctx.vertx()
        .executeBlocking(registry::scrape, false)
        .onSuccess(
            body ->
                ctx.response()
                    .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(body))
        .onFailure(ctx::fail);
  }

  @Override
  public synchronized void close() {
    for (AutoCloseable binder : binders) {
      try {
        binder.close();
      } catch (Exception e) {
        log.warn("Closing a metrics binder of {} failed", service, e);
      }
    }
    binders.clear();
    registry.close();
  }
}
