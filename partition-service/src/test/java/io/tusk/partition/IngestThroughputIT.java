package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.ops.Observability;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.testfixtures.ConfluentWire;
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures how fast rows get in, per format: one rekeyer thread on the real broker with a backlog
 * of each format, and the router alone (parse and re-key, no Kafka). A measurement, not a check:
 * run it with {@code -Dtusk.bench=true -Dit.test=IngestThroughputIT}; the figures are logged.
 */
@Tag("integration")
@Timeout(value = 1200, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
@EnabledIfSystemProperty(named = "tusk.bench", matches = "true")
class IngestThroughputIT {
  private static final Logger log = LoggerFactory.getLogger(IngestThroughputIT.class);
  private static final int ROWS = Integer.getInteger("tusk.bench.rows", 200_000);
  private static final int MEMBERS = 20_000;
  private static final Duration DEADLINE = Duration.ofSeconds(600);
  private static final Schema CLAIM =
      SchemaBuilder.record("Claim")
          .fields()
          .requiredString("PERSON_ID")
          .requiredString("CLAIM_ID")
          .requiredInt("AMOUNT")
          .requiredString("SERVICE_DATE")
          .endRecord();

  @Test
  void shouldMeasureTheRekeyerPerFormatWhenItReadsABacklog(LocalStack stack) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "bench-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    int avroId = topics.registry().register("bench-claim-" + suffix, CLAIM);
    Repos repos = new Repos();
    Map<String, Object> producerProps = settings.producer("bench-" + suffix, null);
    // One rekeyer thread alone (no member topology competing for the two cores), as in the service
    try (TopicAdmin admin = new TopicAdmin(settings);
        Observability observability = new Observability("bench");
        Rekeyer rekeyer = Rekeyer.create(settings, topics, repos, observability, 0);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps)) {
      admin.ensureSystemTopics();
      rekeyer.start();
      for (Case format : cases(avroId)) {
        RepoSpec repo = repo("bench-" + format.label() + "-" + suffix, format.format());
        admin.createRepoTopics(repo);
        String updates = TopicNames.updates(repo.getName());
        // Given a backlog of rows the rekeyer has not seen (it does not know the repo yet)
        for (int i = 0; i < ROWS; i++) {
          producer.send(
              new ProducerRecord<>(
                  updates, member(i).getBytes(StandardCharsets.UTF_8), format.rows().apply(i)));
        }
        producer.flush();

        // When the repo appears, Then the time until every row is re-keyed is the rekeyer's rate
        long start = System.nanoTime();
        repos.add(repo);
        PartitionItSupport.awaitRekeyed(admin, updates, DEADLINE);
        double seconds = (System.nanoTime() - start) / 1e9;
        log.info(
            "BENCH rekeyer {}: {} rows in {} s = {} rows/s",
            format.label(),
            ROWS,
            String.format("%.2f", seconds),
            String.format("%,.0f", ROWS / seconds));
      }
      assertThat(rekeyer.isHealthy()).isTrue();
    }
  }

  @Test
  void shouldMeasureTheRouterPerFormatWithoutKafka() {
    SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    Topics topics = new Topics(registry);
    int avroId = registry.register("bench-claim", CLAIM);
    RekeyRouter router = new RekeyRouter(topics);
    for (Case format : cases(avroId)) {
      RepoSpec repo = repo("bench", format.format());
      byte[][] values = new byte[ROWS][];
      for (int i = 0; i < ROWS; i++) {
        values[i] = format.rows().apply(i);
      }
      long start = System.nanoTime();
      long forwarded = 0;
      for (int i = 0; i < ROWS; i++) {
        ConsumerRecord<byte[], byte[]> record =
            new ConsumerRecord<>(
                "bench.updates",
                i % 3,
                i,
                0L,
                TimestampType.CREATE_TIME,
                0,
                values[i].length,
                null,
                values[i],
                new RecordHeaders(),
                Optional.empty());
        if (router.route(record, "bench", repo).outcome() == RekeyRouter.Outcome.FORWARDED) {
          forwarded++;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(forwarded).isEqualTo(ROWS);
      log.info(
          "BENCH router {}: {} rows in {} s = {} rows/s",
          format.label(),
          ROWS,
          String.format("%.2f", seconds),
          String.format("%,.0f", ROWS / seconds));
    }
  }

  /** Repos held in memory, announced to the rekeyer one by one. */
  private static final class Repos implements RepoDirectory {
    private final Map<String, RepoSpec> specs = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    void add(RepoSpec spec) {
      specs.put(spec.getName(), spec);
      listeners.forEach(Runnable::run);
    }

    @Override
    public Optional<RepoSpec> get(String repo) {
      return Optional.ofNullable(specs.get(repo));
    }

    @Override
    public Set<String> names() {
      return Set.copyOf(specs.keySet());
    }

    @Override
    public void onChange(Runnable listener) {
      listeners.add(listener);
    }
  }

  /** One measured format: its label, the repo format and its i-th row. */
  private record Case(String label, RowFormat format, IntFunction<byte[]> rows) {}

  /** The formats, CSV first twice (the first pass warms the broker and the JIT). */
  private static List<Case> cases(int avroId) {
    return List.of(
        new Case("warm-up-csv", RowFormat.CSV, IngestThroughputIT::csv),
        new Case("csv", RowFormat.CSV, IngestThroughputIT::csv),
        new Case("json", RowFormat.JSON, IngestThroughputIT::json),
        new Case("avro", RowFormat.AVRO, i -> avro(avroId, i)));
  }

  private static RepoSpec repo(String name, RowFormat format) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(format)
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
        .setUpdatePartitions(3)
        .setMemberPartitions(IngestIT.MEMBER_PARTITIONS)
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static String member(int i) {
    return String.format("P%06d", i % MEMBERS);
  }

  private static String date(int i) {
    return String.format("2019-%02d-%02d", 1 + i % 12, 1 + i % 28);
  }

  private static byte[] csv(int i) {
    return (member(i) + ",claim-" + i + "," + (i % 1000) + "," + date(i))
        .getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] json(int i) {
    return ("{\"PERSON_ID\":\""
            + member(i)
            + "\",\"CLAIM_ID\":\"claim-"
            + i
            + "\",\"AMOUNT\":"
            + (i % 1000)
            + ",\"SERVICE_DATE\":\""
            + date(i)
            + "\"}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] avro(int id, int i) {
    GenericRecord record = new GenericData.Record(CLAIM);
    record.put("PERSON_ID", member(i));
    record.put("CLAIM_ID", "claim-" + i);
    record.put("AMOUNT", i % 1000);
    record.put("SERVICE_DATE", date(i));
    return ConfluentWire.framed(id, record);
  }
}
