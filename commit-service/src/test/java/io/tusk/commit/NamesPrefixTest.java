package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NamesPrefixTest {

  @Test
  void shouldRefuseNamesWithoutTheDeploymentsPrefixNamingTheKey() {
    NamesPrefix names = new NamesPrefix("acme-");
    assertThatCode(() -> names.check("repo", "acme-claims")).doesNotThrowAnyException();
    assertThatThrownBy(() -> names.check("pipeline", "claims"))
        .isInstanceOf(ApiException.class)
        .hasMessage(
            "pipeline names must start with 'acme-' in this deployment (TUSK_NAMES_PREFIX)");
  }

  @Test
  void shouldAcceptAnyNameWithoutAPrefix() {
    assertThatCode(() -> new NamesPrefix("").check("repo", "claims")).doesNotThrowAnyException();
  }

  @Test
  void shouldReadThePrefixFromTheCommitServicesConfig() {
    CommitServiceConfig config =
        CommitServiceConfig.from(
            Map.of(
                "TUSK_BOOTSTRAP_SERVERS", "localhost:9092",
                "TUSK_REGISTRY_URL", "http://localhost:8081",
                "TUSK_AUTH_DISABLED", "true",
                "TUSK_NAMES_PREFIX", "acme-"));
    assertThatThrownBy(() -> config.names().check("repo", "claims"))
        .hasMessageContaining("'acme-'");
  }
}
