package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.cli.CliRun;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tusk auth ...} and {@code tusk audit} run in-process as a user runs them, against the
 * local stack's services: the local admin's token file (owner-only), whoami, a grant that lets a
 * second user read a repo and a revocation that stops it, the bindings listed, a refused request
 * saying where the CLI looks for a token, and the audit trail showing the grant and the refusal.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class AuthCommandIT {
  private static final Duration PROPAGATION = Duration.ofSeconds(30);

  /** What one run of the CLI printed (System.out: the commands print there). */
  private String commitUrl;

  private String lineageUrl;

  @Test
  void shouldGrantListRevokeAndAuditWhenRunThroughTheCli(LocalStack stack) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "it-auth-" + suffix;
    String bob = "bob-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "auth-it-");
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1)) {
      commitUrl = services.commitUrl();
      lineageUrl = services.lineageUrl();
      String since = Instant.now().minusSeconds(1).toString();
      String admin = services.auth().adminToken();
      String bobs = services.auth().token(bob, Duration.ofHours(1));

      // Given the local admin's token in <home>/token, readable by its owner only
      Path tokenFile = home.resolve("token");
      assertThat(Files.readString(tokenFile).strip()).isEqualTo(admin);
      assertThat(Files.getPosixFilePermissions(tokenFile))
          .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
      assertThat(Files.getPosixFilePermissions(home.resolve("auth/private-key.pem")))
          .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
      // And a repo the admin created
      services.client().createRepo(SyntheticTable.repoSpec(repo, 1));

      // When whoami is asked with the admin's token / Then it names the admin
      CliRun whoami = tusk(admin, "auth", "whoami");
      assertThat(whoami.code()).as(whoami.err()).isZero();
      assertThat(whoami.out()).contains("tusk-admin (admin)");

      // When bob lists repos, then reads the repo / Then he sees none and is refused
      CliRun bobsList = tusk(bobs, "repo", "list");
      assertThat(bobsList.code()).as(bobsList.err()).isZero();
      assertThat(bobsList.out()).doesNotContain(repo);
      CliRun refused = tusk(bobs, "repo", "inspect", repo);
      assertThat(refused.code()).isNotZero();
      assertThat(refused.err())
          .contains("403")
          .contains("needs role 'reader' on repo '" + repo + "'");

      // When the admin grants bob reader / Then it is listed and bob reads the repo
      CliRun grant = tusk(admin, "auth", "grant", "repo:" + repo, "reader", bob);
      assertThat(grant.code()).as(grant.err()).isZero();
      assertThat(grant.out()).contains("granted reader on repo:" + repo + " to " + bob);
      CliRun list = tusk(admin, "auth", "list", "repo:" + repo);
      assertThat(list.out()).containsPattern("repo:" + repo + "\\s+reader\\s+" + bob);
      assertThat(list.out()).containsPattern("repo:" + repo + "\\s+owner\\s+tusk-admin");
      CliRun bobsRepo = tusk(bobs, "repo", "inspect", repo);
      assertThat(bobsRepo.code()).as(bobsRepo.err()).isZero();
      // and the lineage service knows within seconds too
      Await.until(
          "bob's grant on the lineage service",
          PROPAGATION,
          () -> tusk(bobs, "repo", "list").out(),
          out -> out.contains(repo));

      // When it is revoked / Then bob is refused again
      assertThat(tusk(admin, "auth", "revoke", "repo:" + repo, "reader", bob).code()).isZero();
      assertThat(tusk(bobs, "repo", "inspect", repo).code()).isNotZero();

      // When no token at all is given / Then the error says where the CLI looks for one
      CliRun anonymous = tusk("", "repo", "list");
      assertThat(anonymous.code()).isNotZero();
      assertThat(anonymous.err()).contains("401").contains(".tusk/token");

      // When the admin reads the audit trail / Then the grant, the revocation and bob's refusals
      CliRun audit =
          Await.until(
              "the audit trail",
              PROPAGATION,
              () -> tusk(admin, "audit", "--since", since, "--limit", "1000"),
              r -> r.out().contains("DELETE /auth/bindings/:resource/:role/:subject"));
      assertThat(audit.out())
          .contains("PUT /auth/bindings/:resource/:role/:subject")
          .containsPattern(bob + "\\s+denied\\s+403\\s+GET /repos/:repo")
          .contains("POST /repos");
      CliRun notAdmin = tusk(bobs, "audit");
      assertThat(notAdmin.code()).isNotZero();
      assertThat(notAdmin.err()).contains("role 'admin' on the cluster");
    }
  }

  /** Runs the CLI in-process with {@code token} (empty: none given). */
  private CliRun tusk(String token, String... args) {
    return CliRun.tusk(commitUrl, lineageUrl, token, args);
  }
}
