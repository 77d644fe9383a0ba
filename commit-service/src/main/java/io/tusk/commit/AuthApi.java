package io.tusk.commit;

import io.tusk.common.http.ApiException;
import io.tusk.common.json.AvroJson;
import io.tusk.common.security.Access;
import io.tusk.common.security.Need;
import io.tusk.common.security.Principal;
import io.tusk.common.security.Resource;
import io.tusk.common.security.Role;
import io.tusk.common.security.RoleBindings;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.schemas.AuditEvent;
import io.tusk.schemas.RoleBinding;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who may do what, over HTTP: {@code GET /auth/whoami}, the role bindings ({@code GET
 * /auth/bindings} for admins, {@code GET /auth/bindings/{resource}} and {@code PUT|DELETE
 * /auth/bindings/{resource}/{role}/{subject}} for the resource's owners and admins), and the audit
 * trail ({@code GET /audit?since=&limit=}, admins only). Also grants a creator ownership of what it
 * created.
 */
final class AuthApi {
  /** Longest subject accepted in a binding. */
  static final int MAX_SUBJECT_LENGTH = 256;

  /** Events of {@code GET /audit} when no limit is given. */
  private static final int DEFAULT_AUDIT_LIMIT = 100;

  /** How far back {@code GET /audit} looks without {@code since}. */
  private static final Duration DEFAULT_AUDIT_WINDOW = Duration.ofHours(24);

  private static final Set<Role> CLUSTER_ROLES = Set.of(Role.READER, Role.ADMIN);

  private final Security security;
  private final AuditLog audit;

  AuthApi(Security security, AuditLog audit) {
    this.security = security;
    this.audit = audit;
  }

  /** Declares the routes on {@code routes}. */
  void mount(SecuredRouter routes) {
    Need ownerOfResource =
        Need.resolved(Role.OWNER, "resource ':resource'", AuthApi::resourceParam);
    routes
        .get("/auth/whoami", Need.authenticated(), this::handleWhoami)
        .get("/auth/bindings", Need.admin(), this::handleAllBindings)
        .get("/auth/bindings/:resource", ownerOfResource, this::handleBindings)
        .put("/auth/bindings/:resource/:role/:subject", ownerOfResource, this::handleGrant)
        .delete("/auth/bindings/:resource/:role/:subject", ownerOfResource, this::handleRevoke)
        .get("/audit", Need.admin(), this::handleAudit);
  }

  /**
   * Makes {@code principal} owner of what it just created (and gives it the content right when
   * {@code withContent}); blocks, so call it on a worker thread. Nothing is written when
   * authentication is off.
   */
  void grantCreator(Principal principal, Resource created, boolean withContent) {
    if (!security.config().enabled()) {
      return;
    }
    RoleBindings bindings = security.bindings();
    bindings.grant(created, Role.OWNER, principal.subject(), "tusk");
    if (withContent) {
      bindings.grant(created, Role.CONTENT, principal.subject(), "tusk");
    }
  }

  /** Revokes every binding on a deleted resource, so a new one of the same name starts clean. */
  void revokeAll(Resource deleted) {
    for (RoleBinding binding : security.bindings().on(deleted)) {
      security.bindings().revoke(deleted, Role.parse(binding.getRole()), binding.getSubject());
    }
  }

  private void handleWhoami(RoutingContext ctx) {
    Principal principal = SecuredRouter.principal(ctx);
    Access access = security.access();
    ctx.json(
        new JsonObject()
            .put("subject", principal.subject())
            .put("admin", access.isAdmin(principal))
            .put("authentication", security.config().enabled())
            .put("bindings", bindingsJson(security.bindings().of(principal.subject()))));
  }

  private void handleAllBindings(RoutingContext ctx) {
    ctx.json(new JsonObject().put("bindings", bindingsJson(security.bindings().all())));
  }

  private void handleBindings(RoutingContext ctx) {
    Resource resource = Resource.parse(ctx.pathParam("resource"));
    ctx.json(
        new JsonObject()
            .put("resource", resource.toString())
            .put("bindings", bindingsJson(security.bindings().on(resource))));
  }

  private void handleGrant(RoutingContext ctx) {
    Binding binding = binding(ctx);
    String grantedBy = SecuredRouter.principal(ctx).subject();
    ctx.vertx()
        .executeBlocking(
            () ->
                security
                    .bindings()
                    .grant(binding.resource(), binding.role(), binding.subject(), grantedBy),
            false)
        .onSuccess(granted -> ctx.json(AvroJson.toJson(granted)))
        .onFailure(ctx::fail);
  }

  private void handleRevoke(RoutingContext ctx) {
    Binding binding = binding(ctx);
    ctx.vertx()
        .executeBlocking(
            () -> security.bindings().revoke(binding.resource(), binding.role(), binding.subject()),
            false)
        .onSuccess(held -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  private void handleAudit(RoutingContext ctx) {
    long since = since(ctx.queryParams().get("since"));
    int limit = Requests.limit(ctx.queryParams().get("limit"), DEFAULT_AUDIT_LIMIT);
    ctx.vertx()
        .executeBlocking(() -> audit.read(since, limit), false)
        .onSuccess(
            page -> {
              List<AuditEvent> events = page.events();
              JsonArray items = new JsonArray();
              events.forEach(e -> items.add(eventJson(e)));
              String next =
                  page.more() && !events.isEmpty()
                      ? Instant.ofEpochMilli(events.get(events.size() - 1).getTime() + 1).toString()
                      : null;
              ctx.json(new JsonObject().put("events", items).put("next", next));
            })
        .onFailure(ctx::fail);
  }

  /** A binding named by the path: a known role that can be held on that kind of resource. */
  private static Binding binding(RoutingContext ctx) {
    Resource resource = Resource.parse(ctx.pathParam("resource"));
    Role role;
    try {
      role = Role.parse(ctx.pathParam("role"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("path parameter 'role': " + e.getMessage());
    }
    boolean cluster = resource.kind() == Resource.Kind.CLUSTER;
    if (cluster ? !CLUSTER_ROLES.contains(role) : role == Role.ADMIN) {
      throw ApiException.badRequest(
          cluster
              ? "the cluster holds the roles reader and admin only"
              : "admin is held on the cluster only (resource cluster)");
    }
    String subject = ctx.pathParam("subject");
    if (subject == null
        || subject.isBlank()
        || subject.length() > MAX_SUBJECT_LENGTH
        || subject.chars().anyMatch(Character::isISOControl)) {
      throw ApiException.badRequest(
          "path parameter 'subject' must be 1 to "
              + MAX_SUBJECT_LENGTH
              + " characters without control characters");
    }
    return new Binding(resource, role, subject);
  }

  private record Binding(Resource resource, Role role, String subject) {}

  /** The resource of a bindings path: 400 when it does not parse. */
  private static Future<Optional<Resource>> resourceParam(RoutingContext ctx) {
    try {
      return Future.succeededFuture(Optional.of(Resource.parse(ctx.pathParam("resource"))));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(
          ApiException.badRequest("path parameter 'resource': " + e.getMessage()));
    }
  }

  private static long since(String value) {
    if (value == null || value.isEmpty()) {
      return System.currentTimeMillis() - DEFAULT_AUDIT_WINDOW.toMillis();
    }
    try {
      return Instant.parse(value).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest(
          "query parameter 'since' must be an ISO-8601 time such as 2026-12-04T09:00:00Z");
    }
  }

  private static JsonArray bindingsJson(List<RoleBinding> bindings) {
    JsonArray items = new JsonArray();
    bindings.forEach(b -> items.add(AvroJson.toJson(b)));
    return items;
  }

  private static JsonObject eventJson(AuditEvent event) {
    return AvroJson.toJson(event).put("time", Instant.ofEpochMilli(event.getTime()).toString());
  }
}
