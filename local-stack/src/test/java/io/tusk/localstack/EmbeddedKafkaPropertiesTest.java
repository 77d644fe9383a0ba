package io.tusk.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker settings of the plain and the secured mode, without starting a broker. */
class EmbeddedKafkaPropertiesTest {

  @Test
  void shouldRunThePlainModeWithOnePlaintextListenerAndNoAuthorizer() {
    Properties plain = EmbeddedKafka.brokerProperties(Paths.get("/tmp/k"), 9092, 9093);
    assertThat(plain.getProperty("listeners"))
        .isEqualTo("PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093");
    assertThat(plain.getProperty("listener.security.protocol.map"))
        .isEqualTo("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    assertThat(plain)
        .doesNotContainKeys("authorizer.class.name", "super.users", "ssl.keystore.location");
  }

  @Test
  void shouldSecureEveryListenerAndDenyWhatNoAclAllowsInTheSecuredMode(@TempDir Path dir)
      throws Exception {
    // Given a broker key store whose certificate is CN=broker
    Path keyStore = dir.resolve("broker.p12");
    Process keytool =
        new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "broker",
                "-dname",
                "CN=broker,O=tusk",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-validity",
                "1",
                "-storetype",
                "PKCS12",
                "-keystore",
                keyStore.toString(),
                "-storepass",
                "secret",
                "-keypass",
                "secret")
            .redirectErrorStream(true)
            .start();
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue())
        .as(new String(keytool.getInputStream().readAllBytes()))
        .isZero();
    EmbeddedKafka.Security security =
        new EmbeddedKafka.Security(keyStore, keyStore, "secret", List.of("User:admin"));

    // When the secured mode's settings are made
    Properties secured =
        EmbeddedKafka.securedBrokerProperties(dir, 1001, 1002, 1003, 1004, security);

    // Then SASL_SSL (SCRAM) and mTLS serve clients, broker and controller traffic has its own TLS
    // listeners, client certificates are required where they are the identity, and only ACLs (or
    // the super users, the broker's certificate among them) allow anything
    assertThat(secured.getProperty("listeners"))
        .isEqualTo(
            "SASL_SSL://127.0.0.1:1001,SSL://127.0.0.1:1002,INTERNAL://127.0.0.1:1003,"
                + "CONTROLLER://127.0.0.1:1004");
    assertThat(secured.getProperty("listener.security.protocol.map"))
        .isEqualTo("SASL_SSL:SASL_SSL,SSL:SSL,INTERNAL:SSL,CONTROLLER:SSL");
    assertThat(secured.getProperty("inter.broker.listener.name")).isEqualTo("INTERNAL");
    assertThat(secured.getProperty("sasl.enabled.mechanisms")).isEqualTo("SCRAM-SHA-512");
    assertThat(secured)
        .containsEntry("listener.name.ssl.ssl.client.auth", "required")
        .containsEntry("listener.name.internal.ssl.client.auth", "required")
        .containsEntry("listener.name.controller.ssl.client.auth", "required")
        .doesNotContainKey("listener.name.sasl_ssl.ssl.client.auth")
        .containsEntry(
            "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        .containsEntry("allow.everyone.if.no.acl.found", "false")
        .containsEntry("super.users", "User:admin;User:broker");
    assertThat(secured.getProperty("ssl.principal.mapping.rules")).startsWith("RULE:^CN=");
  }
}
