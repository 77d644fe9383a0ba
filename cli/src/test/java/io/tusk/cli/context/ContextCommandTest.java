package io.tusk.cli.context;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.cli.TuskProcess;
import io.tusk.cli.TuskProcess.Run;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tusk context ...} as a user runs it, in its own JVM with {@code TUSK_CONFIG} set: add,
 * use, list, current, delete, and an API command going where the current context says unless a
 * variable or flag says otherwise. No service runs: the places are ports where nothing listens, so
 * the error names where the command went.
 */
class ContextCommandTest {

  @Test
  void shouldSwitchWhereCommandsGoWithContexts(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("config/tusk.json");
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_CONFIG", config.toString());
    env.put("TUSK_HOME", dir.resolve("home").toString());
    int cluster = closedPort();
    int other = closedPort();

    // Given no config file: no current context
    Run none = TuskProcess.run(env, "context", "current");
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).contains("no current context");

    // When a context is added, with a token
    Run add =
        TuskProcess.run(
            env,
            "context",
            "add",
            "cluster",
            "--commit-url",
            "http://127.0.0.1:" + cluster,
            "--lineage-url",
            "http://127.0.0.1:" + cluster,
            "--token",
            "secret-token");
    assertThat(add.code()).as(add.err()).isZero();

    // Then the config file exists for its owner only, and the context is not current yet
    assertThat(Files.getPosixFilePermissions(config))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(TuskProcess.run(env, "context", "current").code()).isEqualTo(1);

    // When it is used
    assertThat(TuskProcess.run(env, "context", "use", "cluster").code()).isZero();

    // Then list marks it, without printing its token, and current names it
    Run list = TuskProcess.run(env, "context", "list");
    assertThat(list.out())
        .containsPattern("(?m)^\\* cluster +http://127\\.0\\.0\\.1:" + cluster)
        .doesNotContain("secret-token");
    assertThat(TuskProcess.run(env, "context", "current").out().strip()).isEqualTo("cluster");

    // And an API command goes to the context's commit service
    Run repos = TuskProcess.run(env, "repo", "list");
    assertThat(repos.code()).isEqualTo(1);
    assertThat(repos.err()).contains("GET http://127.0.0.1:" + cluster + "/repos failed");

    // And the environment variable, then the flag, win over the context
    Map<String, String> withVariable = new HashMap<>(env);
    withVariable.put("TUSK_COMMIT_URL", "http://127.0.0.1:" + other);
    assertThat(TuskProcess.run(withVariable, "repo", "list").err())
        .contains("http://127.0.0.1:" + other + "/repos");
    assertThat(
            TuskProcess.run(
                    withVariable, "repo", "list", "--commit-url", "http://localhost:" + cluster)
                .err())
        .contains("http://localhost:" + cluster + "/repos");

    // When the context is deleted, none is current and commands go to the local stack again
    Run delete = TuskProcess.run(env, "context", "delete", "cluster");
    assertThat(delete.out()).contains("it was current");
    assertThat(TuskProcess.run(env, "repo", "list").err()).contains("http://127.0.0.1:8080/repos");
  }

  @Test
  void shouldNameTheConfigFileWhenItIsNotValid(@TempDir Path dir) throws Exception {
    Path config = Files.writeString(dir.resolve("config.json"), "{\"contexts\": 3}");

    Run run = TuskProcess.run(Map.of("TUSK_CONFIG", config.toString()), "repo", "list");

    assertThat(run.code()).isEqualTo(1);
    assertThat(run.err().strip())
        .startsWith("tusk: the tusk config file " + config + " is not valid")
        .doesNotContain("Exception");
  }

  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
