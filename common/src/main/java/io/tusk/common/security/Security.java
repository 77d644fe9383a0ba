package io.tusk.common.security;

import io.micrometer.core.instrument.FunctionCounter;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.ops.Observability;
import io.tusk.common.topics.Topics;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one service needs to protect its routes ({@link SecuredRouter}): its {@link
 * AuthConfig}, the {@link TokenVerifier}, the role bindings and the {@link Access} rules over them,
 * and the {@link Audit} writer. Closed with the service.
 */
public final class Security implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Security.class);
  private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(60);

  private final String service;
  private final AuthConfig config;
  private final TokenVerifier verifier;
  private final RoleBindings bindings;
  private final Access access;
  private final Audit audit;

  private Security(
      String service,
      AuthConfig config,
      TokenVerifier verifier,
      RoleBindings bindings,
      Audit audit,
      Function<String, Optional<String>> sourcePipelineOf) {
    this.service = Objects.requireNonNull(service, "service");
    this.config = Objects.requireNonNull(config, "config");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.bindings = Objects.requireNonNull(bindings, "bindings");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.access = new Access(config, bindings, sourcePipelineOf);
  }

  /**
   * Reads the token keys, starts the role bindings view (writable for the commit service) and the
   * audit writer of {@code service}; returns once the view has caught up.
   *
   * @param sourcePipelineOf the pipeline a repo is derived from, from the service's repo view
   * @throws io.tusk.common.config.ConfigException when the keys cannot be read
   */
  public static Security start(
      String service,
      AuthConfig config,
      Vertx vertx,
      KafkaSettings kafka,
      Topics topics,
      Function<String, Optional<String>> sourcePipelineOf,
      boolean writableBindings) {
    TokenVerifier verifier = TokenVerifier.start(vertx, config);
    RoleBindings bindings = null;
    try {
      bindings = RoleBindings.start(kafka, topics.roleBindings, VIEW_TIMEOUT, writableBindings);
      Audit audit = Audit.toKafka(kafka, topics.audit, service);
      if (!config.enabled()) {
        log.warn(
            "{}: authentication is OFF ({}=true): every request is served as an admin. Never run"
                + " it like this with real data.",
            service,
            AuthConfig.DISABLED.name());
      }
      return new Security(service, config, verifier, bindings, audit, sourcePipelineOf);
    } catch (RuntimeException e) {
      verifier.close();
      if (bindings != null) {
        bindings.close();
      }
      throw e;
    }
  }

  /** Security from parts already made: for tests without a broker. */
  public static Security of(
      String service,
      AuthConfig config,
      TokenVerifier verifier,
      RoleBindings bindings,
      Audit audit,
      Function<String, Optional<String>> sourcePipelineOf) {
    return new Security(service, config, verifier, bindings, audit, sourcePipelineOf);
  }

  /** Adds the role bindings view's health check and the audit failures counter. */
  public void observe(Observability observability) {
    observability.addHealthCheck("role-bindings-view", bindings::isHealthy);
    FunctionCounter.builder("tusk.audit.failures", audit, Audit::failures)
        .description("Audit events that could not be written")
        .register(observability.registry());
  }

  public String service() {
    return service;
  }

  public AuthConfig config() {
    return config;
  }

  public TokenVerifier verifier() {
    return verifier;
  }

  public RoleBindings bindings() {
    return bindings;
  }

  public Access access() {
    return access;
  }

  public Audit audit() {
    return audit;
  }

  @Override
  public void close() {
    verifier.close();
    audit.close();
    bindings.close();
  }
}
