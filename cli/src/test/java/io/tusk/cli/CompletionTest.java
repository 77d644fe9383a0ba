package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tusk completion bash} sourced in a real bash: commands and subcommands complete from the
 * command tree, and a repo name with no service reachable completes to nothing, quickly, with no
 * error. (The names from running services: {@code PutCommandIT}.)
 */
class CompletionTest {

  @Test
  void shouldCompleteCommandsAndSubcommandsInBash(@TempDir Path dir) throws Exception {
    CompletionShell bash = CompletionShell.in(dir, Map.of());

    assertThat(bash.complete("tusk", "rep").replies()).containsExactly("repo");
    assertThat(bash.complete("tusk", "repo", "cr").replies()).containsExactly("create");
    assertThat(bash.complete("tusk", "branch", "").replies())
        .contains("list", "create", "move", "delete");
    assertThat(bash.complete("tusk", "completion", "").replies()).containsExactly("bash", "zsh");
    // `tusk help` completes command names, and the subcommands of the commands given
    assertThat(bash.complete("tusk", "help", "").replies())
        .contains("repo", "branch", "status", "completion", "help")
        .doesNotContain("__complete", "create");
    assertThat(bash.complete("tusk", "help", "st").replies()).containsExactly("status");
    assertThat(bash.complete("tusk", "help", "repo", "cr").replies()).containsExactly("create");
    assertThat(bash.complete("tusk", "help", "status", "").replies()).isEmpty();
    assertThat(bash.complete("tusk", "help", "nope", "").replies()).isEmpty();
    // Options come from the tree too, inherited --help among them
    assertThat(bash.complete("tusk", "repo", "inspect", "--").replies())
        .contains("--commit-url", "--help", "--json");
  }

  @Test
  void shouldGiveZshTheSameScriptThroughItsBashCompletionEmulation() {
    // (no zsh on the test machines: this checks the script, not a zsh session)
    StringWriter bash = new StringWriter();
    StringWriter zsh = new StringWriter();
    Tusk.commandLine().setOut(new PrintWriter(bash, true)).execute("completion", "bash");
    int code = Tusk.commandLine().setOut(new PrintWriter(zsh, true)).execute("completion", "zsh");

    assertThat(code).isZero();
    assertThat(zsh.toString())
        .endsWith(bash.toString())
        .contains("bashcompinit")
        .contains("complete -F _tusk_complete");
  }

  @Test
  void shouldCompleteARepoToNothingQuicklyWhenNoServiceAnswers(@TempDir Path dir) throws Exception {
    // Given a commit service URL where nothing listens (a port taken and released)
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    CompletionShell bash =
        CompletionShell.in(dir, Map.of("TUSK_COMMIT_URL", "http://127.0.0.1:" + closed));

    // When a repo name is completed
    CompletionShell.Completion completion = bash.complete("tusk", "repo", "inspect", "");

    // Then nothing is offered, nothing is printed, within the script's bound (JVM start included)
    assertThat(completion.replies()).isEmpty();
    assertThat(completion.err()).isEmpty();
    assertThat(completion.took()).isLessThan(Duration.ofSeconds(8));
  }

  @Test
  void shouldGiveUpOnASilentServiceWithinTheBudget() throws Exception {
    // Given a commit service that accepts connections and never answers
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();

      // When the names are asked for
      long start = System.nanoTime();
      int code =
          Tusk.commandLine()
              .setOut(new PrintWriter(out, true))
              .setErr(new PrintWriter(err, true))
              .execute(
                  "__complete",
                  "repos",
                  "--commit-url",
                  "http://127.0.0.1:" + silent.getLocalPort());
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      // Then it succeeds with no names and no error, about a second later (never the 60 s of a
      // request's timeout)
      assertThat(code).isZero();
      assertThat(out.toString()).isEmpty();
      assertThat(err.toString()).isEmpty();
      assertThat(took).isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void shouldAskForTheNamesOfTheArgumentUnderTheCursor(@TempDir Path dir) throws Exception {
    // Given the script, with the call to the services replaced by one that prints its arguments
    // (what it would ask `tusk __complete`): this checks which names each position wants
    CompletionShell bash = CompletionShell.in(dir, Map.of());
    Path script = dir.resolve("tusk_completion.bash");
    Files.writeString(
        script,
        Files.readString(script)
            + "\nfunction _tusk_names() { local IFS=' '; echo \"asked: $*\"; }\n");

    assertThat(bash.complete("tusk", "repo", "inspect", "").replies())
        .containsExactly("asked: repos");
    assertThat(bash.complete("tusk", "pipeline", "delete", "").replies())
        .containsExactly("asked: pipelines");
    assertThat(bash.complete("tusk", "lineage", "history", "").replies())
        .containsExactly("asked: pipelines");
    // A branch is a branch of the repo before it, options between them are skipped, and the
    // services named on the line are the ones asked
    assertThat(
            bash.complete(
                    "tusk", "branch", "move", "--commit-url", "http://h:1", "omop", "--json", "")
                .replies())
        .containsExactly("asked: --commit-url http://h:1 branches omop");
    assertThat(bash.complete("tusk", "commit", "omop", "--branch", "").replies())
        .containsExactly("asked: branches omop");
    assertThat(bash.complete("tusk", "erase", "list", "--repo", "").replies())
        .containsExactly("asked: repos");
    // Arguments that are not names (a member key, a file) are left to picocli's completion
    assertThat(bash.complete("tusk", "member", "omop", "").replies())
        .noneMatch(reply -> reply.startsWith("asked"));
  }
}
