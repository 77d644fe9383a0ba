package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.commit.CommitService;
import io.tusk.commit.CommitServiceConfig;
import io.tusk.common.config.ConfigException;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import io.tusk.testfixtures.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A service given a certificate serves HTTPS only, and the CLI's client verifies it: trusted with
 * the CA file ({@code TUSK_CA_FILE}), refused without it (the JVM's trust store does not know a
 * self-signed certificate), and plain HTTP is not answered.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class TlsIT {

  @Test
  void shouldServeHttpsAndBeVerifiedWhenGivenACertificate(LocalStack stack) throws Exception {
    // Given a commit service with a certificate for 127.0.0.1
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    Path dir = Files.createTempDirectory(Paths.get("target"), "tls-it-");
    TestCertificates certificates = TestCertificates.create(dir);
    Map<String, String> env = new HashMap<>(TestAuth.shared().env());
    env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", stack.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", "tls-it-" + suffix);
    env.put("TUSK_HTTP_PORT", "0");
    env.put("TUSK_HTTP_TLS_CERT", certificates.cert().toString());
    env.put("TUSK_HTTP_TLS_KEY", certificates.key().toString());
    try (CommitService service = CommitService.start(CommitServiceConfig.from(env))) {
      String https = "https://127.0.0.1:" + service.port();
      String token = TestAuth.shared().adminToken();

      // When the CLI's client trusts the certificate's CA / Then it is served
      TuskClient trusting = new TuskClient(https, https, token, certificates.cert());
      assertThat(trusting.whoami().path("subject").asText()).isEqualTo(TestAuth.ADMIN);

      // When it does not / Then it refuses the connection, saying why
      TuskClient untrusting = new TuskClient(https, https, token);
      assertThatThrownBy(untrusting::whoami)
          .isInstanceOf(TuskClient.ApiError.class)
          .hasMessageContaining("certificate is not trusted")
          .hasMessageContaining("TUSK_CA_FILE");

      // When plain HTTP is tried / Then nothing is served
      TuskClient plain = new TuskClient("http://127.0.0.1:" + service.port(), https, token);
      assertThatThrownBy(plain::whoami).isInstanceOf(TuskClient.ApiError.class);
    }

    // And a certificate without its key does not start, naming the keys
    env.remove("TUSK_HTTP_TLS_KEY");
    assertThatThrownBy(() -> CommitServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_HTTP_TLS_KEY");
  }
}
