package io.tusk.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.member.CsvLine;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.PostgresServer;
import io.tusk.testfixtures.TopicReader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

/**
 * Change data capture from a real PostgreSQL through Debezium's PostgreSQL connector in a real
 * Kafka Connect worker (a separate JVM, {@code ConnectStandalone}) into a debezium repo: GiBleed's
 * PERSON, VISIT_OCCURRENCE and OBSERVATION are loaded into PostgreSQL, snapshotted and committed;
 * then rows are inserted, updated (one moving to another member, one changing its primary key) and
 * deleted in SQL, some in one transaction, and committed: the job processes exactly the members
 * whose rows changed, and each member's rows equal a SELECT of them.
 */
@Tag("integration")
@Timeout(value = 900, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class CdcIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(240);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path GIBLEED =
      Paths.get(System.getProperty("tusk.root", ".."), "data", "omop-gibleed");

  /** Each table: PostgreSQL DDL, the GiBleed columns loaded, the date columns. */
  private record Table(String name, String ddl, List<String> columns, Set<String> dates) {
    String key() {
      return columns.get(0);
    }
  }

  private static final List<Table> TABLES =
      List.of(
          new Table(
              "PERSON",
              "CREATE TABLE person (person_id bigint PRIMARY KEY, gender_concept_id bigint,"
                  + " year_of_birth int, month_of_birth int)",
              List.of("PERSON_ID", "GENDER_CONCEPT_ID", "YEAR_OF_BIRTH", "MONTH_OF_BIRTH"),
              Set.of()),
          new Table(
              "VISIT_OCCURRENCE",
              "CREATE TABLE visit_occurrence (visit_occurrence_id bigint PRIMARY KEY,"
                  + " person_id bigint NOT NULL, visit_concept_id bigint, visit_start_date date,"
                  + " visit_end_date date)",
              List.of(
                  "VISIT_OCCURRENCE_ID",
                  "PERSON_ID",
                  "VISIT_CONCEPT_ID",
                  "VISIT_START_DATE",
                  "VISIT_END_DATE"),
              Set.of("VISIT_START_DATE", "VISIT_END_DATE")),
          new Table(
              "OBSERVATION",
              "CREATE TABLE observation (observation_id bigint PRIMARY KEY,"
                  + " person_id bigint NOT NULL, observation_concept_id bigint,"
                  + " observation_date date, value_as_number numeric)",
              List.of(
                  "OBSERVATION_ID",
                  "PERSON_ID",
                  "OBSERVATION_CONCEPT_ID",
                  "OBSERVATION_DATE",
                  "VALUE_AS_NUMBER"),
              Set.of("OBSERVATION_DATE")));

  @Test
  void shouldProcessExactlyTheChangedMembersWhenRowsChangeInPostgres(LocalStack stack)
      throws Exception {
    PostgresServer.assumeInstalled();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "cdc-" + suffix;
    String pipeline = "cdc-p-" + suffix;
    Path home = Files.createTempDirectory(Paths.get("target"), "cdc-it-");
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "cdc-it-" + suffix);
    try (PostgresServer pg = PostgresServer.start();
        TuskServices services =
            TuskServices.start(
                stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1)) {
      // Given GiBleed's tables in PostgreSQL, and a debezium repo and a pipeline reading it
      pg.psql("postgres", "CREATE DATABASE claims");
      String url = pg.jdbcUrl("claims");
      long loaded = load(url);
      TuskClient admin = services.client();
      admin.createRepo(repoSpec(repo));
      ObjectNode spec = TuskClient.object().put("name", pipeline).put("parallelism", 1);
      spec.putObject("input").put("repo", repo);
      spec.putObject("transform").put("java", "member-summary");
      admin.createPipeline(spec);

      // When the connector snapshots the tables into <repo>.updates and the snapshot is committed
      try (ConnectWorker connect =
          ConnectWorker.start(
              home.resolve("connect"), connectorConfig(stack, pg, repo, suffix), TIMEOUT)) {
        awaitRecords(settings, repo, loaded);
        JsonNode job1 = commitAndAwaitJob(admin, repo);

        // Then every person is a member and was processed
        assertThat(job1.path("processed").asLong()).as(job1.toString()).isEqualTo(2694);

        // When rows change: an insert, an update and a delete in one transaction; a visit moving
        // to another person; a new person with a visit; an observation changing its primary key
        Changes changes = change(url);
        // Each change is one event; a delete adds its tombstone, a key change is d, tombstone, c.
        awaitRecords(settings, repo, loaded + 10);
        JsonNode job2 = commitAndAwaitJob(admin, repo);

        // Then the job processed exactly the members whose rows changed
        assertThat(job2.path("processed").asLong()).as(job2.toString()).isEqualTo(7);
        assertThat(processedMembers(settings, pipeline, job2.path("id").asText()))
            .isEqualTo(changes.members());

        // And each of them (and an unchanged one) has exactly the rows a SELECT gives
        Set<String> check = new TreeSet<>(changes.members());
        check.add(changes.unchanged());
        for (String member : check) {
          JsonNode object = admin.commitGet("/repos/" + repo + "/members/" + member);
          assertThat(memberRows(object)).as("member " + member).isEqualTo(selectRows(url, member));
        }
        assertThat(connect.connectorState()).isEqualTo("RUNNING");
      }
    }
  }

  private static ObjectNode repoSpec(String repo) {
    ObjectNode spec =
        TuskClient.object()
            .put("name", repo)
            .put("format", "debezium")
            .put("partitions", 3)
            .put("memberPartitions", TuskServices.MEMBER_PARTITIONS);
    var tables = spec.putArray("tables");
    for (Table table : TABLES) {
      ObjectNode t = tables.addObject().put("name", table.name()).put("memberKey", "PERSON_ID");
      table.columns().forEach(t.putArray("columns")::add);
      t.putArray("rowKey").add(table.key());
      ObjectNode types = t.putObject("columnTypes");
      table.dates().forEach(column -> types.put(column, "date"));
    }
    return spec;
  }

  /** Debezium's PostgreSQL connector, every table's topic routed to {@code <repo>.updates}. */
  private static Map<String, String> connectorConfig(
      LocalStack stack, PostgresServer pg, String repo, String suffix) {
    String prefix = "cdc" + suffix.replace("-", "");
    Map<String, String> config = new TreeMap<>();
    config.put("name", "cdc-" + suffix);
    config.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    config.put("tasks.max", "1");
    config.put("database.hostname", "127.0.0.1");
    config.put("database.port", Integer.toString(pg.port()));
    config.put("database.user", PostgresServer.USER);
    config.put("database.password", "unused");
    config.put("database.dbname", "claims");
    config.put("topic.prefix", prefix);
    config.put("plugin.name", "pgoutput");
    config.put("slot.name", "tusk_" + suffix.replace("-", ""));
    config.put("publication.autocreate.mode", "filtered");
    config.put("table.include.list", "public.person,public.visit_occurrence,public.observation");
    config.put("snapshot.mode", "initial");
    config.put("transforms", "route");
    config.put("transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter");
    config.put("transforms.route.regex", prefix + "[.]public[.](.*)");
    config.put("transforms.route.replacement", TopicNames.updates(repo));
    config.put("bootstrap.servers", stack.bootstrapServers());
    return config;
  }

  /** Loads the GiBleed columns of each table into PostgreSQL; the number of rows loaded. */
  private static long load(String url) throws Exception {
    long rows = 0;
    try (Connection db = DriverManager.getConnection(url, PostgresServer.USER, "");
        Statement sql = db.createStatement()) {
      for (Table table : TABLES) {
        sql.execute(table.ddl());
        List<String> lines = Files.readAllLines(GIBLEED.resolve(table.name() + ".csv"));
        List<String> header = CsvLine.parse(lines.get(0));
        StringBuilder copy = new StringBuilder();
        Set<String> keys = new HashSet<>();
        for (String line : lines.subList(1, lines.size())) {
          List<String> values = CsvLine.parse(line);
          // GiBleed repeats a few OBSERVATION_IDs: the first row of a key is loaded.
          if (!keys.add(values.get(header.indexOf(table.key())))) {
            continue;
          }
          List<String> picked = new ArrayList<>();
          for (String column : table.columns()) {
            // An empty field is NULL in COPY's CSV format (CsvLine reads it as null).
            String value = values.get(header.indexOf(column));
            picked.add(value == null ? "" : value);
          }
          copy.append(String.join(",", picked)).append('\n');
        }
        rows +=
            db.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyIn(
                    "COPY " + table.name().toLowerCase() + " FROM STDIN WITH (FORMAT csv)",
                    new StringReader(copy.toString()));
      }
    }
    return rows;
  }

  /** What {@link #change} did: the members whose rows changed, and one whose rows did not. */
  private record Changes(Set<String> members, String unchanged) {}

  private static Changes change(String url) throws Exception {
    try (Connection db = DriverManager.getConnection(url, PostgresServer.USER, "")) {
      List<Long> visitors = longs(db, "SELECT DISTINCT person_id FROM visit_occurrence ORDER BY 1");
      List<Long> observed = longs(db, "SELECT DISTINCT person_id FROM observation ORDER BY 1");
      observed.removeAll(visitors);
      long a = visitors.get(0);
      long b = observed.get(0);
      long c = visitors.get(1);
      long d = visitors.get(2);
      long e = visitors.get(3);
      long g = observed.get(1);
      long newPerson = 900_000_001L;
      long visitOfC = first(db, "visit_occurrence", c);
      long visitOfD = first(db, "visit_occurrence", d);
      long observationOfB = first(db, "observation", b);
      long observationOfG = first(db, "observation", g);
      try (Statement sql = db.createStatement()) {
        // One SQL transaction: A gains a visit, B's observation gets a value, C loses a visit.
        db.setAutoCommit(false);
        sql.executeUpdate(
            "INSERT INTO visit_occurrence VALUES (900000001, "
                + a
                + ", 9201, '2020-02-03', '2020-02-04')");
        sql.executeUpdate(
            "UPDATE observation SET value_as_number = 12.5 WHERE observation_id = "
                + observationOfB);
        sql.executeUpdate("DELETE FROM visit_occurrence WHERE visit_occurrence_id = " + visitOfC);
        db.commit();
        db.setAutoCommit(true);
        // D's visit becomes E's: the row moves between members.
        sql.executeUpdate(
            "UPDATE visit_occurrence SET person_id = "
                + e
                + " WHERE visit_occurrence_id = "
                + visitOfD);
        // A new person with a visit.
        sql.executeUpdate("INSERT INTO person VALUES (" + newPerson + ", 8507, 1990, 5)");
        sql.executeUpdate(
            "INSERT INTO visit_occurrence VALUES (900000002, "
                + newPerson
                + ", 9202, '2020-03-01', NULL)");
        // G's observation changes its primary key (Debezium: a delete, then a create).
        sql.executeUpdate(
            "UPDATE observation SET observation_id = 900000003 WHERE observation_id = "
                + observationOfG);
      }
      Set<String> members = new TreeSet<>();
      for (long member : List.of(a, b, c, d, e, g, newPerson)) {
        members.add(Long.toString(member));
      }
      return new Changes(members, Long.toString(visitors.get(4)));
    }
  }

  private static long first(Connection db, String table, long person) throws Exception {
    return longs(
            db,
            "SELECT "
                + table
                + "_id FROM "
                + table
                + " WHERE person_id = "
                + person
                + " ORDER BY 1 LIMIT 1")
        .get(0);
  }

  private static List<Long> longs(Connection db, String query) throws Exception {
    List<Long> values = new ArrayList<>();
    try (Statement sql = db.createStatement();
        ResultSet rows = sql.executeQuery(query)) {
      while (rows.next()) {
        values.add(rows.getLong(1));
      }
    }
    return values;
  }

  /** A member's rows from the member API, as "TABLE column=value ..." lines. */
  private static Set<String> memberRows(JsonNode object) {
    Set<String> rows = new TreeSet<>();
    for (JsonNode row : object.path("rows")) {
      Table table =
          TABLES.stream()
              .filter(t -> t.name().equals(row.path("table").asText()))
              .findFirst()
              .get();
      List<String> values = new ArrayList<>();
      for (String column : table.columns()) {
        JsonNode value = row.path("values").get(column);
        values.add(value == null || value.isNull() ? null : value.asText());
      }
      rows.add(line(table, values));
    }
    return rows;
  }

  /** A person's rows from PostgreSQL, as {@link #memberRows} renders them. */
  private static Set<String> selectRows(String url, String member) throws Exception {
    Set<String> rows = new TreeSet<>();
    try (Connection db = DriverManager.getConnection(url, PostgresServer.USER, "")) {
      for (Table table : TABLES) {
        try (PreparedStatement select =
            db.prepareStatement(
                "SELECT "
                    + String.join(", ", table.columns()).toLowerCase()
                    + " FROM "
                    + table.name().toLowerCase()
                    + " WHERE person_id = ?")) {
          select.setLong(1, Long.parseLong(member));
          try (ResultSet result = select.executeQuery()) {
            ResultSetMetaData meta = result.getMetaData();
            while (result.next()) {
              List<String> values = new ArrayList<>();
              for (int i = 1; i <= meta.getColumnCount(); i++) {
                Object value = result.getObject(i);
                values.add(
                    value == null
                        ? null
                        : value instanceof BigDecimal decimal
                            ? decimal.toPlainString()
                            : result.getString(i));
              }
              rows.add(line(table, values));
            }
          }
        }
      }
    }
    return rows;
  }

  private static String line(Table table, List<String> values) {
    StringBuilder line = new StringBuilder(table.name());
    for (int i = 0; i < values.size(); i++) {
      line.append(' ').append(table.columns().get(i)).append('=').append(values.get(i));
    }
    return line.toString();
  }

  /** Waits until {@code <repo>.updates} holds {@code count} records (Connect wrote them). */
  private static void awaitRecords(KafkaSettings settings, String repo, long count)
      throws Exception {
    try (Admin admin = Admin.create(settings.admin("cdc-it-admin"))) {
      Await.until(
          TopicNames.updates(repo) + " to hold " + count + " records",
          TIMEOUT,
          () -> records(admin, TopicNames.updates(repo)) >= count);
      assertThat(records(admin, TopicNames.updates(repo))).isEqualTo(count);
    }
  }

  private static long records(Admin admin, String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> latest =
        new TreeMap<>(java.util.Comparator.comparing(TopicPartition::partition));
    for (var partition :
        admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()) {
      latest.put(new TopicPartition(topic, partition.partition()), OffsetSpec.latest());
    }
    long total = 0;
    for (var offset : admin.listOffsets(latest).all().get().values()) {
      total += offset.offset();
    }
    return total;
  }

  private static JsonNode commitAndAwaitJob(TuskClient admin, String repo) {
    JsonNode commit = admin.commit(repo);
    String jobId = commit.path("jobs").get(0).path("jobId").asText();
    JsonNode job = admin.awaitJobEnd(jobId, TIMEOUT);
    assertThat(job.path("state").asText()).as(job.toString()).isEqualTo("SUCCESS");
    return job;
  }

  /** The members of the outputs job {@code jobId} wrote to {@code <pipeline>.output}. */
  private static Set<String> processedMembers(
      KafkaSettings settings, String pipeline, String jobId) {
    Set<String> members = new HashSet<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("cdc-it-reader", null))) {
      String topic = TopicNames.output(pipeline);
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      for (ConsumerRecord<byte[], byte[]> record : TopicReader.readToEnd(consumer, TIMEOUT)) {
        Header job = record.headers().lastHeader(Headers.JOB_ID);
        if (job != null && new String(job.value(), StandardCharsets.UTF_8).equals(jobId)) {
          members.add(new String(record.key(), StandardCharsets.UTF_8));
        }
      }
    }
    return new TreeSet<>(members);
  }

  /** A Kafka Connect worker in a JVM of its own, running one connector. */
  static final class ConnectWorker implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final Process process;
    private final String statusUrl;
    private final Path log;

    private ConnectWorker(Process process, String statusUrl, Path log) {
      this.process = process;
      this.statusUrl = statusUrl;
      this.log = log;
    }

    /**
     * Starts {@code ConnectStandalone} with the connector and waits until it and its task run.
     *
     * @param connector the connector's properties; {@code bootstrap.servers} is the worker's
     */
    static ConnectWorker start(Path dir, Map<String, String> connector, Duration deadline)
        throws Exception {
      Files.createDirectories(dir);
      int port = io.tusk.localstack.FreePorts.resolve(0)[0];
      Map<String, String> worker = new TreeMap<>();
      worker.put("bootstrap.servers", connector.remove("bootstrap.servers"));
      worker.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
      worker.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
      worker.put("key.converter.schemas.enable", "false");
      worker.put("value.converter.schemas.enable", "true");
      worker.put("offset.storage.file.filename", dir.resolve("offsets").toString());
      worker.put("offset.flush.interval.ms", "1000");
      worker.put("listeners", "http://127.0.0.1:" + port);
      worker.put("plugin.discovery", "only_scan");
      Path workerFile = write(dir.resolve("worker.properties"), worker);
      Path connectorFile = write(dir.resolve("connector.properties"), connector);
      Path log = dir.resolve("connect.log");
      String classpath =
          System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
      Process process =
          new ProcessBuilder(
                  Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx512m",
                  "-cp",
                  classpath,
                  "org.apache.kafka.connect.cli.ConnectStandalone",
                  workerFile.toString(),
                  connectorFile.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      ConnectWorker started =
          new ConnectWorker(
              process,
              "http://127.0.0.1:" + port + "/connectors/" + connector.get("name") + "/status",
              log);
      try {
        Await.until(
            "connector " + connector.get("name") + " and its task RUNNING (log: " + log + ")",
            deadline,
            () -> {
              if (!process.isAlive()) {
                throw new AssertionError("Connect worker exited; its log: " + log);
              }
              JsonNode status = started.status();
              if (status != null
                  && "FAILED".equals(status.path("tasks").path(0).path("state").asText())) {
                throw new AssertionError(
                    "connector task FAILED: " + status.path("tasks").path(0).path("trace"));
              }
              return status != null
                  && "RUNNING".equals(status.path("connector").path("state").asText())
                  && "RUNNING".equals(status.path("tasks").path(0).path("state").asText());
            });
      } catch (RuntimeException | AssertionError e) {
        started.close();
        throw e;
      }
      return started;
    }

    String connectorState() throws Exception {
      JsonNode status = status();
      return status == null ? null : status.path("connector").path("state").asText();
    }

    private JsonNode status() throws Exception {
      try {
        HttpResponse<String> response =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(statusUrl))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
      } catch (java.io.IOException e) {
        // Not listening yet.
        return null;
      }
    }

    private static Path write(Path file, Map<String, String> properties) throws Exception {
      StringBuilder text = new StringBuilder();
      properties.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
      return Files.writeString(file, text.toString());
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }

    @Override
    public String toString() {
      return "Connect worker (log " + log + ")";
    }
  }
}
