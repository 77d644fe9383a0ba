package io.tusk.lineage;

import io.tusk.common.config.Config;
import io.tusk.common.security.Audit;
import io.tusk.common.security.AuthConfig;
import io.tusk.common.security.RoleBindings;
import io.tusk.common.security.Security;
import io.tusk.common.security.TokenVerifier;
import io.tusk.schemas.AuditEvent;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientSession;
import java.util.List;
import java.util.Map;

/**
 * Authentication as the lineage service runs it, for tests without a broker: the test key set
 * ({@link TestAuth}, its admin configured), role bindings changed in memory, the audit trail into a
 * list; and clients that send a subject's token.
 */
final class TestSecurity {
  private TestSecurity() {}

  /** Security with authentication on, the given bindings and audit list. */
  static Security of(Vertx vertx, RoleBindings bindings, List<AuditEvent> audited) {
    AuthConfig config = AuthConfig.from(Config.load(TestAuth.shared().env(), AuthConfig.KEYS));
    return Security.of(
        "lineage-service",
        config,
        TokenVerifier.start(vertx, config),
        bindings,
        Audit.to(audited::add, "lineage-service"),
        repo -> java.util.Optional.empty());
  }

  /** A client sending {@code subject}'s token with every request. */
  static WebClient client(Vertx vertx, String subject) {
    return WebClientSession.create(WebClient.create(vertx))
        .addHeader("Authorization", TestAuth.shared().bearer(subject));
  }

  /** The environment keys of a lineage service with authentication on (the test key set). */
  static Map<String, String> env() {
    return TestAuth.shared().env();
  }
}
