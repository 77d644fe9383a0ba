package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code tusk up} after a crash relies on: a registry orphaned by a dead session is found and
 * killed through its pid file, and a restart on the same home keeps the cluster, its topics and the
 * registered schema IDs. Runs its own stack, not the shared one.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LocalStackRestartIT {

  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
  private static final String TOPIC = "restart-it";
  private static final String SCHEMA =
      "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"R\\\","
          + "\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"int\\\"}]}\"}";

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldKeepClusterTopicsAndSchemasWhenRestartedAfterACrash(@TempDir Path home)
      throws Exception {
    // Given a stack with a topic and a registered schema
    String clusterId;
    int schemaId;
    long registryPid;
    try (LocalStack first = LocalStack.start(home, LocalStack.Ports.ephemeral())) {
      clusterId = first.kafka().clusterId();
      registryPid = first.registry().pid();
      try (Admin admin = admin(first)) {
        admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
      }
      schemaId = register(first);
      Path pidFile = home.resolve("registry").resolve(EmbeddedRegistry.PID_FILE);
      assertThat(Files.readString(pidFile).trim()).isEqualTo(Long.toString(registryPid));
      // A second registry on the same home is refused instead of fighting over the database.
      assertThatThrownBy(() -> EmbeddedRegistry.start(home.resolve("registry"), 0))
          .hasMessageContaining("already running");

      // When the session "crashes" and `tusk clean` kills what it left behind
      LocalStack.killLeftovers(home);

      // Then the registry process is gone and so is its pid file
      assertThat(ProcessHandle.of(registryPid).filter(ProcessHandle::isAlive)).isEmpty();
      assertThat(pidFile).doesNotExist();
    }

    // When the stack starts again on the same home
    try (LocalStack second = LocalStack.start(home, LocalStack.Ports.ephemeral())) {
      // Then the broker kept its cluster ID and topics, and the registry its schema IDs
      assertThat(second.kafka().clusterId()).isEqualTo(clusterId);
      try (Admin admin = admin(second)) {
        assertThat(admin.describeCluster().clusterId().get()).isEqualTo(clusterId);
        assertThat(admin.listTopics().names().get()).contains(TOPIC);
      }
      HttpResponse<String> byId =
          http.send(
              HttpRequest.newBuilder(URI.create(second.registryUrl() + "/schemas/ids/" + schemaId))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(byId.statusCode()).isEqualTo(200);
      assertThat(byId.body()).contains("\\\"R\\\"");
      assertThat(register(second)).isEqualTo(schemaId);
    }
  }

  private int register(LocalStack stack) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(stack.registryUrl() + "/subjects/restart-it-value/versions"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(SCHEMA))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    Matcher matcher = ID.matcher(response.body());
    assertThat(matcher.find()).as(response.body()).isTrue();
    return Integer.parseInt(matcher.group(1));
  }

  private static Admin admin(LocalStack stack) {
    return Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()));
  }
}
