package io.tusk.lineage;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.ServiceProxy;
import io.tusk.common.security.Need;
import io.tusk.common.security.Resource;
import io.tusk.common.security.SecuredRouter;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * The commit-service routes the console needs, forwarded with the caller's token so the page talks
 * to one origin: a commit's rejected rows, the diff between two commits, a member as of a commit
 * and one member's diff, and restarting a job's failed datums. Only this allow-list is forwarded.
 * Each route declares here the same need as on the commit service (which checks the token again),
 * so the access matrix covers it on both. Without {@code TUSK_COMMIT_URL} the routes answer 503
 * {@code not_configured}.
 */
final class ForwardedRoutes {
  private static final Resource.Kind REPO = Resource.Kind.REPO;

  private final ServiceProxy commitService;

  private ForwardedRoutes(ServiceProxy commitService) {
    this.commitService = commitService;
  }

  /**
   * Declares the forwarded routes on {@code routes}.
   *
   * @param commitService the commit service, or null when not configured
   * @param jobWriter the need of a job's restart: writer on the job's pipeline
   */
  static void mount(SecuredRouter routes, ServiceProxy commitService, Need jobWriter) {
    ForwardedRoutes forwarded = new ForwardedRoutes(commitService);
    Need repoReader = Need.reader(REPO, "repo");
    Need repoContent = Need.content(REPO, "repo");
    forwarded.declare(
        routes,
        HttpMethod.GET,
        "/repos/:repo/rejected",
        repoReader.withContentWhen(ctx -> "true".equals(ctx.queryParams().get("content"))));
    forwarded.declare(routes, HttpMethod.GET, "/repos/:repo/members/:member", repoContent);
    forwarded.declare(routes, HttpMethod.GET, "/repos/:repo/diff", repoReader);
    forwarded.declare(routes, HttpMethod.GET, "/repos/:repo/diff/:member", repoContent);
    forwarded.declare(routes, HttpMethod.POST, "/jobs/:id/restart", jobWriter);
  }

  /** Declares {@code method template}, forwarded to the same path on the commit service. */
  private void declare(SecuredRouter routes, HttpMethod method, String template, Need need) {
    routes.route(method, template, need, ctx -> forward(ctx, method, path(ctx, template)));
  }

  /** The request's path by {@code template}, each path parameter percent-encoded again. */
  static String path(RoutingContext ctx, String template) {
    StringBuilder path = new StringBuilder();
    for (String segment : template.substring(1).split("/")) {
      path.append('/')
          .append(
              segment.startsWith(":")
                  ? ServiceProxy.segment(ctx.pathParam(segment.substring(1)))
                  : segment);
    }
    return path.toString();
  }

  private void forward(RoutingContext ctx, HttpMethod method, String path) {
    if (commitService == null) {
      throw new ApiException(
          503,
          "not_configured",
          "this lineage service does not know the commit service: set TUSK_COMMIT_URL");
    }
    commitService.forward(ctx, method, path, Map.of(), null);
  }
}
