package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.StackRoutes.Fixture;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tusk repo delete} on the real stack (issue 15): refused while a pipeline reads the repo,
 * naming it; forced, it deletes the repo, and a repo created again under the name holds only its
 * own rows, members, commits and rejects, and a job over it processes exactly its members.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class RepoDeleteIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  @Test
  void shouldRefuseWhileReadThenDeleteSoThatARepoCreatedAgainStartsClean(LocalStack stack)
      throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    Path home = Files.createTempDirectory(Paths.get("target"), "repo-delete-it-");
    try (TuskServices services =
        TuskServices.start(
            stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1)) {
      TuskClient admin = services.client();
      String token = services.auth().adminToken();
      // Given a repo with rows of M1 and M2, a pipeline over it, a commit and its finished job
      Fixture old = StackRoutes.fixture(stack, admin, "del", suffix);
      String repo = old.repo();

      // When it is deleted without --force / Then it is refused naming the pipeline
      CliRun refused = tusk(services, token, "repo", "delete", repo);
      assertThat(refused.code()).isNotZero();
      assertThat(refused.err()).contains(old.pipeline()).contains("--force");
      assertThat(admin.commitGet("/repos/" + repo).path("name").asText()).isEqualTo(repo);

      // When it is deleted with --force / Then it is gone, and its commit with it
      CliRun forced = tusk(services, token, "repo", "delete", repo, "--force");
      assertThat(forced.code()).as(forced.err()).isZero();
      assertThat(forced.out()).contains("deleted repo " + repo).contains(old.pipeline());
      assertThatThrownBy(() -> admin.commitGet("/repos/" + repo))
          .isInstanceOfSatisfying(
              TuskClient.ApiError.class, e -> assertThat(e.status()).isEqualTo(404));
      assertThatThrownBy(() -> admin.commitGet("/commits/" + old.commit()))
          .isInstanceOf(TuskClient.ApiError.class);

      // When a repo is created again under the name with rows of M3, M4, M5 and one bad line
      admin.createRepo(SyntheticTable.repoSpec(repo, 1));
      KafkaSettings settings =
          KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "del2-" + suffix);
      List<String> fresh = List.of("M3", "M4", "M5");
      try (RowLoader loader = new RowLoader(settings, repo)) {
        for (int i = 0; i < fresh.size(); i++) {
          String m = fresh.get(i);
          loader.send(
              SyntheticTable.TABLE,
              m,
              (10 + i) + "," + m + ",claim,20000" + i + ",2024-02-0" + (i + 1) + ",1.00");
        }
        loader.flush();
      }
      JsonNode commit = admin.commit(repo);
      String commitId = commit.path("id").asText();
      admin.awaitCommitComplete(repo, commitId, TIMEOUT);

      // Then its history has only the new commit, over only the new rows and members
      JsonNode commits = admin.commitGet("/repos/" + repo + "/commits");
      assertThat(commits).hasSize(1);
      assertThat(commits.get(0).path("id").asText()).isEqualTo(commitId);
      assertThat(commits.get(0).path("stats").path("rows").asLong()).isEqualTo(3);
      assertThat(commits.get(0).path("stats").path("members").asLong()).isEqualTo(3);
      assertThat(commits.get(0).path("stats").path("rejected").asLong()).isZero();
      assertThat(commits.get(0).path("parent").isNull()).isTrue();
      CliRun log = tusk(services, token, "log", repo);
      assertThat(log.code()).as(log.err()).isZero();
      assertThat(log.out())
          .contains(commitId.substring(0, 12))
          .doesNotContain(old.commit().substring(0, 12));
      // And the old members are absent, the new ones present
      for (String gone : List.of("M1", "M2")) {
        assertThatThrownBy(() -> admin.commitGet("/repos/" + repo + "/members/" + gone))
            .as(gone)
            .isInstanceOfSatisfying(
                TuskClient.ApiError.class, e -> assertThat(e.status()).isEqualTo(404));
      }
      for (String m : fresh) {
        assertThat(admin.commitGet("/repos/" + repo + "/members/" + m).toString()).contains(m);
      }
      // And the job of the pipeline that kept reading the name processes exactly the new members
      JsonNode jobRef = commit.path("jobs").get(0);
      assertThat(jobRef.path("pipeline").asText()).isEqualTo(old.pipeline());
      JsonNode job = admin.awaitJobEnd(jobRef.path("jobId").asText(), TIMEOUT);
      assertThat(job.path("state").asText()).isEqualTo("SUCCESS");
      assertThat(job.path("total").asLong()).isEqualTo(3);
      assertThat(job.path("processed").asLong()).isEqualTo(3);
      // And the lineage service lists only the new repo's commits
      JsonNode indexed =
          TuskClient.await(
              () -> admin.lineageGet("/repos/" + repo + "/commits"),
              c -> commitIds(c).contains(commitId),
              TIMEOUT,
              "commit " + commitId + " in the lineage service");
      assertThat(commitIds(indexed)).containsExactly(commitId);
      // And the old M2 output, from the deleted repo, keeps its job and says the repo was deleted
      JsonNode provenance =
          admin.lineageGet("/pipelines/" + old.pipeline() + "/outputs/M2/provenance");
      assertThat(provenance.path("repoDeleted").asBoolean()).as(provenance.toString()).isTrue();
      assertThat(provenance.path("job").path("id").asText()).isEqualTo(old.job());

      // When a second commit brings a row of a member named like an old one (M1)
      try (RowLoader loader = new RowLoader(settings, repo)) {
        loader.send(SyntheticTable.TABLE, "M1", "20,M1,drug,300001,2024-03-01,2.00");
        loader.flush();
      }
      String second = admin.commit(repo).path("id").asText();
      admin.awaitCommitComplete(repo, second, TIMEOUT);

      // Then the diff shows M1 as a new member, nothing of M2, and the old M1's row is not in it
      CliRun diff = tusk(services, token, "diff", repo, commitId, second, "--member", "M1");
      assertThat(diff.code()).as(diff.err()).isZero();
      assertThat(diff.out()).contains("300001").doesNotContain("100001");
      CliRun members = tusk(services, token, "diff", repo, commitId, second);
      assertThat(members.code()).as(members.err()).isZero();
      assertThat(members.out()).contains("M1").doesNotContain("M2");
      // And rejected rows are none (the old repo's rejects went with it)
      CliRun rejected = tusk(services, token, "rejected", repo);
      assertThat(rejected.code()).as(rejected.err()).isZero();
      assertThat(rejected.out().lines().filter(l -> !l.isBlank()).skip(1).toList()).isEmpty();
    }
  }

  private static List<String> commitIds(JsonNode page) {
    List<String> ids = new java.util.ArrayList<>();
    page.path("commits").forEach(c -> ids.add(c.path("id").asText()));
    return ids;
  }

  private static CliRun tusk(TuskServices services, String token, String... args) {
    return CliRun.tusk(services.commitUrl(), services.lineageUrl(), token, args);
  }
}
