package io.tusk.cli.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which URL, bootstrap servers, token and CA file a command uses: its flag, else the environment
 * variable, else the current context, else the local stack; and the config file behind contexts
 * (owner-only, bad content named with its file).
 */
class ConnectionTest {
  private static final Map<String, String> NO_ENV = Map.of();
  private static final Connection.Flags NO_FLAGS =
      new Connection.Flags(null, null, null, null, null);

  @Test
  void shouldUseTheLocalStackAsBeforeWhenThereIsNoConfigFile(@TempDir Path dir) throws Exception {
    // Given no config file, no environment, and the local stack's token file
    Path config = dir.resolve("config.json");
    Path localToken = Files.writeString(dir.resolve("token"), "local-admin-token\n");

    // When a command resolves where to talk to
    Connection connection = Connection.resolve(NO_FLAGS, NO_ENV::get, config, localToken);

    // Then it is the local stack, with its admin token, as before contexts existed
    assertThat(connection)
        .isEqualTo(
            new Connection(
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8082",
                "127.0.0.1:9092",
                "local-admin-token",
                null,
                Optional.empty()));
    // And nothing was written
    assertThat(config).doesNotExist();
  }

  @Test
  void shouldPreferTheFlagThenTheEnvironmentThenTheCurrentContext(@TempDir Path dir) {
    // Given a current context with every setting
    Path config = dir.resolve("config.json");
    ContextConfig file = ContextConfig.read(config);
    file.add(
        new Context(
            "cluster",
            "https://commit.context",
            "https://lineage.context",
            "kafka.context:9092",
            "context-token",
            null,
            dir.resolve("context-ca.pem")));
    file.use("cluster");
    file.write();
    Path localToken = dir.resolve("no-local-token");

    // Then with nothing else given, the context decides everything
    Connection fromContext = Connection.resolve(NO_FLAGS, NO_ENV::get, config, localToken);
    assertThat(fromContext)
        .isEqualTo(
            new Connection(
                "https://commit.context",
                "https://lineage.context",
                "kafka.context:9092",
                "context-token",
                dir.resolve("context-ca.pem"),
                Optional.of("cluster")));

    // And the environment wins over the context
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_COMMIT_URL", "https://commit.env");
    env.put("TUSK_LINEAGE_URL", "https://lineage.env");
    env.put("TUSK_BOOTSTRAP_SERVERS", "kafka.env:9092");
    env.put("TUSK_TOKEN", "env-token");
    env.put("TUSK_CA_FILE", "/env/ca.pem");
    Connection fromEnv = Connection.resolve(NO_FLAGS, env::get, config, localToken);
    assertThat(fromEnv)
        .isEqualTo(
            new Connection(
                "https://commit.env",
                "https://lineage.env",
                "kafka.env:9092",
                "env-token",
                Path.of("/env/ca.pem"),
                Optional.of("cluster")));

    // And a flag wins over both
    Connection.Flags flags =
        new Connection.Flags(
            "https://commit.flag",
            "https://lineage.flag",
            "kafka.flag:9092",
            "flag-token",
            Path.of("/flag/ca.pem"));
    assertThat(Connection.resolve(flags, env::get, config, localToken))
        .isEqualTo(
            new Connection(
                "https://commit.flag",
                "https://lineage.flag",
                "kafka.flag:9092",
                "flag-token",
                Path.of("/flag/ca.pem"),
                Optional.of("cluster")));

    // And each setting is resolved on its own: one flag, one variable, the rest from the context
    Connection mixed =
        Connection.resolve(
            new Connection.Flags("https://commit.flag", null, null, null, null),
            Map.of("TUSK_TOKEN", "env-token")::get,
            config,
            localToken);
    assertThat(mixed.commitUrl()).isEqualTo("https://commit.flag");
    assertThat(mixed.lineageUrl()).isEqualTo("https://lineage.context");
    assertThat(mixed.token()).isEqualTo("env-token");
  }

