package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.commit.CommitSealer;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import io.tusk.testfixtures.ConfluentWire;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * How rows get in, on the real broker and registry with the partition service running: one repo fed
 * CSV, JSON (also by kcat, a second producer process) and Avro with one record of every reject
 * class; transactions open or aborted at seal time; and repos derived from a pipeline's outputs.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class IngestIT {
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final int PARTITIONS = 3;

  /**
   * Member partitions of every repo here: the most any IT of this JVM uses. One Kafka Streams
   * application serves every by-member topic, and its changelogs keep the partition count of the
   * largest by-member topic it first saw; a larger one later stops it (see the report).
   */
  static final int MEMBER_PARTITIONS = 6;

  @TempDir static Path stateDir;

  private static KafkaSettings settings;
  private static Topics topics;
  private static PartitionService service;
  private static TopicAdmin admin;
  private static CommitSealer sealer;
  private static KafkaProducer<byte[], byte[]> producer;

  /** The updates topic of the repo the test created last (bad records go there). */
  private String currentUpdates;

  @BeforeAll
  static void startService(LocalStack stack) {
    String instance = "it-ingest-" + UUID.randomUUID().toString().substring(0, 8);
    settings = KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), instance);
    topics = new Topics(settings.registryClient());
    service = PartitionService.start(config(stack, instance));
    admin = new TopicAdmin(settings);
    sealer = CommitSealer.activated(settings, topics, admin.admin());
    Map<String, Object> props = settings.producer(instance + "-producer", null);
    // Room for the one row over Tusk's 1 MiB limit (lz4 makes its batch small for the broker).
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
    producer = new KafkaProducer<>(props);
  }

  @AfterAll
  static void stopService() {
    producer.close();
    sealer.close();
    admin.close();
    service.close();
  }

  @Test
  void shouldCountGoodRowsOfEveryFormatAndRejectOneRecordOfEachClassWhenProducersMixFormats(
      LocalStack stack) throws Exception {
    // Given a CSV repo with typed columns AMOUNT (int) and SERVICE_DATE (date)
    RepoSpec repo = claims("it-ingest-" + suffix());
    String updates = TopicNames.updates(repo.getName());
    create(repo);
    List<Sent> bad = new ArrayList<>();

    // And good CSV rows, a header line, JSON rows and Avro rows of a schema registered under a
    // subject of the producer's choosing
    for (int m = 1; m <= 5; m++) {
      send(updates, member(m), csv(m), null);
    }
    send(updates, null, "PERSON_ID,CLAIM_ID,AMOUNT,SERVICE_DATE", null);
    for (int m = 6; m <= 8; m++) {
      send(updates, member(m), json(m), "json");
    }
    Schema claim =
        SchemaBuilder.record("Claim")
            .fields()
            .requiredString("PERSON_ID")
            .requiredString("CLAIM_ID")
            .requiredInt("AMOUNT")
            .optionalString("NOTE")
            .endRecord();
    int claimId = topics.registry().register("it-ingest-claims-" + suffix(), claim);
    for (int m = 9; m <= 10; m++) {
      GenericRecord record = new GenericData.Record(claim);
      record.put("PERSON_ID", member(m));
      record.put("CLAIM_ID", "c" + m);
      record.put("AMOUNT", m * 10);
      send(updates, member(m), ConfluentWire.framed(claimId, record), "avro");
    }

    // And one record of every reject class
    Schema anonymous = SchemaBuilder.record("Anonymous").fields().requiredInt("AMOUNT").endRecord();
    int anonymousId = topics.registry().register("it-ingest-anonymous-" + suffix(), anonymous);
    GenericRecord noMember = new GenericData.Record(anonymous);
    noMember.put("AMOUNT", 1);
    bad.add(sendBad("MALFORMED_CSV", "\"P900,c1,10,2019-01-01", null, null));
    bad.add(sendBad("WRONG_FIELD_COUNT", "P901,c1", null, null));
    bad.add(sendBad("MISSING_MEMBER_KEY", ",c1,10,2019-01-01", null, null));
    bad.add(sendBad("WRONG_TYPE", "P902,c1,ten,2019-01-01", null, null));
    bad.add(sendBad("WRONG_TYPE", "P903,c1,10,2019-02-30", null, null));
    bad.add(sendBad("ROW_TOO_LARGE", "P904,c1,10," + "x".repeat(1 << 20), null, null));
    bad.add(sendBad("INVALID_UTF8", new byte[] {'P', (byte) 0xC3, (byte) 0x28}, null, null));
    bad.add(sendBad("EMPTY_VALUE", new byte[0], null, null));
    bad.add(sendBad("UNKNOWN_TABLE", "P905,x", null, "nope"));
    bad.add(sendBad("NOT_A_JSON_OBJECT", "[1, 2]", "json", null));
    bad.add(sendBad("MALFORMED_JSON", "{\"PERSON_ID\": ", "json", null));
    bad.add(sendBad("MISSING_MEMBER_FIELD", "{\"CLAIM_ID\": \"c1\"}", "json", null));
    bad.add(sendBad("UNKNOWN_SCHEMA", ConfluentWire.framed(2_000_000_000, noMember), "avro", null));
    bad.add(
        sendBad("MISSING_MEMBER_FIELD", ConfluentWire.framed(anonymousId, noMember), "avro", null));
    bad.add(sendBad("MALFORMED_AVRO", "P906,c1,10,2019-01-01", "avro", null));
    bad.add(sendBad("UNKNOWN_FORMAT", "P907,c1,10,2019-01-01", "xml", null));

    // And JSON rows from a second producer process, kcat, with tusk.format=json on the CSV repo
    kcat(
        stack,
        updates,
        "tusk.format=json",
        List.of(member(11) + ":" + json(11), member(12) + ":" + json(12)));

    // When a commit is sealed
    awaitStable(updates);
    Commit commit = sealer.seal(repo, null, List.of());

    // Then it counts the 12 good rows and every reject
    CommitStats stats = awaitCompleted(commit.getId()).getStats();
    assertThat(stats.getRows()).isEqualTo(12);
    assertThat(stats.getRejected()).isEqualTo(bad.size());
    assertThat(stats.getMembers()).isEqualTo(12);

    // And every rejected record carries its reason, its source position and its original bytes
    List<ConsumerRecord<byte[], byte[]>> rejected = readToEnd(TopicNames.rejected(repo.getName()));
    assertThat(rejected).hasSize(bad.size());
    Map<String, Sent> bySource = new HashMap<>();
    bad.forEach(s -> bySource.put(s.partition() + "/" + s.offset(), s));
    for (ConsumerRecord<byte[], byte[]> record : rejected) {
      String source =
          Headers.text(record.headers(), Headers.SOURCE_PARTITION)
              + "/"
              + Headers.text(record.headers(), Headers.SOURCE_OFFSET);
      Sent sent = bySource.get(source);
      assertThat(sent).as("rejected record from %s", source).isNotNull();
      assertThat(Headers.text(record.headers(), Headers.REJECT_REASON))
          .as("reason of %s", source)
          .isEqualTo(sent.reason());
      assertThat(Headers.text(record.headers(), Headers.SOURCE_TOPIC)).isEqualTo(updates);
      assertThat(Headers.text(record.headers(), Headers.REJECT_DETAIL)).isNotBlank();
      if (sent.reason().equals("ROW_TOO_LARGE")) {
        assertThat(record.value()).isNull();
      } else {
        assertThat(record.value()).isEqualTo(sent.value());
      }
    }
    assertThat(rejected)
        .extracting(r -> Headers.text(r.headers(), Headers.REJECT_REASON))
        .containsExactlyInAnyOrderElementsOf(bad.stream().map(Sent::reason).toList());
  }

  @Test
  void shouldLeaveRowsOfOpenAndAbortedTransactionsOutOfACommitWhenItIsSealed() throws Exception {
    // Given a repo with three committed rows, one per partition
    RepoSpec repo = claims("it-ingest-tx-" + suffix());
    String updates = TopicNames.updates(repo.getName());
    create(repo);
    for (int p = 0; p < PARTITIONS; p++) {
      send(new ProducerRecord<>(updates, p, null, utf8(csv(p))));
    }
    try (KafkaProducer<byte[], byte[]> aborted = transactional(repo.getName() + "-aborted");
        KafkaProducer<byte[], byte[]> open = transactional(repo.getName() + "-open")) {
      // (transactional() gives them 3 minutes: the open one must outlive commit 1's completion)
      // And two rows of a transaction that was aborted
      aborted.beginTransaction();
      aborted.send(new ProducerRecord<>(updates, 0, null, utf8(csv(50))));
      aborted.send(new ProducerRecord<>(updates, 1, null, utf8(csv(51))));
      aborted.flush();
      aborted.abortTransaction();
      // And four rows of a transaction still open (written to the log, not committed)
      open.beginTransaction();
      List<RecordMetadata> openRows = new ArrayList<>();
      for (int m = 60; m < 64; m++) {
        openRows.add(open.send(new ProducerRecord<>(updates, m % 2 + 1, null, utf8(csv(m)))).get());
      }

      // When commit 1 is sealed while the transaction is open
      Commit first = sealer.seal(repo, null, List.of());

      // Then it holds the three committed rows only, and ends before the open transaction
      CommitStats stats1 = awaitCompleted(first.getId()).getStats();
      assertThat(stats1.getRows()).isEqualTo(3);
      assertThat(stats1.getRejected()).isZero();
      for (PartitionOffset end : first.getEndOffsets()) {
        openRows.stream()
            .filter(r -> r.partition() == end.getPartition())
            .forEach(r -> assertThat(end.getOffset()).isLessThanOrEqualTo(r.offset()));
      }

      // When the open transaction commits and commit 2 is sealed
      open.commitTransaction();
      awaitStable(updates);
      Commit second = sealer.seal(repo, first, List.of());

      // Then commit 2 holds the four rows of that transaction, and the aborted rows are in neither
      CommitStats stats2 = awaitCompleted(second.getId()).getStats();
      assertThat(stats2.getRows()).isEqualTo(4);
      assertThat(stats2.getRejected()).isZero();
      assertThat(stats2.getMembers()).isEqualTo(3 + 4);
    }
  }

  @Test
  void shouldRekeyAPipelinesOutputsIntoEachDerivedRepoWhenOneIsCreatedAfterTheOtherReadThem()
      throws Exception {
    // Given pipeline P's output topic with five outputs (one without PATIENT), then a tombstone of
    // m3 (its output was removed)
    String pipeline = "it-out-" + suffix();
    admin.createPipelineTopics(pipeline(pipeline));
    String outputs = TopicNames.output(pipeline);
    for (int m = 0; m < 4; m++) {
      sendOutput(pipeline, "m" + m, "{\"PATIENT\": \"p" + m + "\", \"SITE\": \"s" + m % 2 + "\"}");
    }
    sendOutput(pipeline, "m4", "{\"SITE\": \"s9\"}");
    send(new ProducerRecord<>(outputs, utf8("m3"), null));

    // And a repo derived from P by PATIENT whose rekeyer has read them all
    RepoSpec byPatient = IngestFixtures.derived(pipeline + "-by-patient", pipeline, "PATIENT", 2);
    create(byPatient);
    PartitionItSupport.awaitRekeyed(admin, outputs, DEADLINE);

    // When a second repo derived from P by SITE appears, and both are sealed
    RepoSpec bySite = IngestFixtures.derived(pipeline + "-by-site", pipeline, "SITE", 2);
    create(bySite);
    awaitStable(outputs);
    Commit patients = sealer.seal(byPatient, null, List.of());
    Commit sites = sealer.seal(bySite, null, List.of());

    // Then by PATIENT: four rows applied, the output without PATIENT rejected, and m3's row
    // deleted by its tombstone: three members
    CommitStats patientStats = awaitCompleted(patients.getId()).getStats();
    assertThat(patientStats.getRows()).isEqualTo(4);
    assertThat(patientStats.getMembers()).isEqualTo(3);
    assertThat(patientStats.getRejected()).isEqualTo(1);
    assertThat(readToEnd(TopicNames.rejected(byPatient.getName())))
        .extracting(r -> Headers.text(r.headers(), Headers.REJECT_REASON))
        .containsExactly("MISSING_MEMBER_FIELD");

    // And by SITE, though created after the outputs were consumed: five rows, m3's deleted, so
    // sites s0 (m0, m2), s1 (m1) and s9 (m4)
    CommitStats siteStats = awaitCompleted(sites.getId()).getStats();
    assertThat(siteStats.getRows()).isEqualTo(5);
    assertThat(siteStats.getMembers()).isEqualTo(3);
    assertThat(siteStats.getRejected()).isZero();

    // And the first repo got nothing twice: its next commit is empty
    Commit again = sealer.seal(byPatient, patients, List.of());
    CommitStats againStats = awaitCompleted(again.getId()).getStats();
    assertThat(againStats.getRows()).isZero();
    assertThat(againStats.getRejected()).isZero();
  }

  /** A record sent to a repo's updates topic, with the reason it must be rejected for. */
  private record Sent(String reason, int partition, long offset, byte[] value) {}

  private Sent sendBad(String reason, String value, String format, String table) throws Exception {
    return sendBad(reason, utf8(value), format, table);
  }

  private Sent sendBad(String reason, byte[] value, String format, String table) throws Exception {
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(currentUpdates, null, utf8("bad"), value);
    if (format != null) {
      record.headers().add(Headers.FORMAT, Headers.bytes(format));
    }
    if (table != null) {
      record.headers().add(Headers.TABLE, Headers.bytes(table));
    }
    RecordMetadata metadata = producer.send(record).get();
    return new Sent(reason, metadata.partition(), metadata.offset(), value);
  }

  private void send(String topic, String key, String value, String format) throws Exception {
    send(topic, key, utf8(value), format);
  }

  private void send(String topic, String key, byte[] value, String format) throws Exception {
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(topic, key == null ? null : utf8(key), value);
    if (format != null) {
      record.headers().add(Headers.FORMAT, Headers.bytes(format));
    }
    send(record);
  }

  private static void send(ProducerRecord<byte[], byte[]> record) throws Exception {
    producer.send(record).get();
  }

  private static void sendOutput(String pipeline, String member, String data) throws Exception {
    send(
        new ProducerRecord<>(
            TopicNames.output(pipeline),
            utf8(member),
            IngestFixtures.outputBytes(topics, pipeline, member, data)));
  }

  /** Creates the repo's topics and publishes its spec, as the commit service does. */
  private void create(RepoSpec repo) throws Exception {
    admin.createRepoTopics(repo);
    currentUpdates = TopicNames.updatesOf(repo);
    send(
        new ProducerRecord<>(
            topics.repos.name(), topics.repos.key(repo.getName()), topics.repos.value(repo)));
  }

  /** Produces {@code key:value} lines with kcat, a producer process outside the JVM. */
  private static void kcat(LocalStack stack, String topic, String header, List<String> lines)
      throws Exception {
    Process process =
        new ProcessBuilder(
                "kcat", "-P", "-b", stack.bootstrapServers(), "-t", topic, "-H", header, "-K:")
            .redirectErrorStream(true)
            .start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(utf8(String.join("\n", lines) + "\n"));
    }
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("kcat finished").isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as("kcat exit code; output: %s", output).isZero();
  }

  private static RepoSpec claims(String name) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(RowFormat.CSV)
        .setDefaultTable("claims")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("claims")
                    .setColumns(List.of("PERSON_ID", "CLAIM_ID", "AMOUNT", "SERVICE_DATE"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("CLAIM_ID"))
                    .setColumnTypes(Map.of("AMOUNT", "int", "SERVICE_DATE", "date"))
                    .build()))
        .setUpdatePartitions(PARTITIONS)
        .setMemberPartitions(MEMBER_PARTITIONS)
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static PipelineSpec pipeline(String name) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo("unused")
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("test.T").build())
        .setParallelism(2)
        .setSpecHash("spec-" + name)
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static String member(int m) {
    return String.format("P%03d", m);
  }

  private static String csv(int m) {
    return member(m) + ",c" + m + "," + m * 10 + ",2019-01-0" + (1 + m % 9);
  }

  private static String json(int m) {
    return "{\"PERSON_ID\": \""
        + member(m)
        + "\", \"CLAIM_ID\": \"c"
        + m
        + "\", \"AMOUNT\": "
        + m * 10
        + "}";
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  private static KafkaProducer<byte[], byte[]> transactional(String id) {
    Map<String, Object> props = settings.producer("it-tx-" + id, "it-tx-" + id);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 180_000);
    KafkaProducer<byte[], byte[]> tx = new KafkaProducer<>(props);
    tx.initTransactions();
    return tx;
  }

  private static PartitionServiceConfig config(LocalStack stack, String instance) {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", stack.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", instance);
    env.put("TUSK_STATE_DIR", stateDir.toString());
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.putAll(TestAuth.shared().env());
    return PartitionServiceConfig.from(env);
  }

  private static void awaitStable(String topic) {
    PartitionItSupport.awaitStable(admin, topic, DEADLINE);
  }

  private static Commit awaitCompleted(String commitId) {
    return PartitionItSupport.awaitCompleted(settings, topics, commitId, DEADLINE);
  }

  /** Every committed record of {@code topic} up to its end. */
  private static List<ConsumerRecord<byte[], byte[]>> readToEnd(String topic) {
    return PartitionItSupport.readToEnd(settings, topic, DEADLINE);
  }
}
