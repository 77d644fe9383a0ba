package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.ConfigKey;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * compose.yaml cannot run here (no Docker engine), so this keeps it honest: every variable it gives
 * a Tusk service is a key that service's config class reads, every required key is given, and the
 * README documents every key.
 */
class ComposeConfigTest {
  private static final Path ROOT = Paths.get(System.getProperty("tusk.root", ".."));
  private static final Map<String, List<ConfigKey>> SERVICES = ServiceConfigKeys.SERVICES;

  @SuppressWarnings("unchecked")
  private static Map<String, Object> compose() throws IOException {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(100);
    try (Reader reader = Files.newBufferedReader(ROOT.resolve("compose.yaml"))) {
      return new Yaml(options).load(reader);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void shouldConfigureEachServiceOnlyWithKeysItsConfigClassReads() throws IOException {
    Map<String, Object> services = (Map<String, Object>) compose().get("services");
    for (var service : SERVICES.entrySet()) {
      Map<String, Object> definition = (Map<String, Object>) services.get(service.getKey());
      assertThat(definition).as("compose service %s", service.getKey()).isNotNull();
      Set<String> given = ((Map<String, Object>) definition.get("environment")).keySet();
      for (String key : given) {
        assertThat(ServiceConfigKeys.reads(service.getKey(), key))
            .as("%s sets %s, which its config class does not read", service.getKey(), key)
            .isTrue();
      }
      for (ConfigKey key : service.getValue()) {
        if (key.isRequired()) {
          assertThat(given)
              .as("%s must set required key %s", service.getKey(), key.name())
              .contains(key.name());
        }
      }
    }
  }

  @Test
  void shouldDocumentEveryConfigKeyInTheReadme() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    for (List<ConfigKey> keys : SERVICES.values()) {
      for (ConfigKey key : keys) {
        assertThat(readme).as("README documents %s", key.name()).contains("`" + key.name() + "`");
      }
    }
  }

  /**
   * Every container has a healthcheck, and nothing starts before what it needs is healthy (not
   * merely started): the brokers before the registry, the registry before the commit service, the
   * commit service before the others. What the checks run is tested by {@link HealthchecksTest}.
   */
  @Test
  @SuppressWarnings("unchecked")
  void shouldCheckEveryContainersHealthAndStartEachAfterWhatItNeedsIsHealthy() throws IOException {
    Map<String, Object> services = (Map<String, Object>) compose().get("services");
    for (var service : services.entrySet()) {
      Map<String, Object> definition = (Map<String, Object>) service.getValue();
      Map<String, Object> health = (Map<String, Object>) definition.get("healthcheck");
      assertThat(health).as("healthcheck of %s", service.getKey()).isNotNull();
      assertThat(health).containsKeys("test", "interval", "timeout", "retries", "start_period");
      if (SERVICES.containsKey(service.getKey())) {
        assertThat(health.get("test")).isEqualTo(List.of("CMD", "/app/healthcheck"));
      }
      Object dependsOn = definition.get("depends_on");
      if (dependsOn != null) {
        assertThat(dependsOn)
            .as("depends_on of %s names conditions", service.getKey())
            .isInstanceOf(Map.class);
        for (var needed : ((Map<String, Object>) dependsOn).entrySet()) {
          assertThat(needed.getValue())
              .as("%s waits for %s to be healthy", service.getKey(), needed.getKey())
              .isEqualTo(Map.of("condition", "service_healthy"));
        }
      }
    }
    assertThat(Files.readString(ROOT.resolve("Dockerfile")))
        .contains("COPY --chmod=755 deploy/healthcheck.sh /app/healthcheck");
  }
}
