package io.tusk.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The private PostgreSQL the connector tests use: it starts, answers SQL, decodes logical WAL. */
@Tag("integration")
class PostgresServerIT {
  @Test
  void startsAnswersSqlAndDeletesItsClusterOnClose() throws Exception {
    PostgresServer.assumeInstalled();
    Path cluster;
    try (PostgresServer pg = PostgresServer.start()) {
      pg.psql("postgres", "CREATE DATABASE claims");
      pg.psql("claims", "CREATE TABLE claim (id int PRIMARY KEY, person int, amount numeric)");
      pg.psql("claims", "INSERT INTO claim VALUES (1, 7, 12.50), (2, 8, 3)");
      assertThat(pg.psql("claims", "SELECT id, person, amount FROM claim ORDER BY id").lines())
          .containsExactly("1|7|12.50", "2|8|3");
      assertThat(pg.psql("postgres", "SHOW wal_level").strip()).isEqualTo("logical");
      // A logical replication slot is what Debezium's connector creates: it needs
      // wal_level=logical.
      pg.psql("claims", "SELECT pg_create_logical_replication_slot('probe', 'pgoutput')");
      assertThat(pg.jdbcUrl("claims"))
          .isEqualTo("jdbc:postgresql://127.0.0.1:" + pg.port() + "/claims");
      cluster = Path.of(pg.psql("postgres", "SHOW data_directory").strip()).getParent();
      assertThat(cluster).exists();
    }
    assertThat(Files.exists(cluster)).isFalse();
  }
}
