package io.tusk.common.security;

import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a route requires of its caller, declared with the route ({@link SecuredRouter}): nothing
 * ({@link #open}), a valid token ({@link #authenticated}), or a role on the resource the request is
 * about, with the {@link Role#CONTENT} right too when it reads row content. The resource comes from
 * a path or query parameter, or from a {@link Resolver} when the path names something else (a job:
 * its pipeline; a commit: its repo).
 *
 * <p>A need can be combined with another ({@link #and}): an update of a pipeline needs owner on the
 * pipeline and reader on its new input.
 */
public final class Need {
  /** A path ({@code :name}) or query ({@code ?name}) parameter in a target. */
  private static final Pattern PARAM = Pattern.compile("([:?])([A-Za-z]+)");

  /** Finds the resource a request is about; empty when there is none (unknown ID, no parameter). */
  @FunctionalInterface
  public interface Resolver {
    Future<Optional<Resource>> resolve(RoutingContext ctx);
  }

  /** The kinds of requirement. */
  public enum Kind {
    OPEN,
    AUTHENTICATED,
    ROLE
  }

  private final Kind kind;
  private final Role role;
  private final boolean content;
  private final Predicate<RoutingContext> contentWhen;
  private final Resolver resolver;
  private final String target;
  private final boolean optional;
  private final Need also;

  private Need(
      Kind kind,
      Role role,
      boolean content,
      Predicate<RoutingContext> contentWhen,
      Resolver resolver,
      String target,
      boolean optional,
      Need also) {
    this.kind = kind;
    this.role = role;
    this.content = content;
    this.contentWhen = contentWhen;
    this.resolver = resolver;
    this.target = target;
    this.optional = optional;
    this.also = also;
  }

  /** No token needed: {@code /health}, the web page's files. */
  public static Need open() {
    return new Need(Kind.OPEN, null, false, null, null, null, false, null);
  }

  /**
   * Any valid token: lists that show each caller only what it may read, creating a repo (the
   * creator becomes its owner), who-am-I.
   */
  public static Need authenticated() {
    return new Need(Kind.AUTHENTICATED, null, false, null, null, null, false, null);
  }

  /** {@code role} on the resource of kind {@code kind} named by path parameter {@code param}. */
  public static Need role(Role role, Resource.Kind kind, String param) {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(param, "param");
    Resolver resolver =
        ctx -> Future.succeededFuture(Optional.of(new Resource(kind, ctx.pathParam(param))));
    return resolved(
        role, kind.name().toLowerCase(java.util.Locale.ROOT) + " ':" + param + "'", resolver);
  }

  /** Reader on the resource named by path parameter {@code param}. */
  public static Need reader(Resource.Kind kind, String param) {
    return role(Role.READER, kind, param);
  }

  /** Writer on the resource named by path parameter {@code param}. */
  public static Need writer(Resource.Kind kind, String param) {
    return role(Role.WRITER, kind, param);
  }

  /** Owner on the resource named by path parameter {@code param}. */
  public static Need owner(Resource.Kind kind, String param) {
    return role(Role.OWNER, kind, param);
  }

  /** Reader and the content right on the resource named by path parameter {@code param}. */
  public static Need content(Resource.Kind kind, String param) {
    return reader(kind, param).withContent();
  }

  /** Admin: every right on everything. */
  public static Need admin() {
    return resolved(
        Role.ADMIN, "the cluster", ctx -> Future.succeededFuture(Optional.of(Resource.CLUSTER)));
  }

  /** Reader on the cluster (e.g. {@code /metrics} for a monitoring account). */
  public static Need clusterReader() {
    return resolved(
        Role.READER, "the cluster", ctx -> Future.succeededFuture(Optional.of(Resource.CLUSTER)));
  }

  /**
   * {@code role} on the resource {@code resolver} finds.
   *
   * @param target how a denial names what the caller asked about, with {@code :param} replaced by
   *     the path parameter ({@code ?param}: the query parameter), e.g. {@code "the pipeline of job
   *     :id"}; it must never name a member
   */
  public static Need resolved(Role role, String target, Resolver resolver) {
    return new Need(
        Kind.ROLE,
        Objects.requireNonNull(role, "role"),
        false,
        null,
        Objects.requireNonNull(resolver, "resolver"),
        Objects.requireNonNull(target, "target"),
        false,
        null);
  }

  /**
   * Reader on the resource of kind {@code kind} named by query parameter {@code param} when it is
   * given; without it any valid token (the handler then shows only what the caller may read).
   */
  public static Need readerIfGiven(Resource.Kind kind, String param) {
    Resolver resolver =
        ctx -> {
          String value = ctx.queryParams().get(param);
          return Future.succeededFuture(
              value == null || value.isEmpty()
                  ? Optional.empty()
                  : Optional.of(new Resource(kind, value)));
        };
    Need need =
        resolved(
            Role.READER,
            kind.name().toLowerCase(java.util.Locale.ROOT) + " '?" + param + "'",
            resolver);
    return new Need(need.kind, need.role, false, null, need.resolver, need.target, true, need.also);
  }

  /** The same need, also requiring the content right. */
  public Need withContent() {
    return new Need(kind, role, true, contentWhen, resolver, target, optional, also);
  }

  /** The same need, also requiring the content right when {@code when} holds for the request. */
  public Need withContentWhen(Predicate<RoutingContext> when) {
    return new Need(kind, role, content, when, resolver, target, optional, also);
  }

  /** This need and then {@code other}. */
  public Need and(Need other) {
    Objects.requireNonNull(other, "other");
    return new Need(
        kind,
        role,
        content,
        contentWhen,
        resolver,
        target,
        optional,
        also == null ? other : also.and(other));
  }

  public Kind kind() {
    return kind;
  }

  /** The role needed; null unless {@link Kind#ROLE}. */
  public Role role() {
    return role;
  }

  /** The need checked after this one, or null. */
  public Need also() {
    return also;
  }

  /** True when the request needs the content right too. */
  public boolean needsContent(RoutingContext ctx) {
    return content || (contentWhen != null && contentWhen.test(ctx));
  }

  /** True when every request needs the content right (not only some, as with ?content=true). */
  public boolean alwaysNeedsContent() {
    return content;
  }

  /** True when it may need the content right (always or for some requests). */
  public boolean mayNeedContent() {
    return content || contentWhen != null || (also != null && also.mayNeedContent());
  }

  /** True when a request without the resource needs only a valid token. */
  public boolean optional() {
    return optional;
  }

  /** The resource of a request. */
  public Future<Optional<Resource>> resolve(RoutingContext ctx) {
    return resolver.resolve(ctx);
  }

  /** What a denial names: the target with the request's path parameters filled in. */
  public String target(RoutingContext ctx) {
    Matcher matcher = PARAM.matcher(target);
    StringBuilder result = new StringBuilder();
    while (matcher.find()) {
      String name = matcher.group(2);
      String value =
          matcher.group(1).equals(":") ? ctx.pathParam(name) : ctx.queryParams().get(name);
      matcher.appendReplacement(result, Matcher.quoteReplacement(value == null ? "" : value));
    }
    matcher.appendTail(result);
    return result.toString();
  }

  /** For route tables and documentation, e.g. {@code writer on repo ':repo'}. */
  @Override
  public String toString() {
    String text =
        switch (kind) {
          case OPEN -> "none";
          case AUTHENTICATED -> "token";
          case ROLE ->
              role.label()
                  + (content ? "+content" : contentWhen != null ? "(+content)" : "")
                  + " on "
                  + target
                  + (optional ? " if given" : "");
        };
    return also == null ? text : text + ", " + also;
  }
}