  @Test
  void shouldFallBackToTheLocalStackForWhatTheContextLeavesOut(@TempDir Path dir) throws Exception {
    // Given a current context with only URLs, and the local stack's token file
    Path config = dir.resolve("config.json");
    ContextConfig file = ContextConfig.read(config);
    file.add(new Context("urls", "http://a:1", "http://b:2", null, null, null, null));
    file.add(new Context("other", "http://c:3", "http://d:4", null, null, null, null));
    file.use("urls");
    file.write();
    Path localToken = Files.writeString(dir.resolve("token"), "local-admin-token");

    Connection connection = Connection.resolve(NO_FLAGS, NO_ENV::get, config, localToken);

    assertThat(connection.commitUrl()).isEqualTo("http://a:1");
    assertThat(connection.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(connection.token()).isEqualTo("local-admin-token");
    assertThat(connection.caFile()).isNull();
  }

  @Test
  void shouldReadTheContextsTokenFileOnEveryCommand(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("config.json");
    Path tokenFile = dir.resolve("cluster.token");
    ContextConfig file = ContextConfig.read(config);
    file.add(new Context("cluster", "http://a:1", "http://b:2", null, null, tokenFile, null));
    file.use("cluster");
    file.write();

    // A missing token file is an error naming it and the context
    assertThatThrownBy(() -> Connection.resolve(NO_FLAGS, NO_ENV::get, config, dir.resolve("none")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(tokenFile.toString())
        .hasMessageContaining("context cluster");

    // And a renewed token is picked up without touching the config
    Files.writeString(tokenFile, "first\n");
    assertThat(Connection.resolve(NO_FLAGS, NO_ENV::get, config, null).token()).isEqualTo("first");
    Files.writeString(tokenFile, "renewed\n");
    assertThat(Connection.resolve(NO_FLAGS, NO_ENV::get, config, null).token())
        .isEqualTo("renewed");
  }

  @Test
  void shouldWriteTheConfigFileForItsOwnerOnly(@TempDir Path dir) throws Exception {
    // Given a config file in a directory that does not exist yet
    Path config = dir.resolve("tusk/config.json");
    ContextConfig file = ContextConfig.read(config);
    file.add(new Context("cluster", "http://a:1", "http://b:2", null, "secret", null, null));

    // When it is written
    file.write();

    // Then only its owner can read it (it holds a token), and its new directory too
    assertThat(Files.getPosixFilePermissions(config))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(config.getParent()))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    // And no temporary file is left next to it
    try (var files = Files.list(config.getParent())) {
      assertThat(files).containsExactly(config);
    }

    // And a file someone made readable by others is narrowed again on the next write
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
    ContextConfig again = ContextConfig.read(config);
    again.use("cluster");
    again.write();
    assertThat(Files.getPosixFilePermissions(config))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(ContextConfig.read(config).current().map(Context::token)).contains("secret");
  }

  @Test
  void shouldNameTheFileWhenTheConfigIsNotValid(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("config.json");
    Map<String, String> bad =
        Map.of(
            "{\"current\": ", "not JSON",
            "[1, 2]", "not a JSON object",
            "{\"contexts\": []}", "\"contexts\" is not an object",
            "{\"current\": \"gone\", \"contexts\": {}}", "\"gone\" is not among its contexts",
            "{\"contexts\": {\"a\": {\"commitURL\": \"http://x\"}}}", "unknown field \"commitURL\"",
            "{\"contexts\": {\"a\": {\"commitUrl\": 8080}}}", "\"commitUrl\" is not a string",
            "{\"context\": {}}", "unknown field \"context\"");
    for (Map.Entry<String, String> content : bad.entrySet()) {
      Files.writeString(config, content.getKey());
      assertThatThrownBy(
              () -> Connection.resolve(NO_FLAGS, NO_ENV::get, config, dir.resolve("none")))
          .as(content.getKey())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("the tusk config file " + config)
          .hasMessageContaining(content.getValue());
    }
  }

  @Test
  void shouldFindTheConfigFileInTuskConfigElseInTheHomeDirectory() {
    assertThat(ContextConfig.path(Map.of("TUSK_CONFIG", "/etc/tusk.json")::get))
        .isEqualTo(Path.of("/etc/tusk.json"));
    assertThat(ContextConfig.path(NO_ENV::get))
        .isEqualTo(Path.of(System.getProperty("user.home"), ".config", "tusk", "config.json"));
  }
}
