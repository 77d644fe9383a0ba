package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.cli.StackRoutes.Fixture;
import io.tusk.cli.StackRoutes.Row;
import io.tusk.cli.local.LocalAuth;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.security.Need;
import io.tusk.common.security.Role;
import io.tusk.common.security.SecuredRouter;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.vertx.core.http.HttpMethod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The access matrix over every declared route of every service (commit, partition, lineage), on the
 * local stack with a real repo, pipeline, commit and job: without a token 401; with a token holding
 * the role just below the one needed (or everything but the content right) 403; with the role
 * needed, anything but 401 and 403 (the route's usual answer, a 4xx for a bad body included) and
 * never a 500. Each service's router is first checked to hold no route that was not declared with
 * its need, so a new endpoint cannot skip this matrix.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class AccessMatrixIT {
  private static final Duration PROPAGATION = Duration.ofSeconds(30);

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final Map<String, String> tokens = new HashMap<>();
  private LocalAuth auth;

  @Test
  void shouldAnswer401WithoutTokenAnd403WithoutTheRoleAndServeWithIt(LocalStack stack)
      throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    Path home = Files.createTempDirectory(Paths.get("target"), "matrix-it-");
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1)) {
      auth = services.auth();
      TuskClient admin = services.client();
      Fixture fixture = StackRoutes.fixture(stack, admin, "matrix", suffix);

      // Given every declared route of every service, none of their routers' routes undeclared
      List<Row> rows = new ArrayList<>(StackRoutes.declared(services));
      // Deletes last (one deletes the pipeline), the pipeline's delete the very last
      rows.sort(
          Comparator.comparing(
              (Row r) ->
                  r.route().method() == HttpMethod.DELETE
                      ? (r.route().path().equals("/pipelines/:pipeline") ? 2 : 1)
                      : 0));

      int checked = 0;
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        Need need = row.route().need();
        String path = StackRoutes.path(row.route().path(), fixture);
        String body = body(row.route(), fixture, admin);

        // When the route is called without a token / Then 401, unless it is open
        int anonymous = call(row, path, body, null).statusCode();
        if (need.kind() == Need.Kind.OPEN) {
          assertThat(anonymous).as("%s open", row).isNotIn(401, 403).isLessThan(500);
          continue;
        }
        assertThat(anonymous).as("%s without a token", row).isEqualTo(401);

        // When with a token lacking the role, and with one holding it (granted now)
        String lacking = "matrix-" + suffix + "-" + i + "-lacking";
        String holding = "matrix-" + suffix + "-" + i + "-holding";
        boolean hasRole = need.kind() == Need.Kind.ROLE || chainHasRole(need);
        if (hasRole) {
          grant(admin, lacking, below(need), fixture, false);
          grant(admin, holding, needed(need), fixture, needsContent(need));
        }
        HttpResponse<String> served =
            Await.until(
                row + " with the role",
                PROPAGATION,
                () -> call(row, path, body, holding),
                r -> r.statusCode() != 403);

        // Then the holder is served as the route serves (never 401/403, never 500) ...
        assertThat(served.statusCode())
            .as("%s with the role: %s", row, served.body())
            .isNotIn(401, 403)
            .isLessThan(500);
        // ... and, the grants being in order on one partition, the other is refused naming the role
        if (hasRole && !isOptional(need)) {
          HttpResponse<String> refused = call(row, path, body, lacking);
          assertThat(refused.statusCode())
              .as("%s lacking the role: %s", row, refused.body())
              .isEqualTo(403);
          assertThat(refused.body()).contains("\"forbidden\"").contains("needs role");
        }
        checked++;
      }
      assertThat(checked).isGreaterThan(40);
    }
  }

  /**
   * The body a mutation is sent with: the existing spec for creates (a 409 once allowed) and
   * updates (unchanged), an empty object elsewhere (the route's own 400, or a harmless change).
   */
  private static String body(SecuredRouter.Declared route, Fixture f, TuskClient admin) {
    if (route.method() == HttpMethod.GET || route.method() == HttpMethod.DELETE) {
      return null;
    }
    return switch (route.path()) {
      case "/repos" -> admin.commitGet("/repos/" + f.repo()).toString();
      case "/pipelines", "/pipelines/:pipeline" ->
          StackRoutes.pipelineSpec(f.pipeline(), f.repo()).toString();
      default -> "{}";
    };
  }

  private HttpResponse<String> call(Row row, String path, String body, String subject)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(row.base() + path)).timeout(Duration.ofSeconds(60));
    if (subject != null) {
      request.header("Authorization", "Bearer " + token(subject));
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    request.method(
        row.route().method().name(),
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A token of the local key set the services trust. */
  private String token(String subject) {
    return tokens.computeIfAbsent(subject, s -> auth.token(s, Duration.ofHours(1)));
  }

  private static boolean chainHasRole(Need need) {
    for (Need n = need; n != null; n = n.also()) {
      if (n.kind() == Need.Kind.ROLE) {
        return true;
      }
    }
    return false;
  }

  private static boolean isOptional(Need need) {
    return need.kind() == Need.Kind.ROLE && need.optional();
  }

  private static boolean needsContent(Need need) {
    for (Need n = need; n != null; n = n.also()) {
      if (n.alwaysNeedsContent()) {
        return true;
      }
    }
    return false;
  }

  /** The roles the need chain asks for. */
  private static List<Role> needed(Need need) {
    List<Role> roles = new ArrayList<>();
    for (Need n = need; n != null; n = n.also()) {
      if (n.kind() == Need.Kind.ROLE) {
        roles.add(n.role());
      }
    }
    return roles;
  }

  /**
   * Just short of the first role needed: the role below it (none below reader), owner for admin,
   * and for content routes owner without the content right.
   */
  private static List<Role> below(Need need) {
    Need first = need;
    while (first.kind() != Need.Kind.ROLE) {
      first = first.also();
    }
    if (first.alwaysNeedsContent()) {
      return List.of(Role.OWNER);
    }
    return switch (first.role()) {
      case ADMIN -> List.of(Role.OWNER);
      case OWNER -> List.of(Role.WRITER);
      case WRITER -> List.of(Role.READER);
      default -> List.of();
    };
  }

  /**
   * Grants {@code roles} (and content) to {@code subject} on the repo, the pipeline, the cluster.
   */
  private static void grant(
      TuskClient admin, String subject, List<Role> roles, Fixture f, boolean content) {
    for (Role role : roles) {
      if (role == Role.ADMIN) {
        admin.grant("cluster", "admin", subject);
        continue;
      }
      admin.grant("repo:" + f.repo(), role.label(), subject);
      admin.grant("pipeline:" + f.pipeline(), role.label(), subject);
      if (role == Role.READER) {
        admin.grant("cluster", "reader", subject);
      }
    }
    if (content) {
      admin.grant("repo:" + f.repo(), "content", subject);
      admin.grant("pipeline:" + f.pipeline(), "content", subject);
    }
  }
}
