package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.registry.InMemorySchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryException;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.ConfluentWire;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The rekeyer's consume-transform-produce loop on a mock consumer and mock producers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RekeyerTest {
  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final List<TopicPartition> PARTITIONS =
      List.of(tp("claims", 0), tp("claims", 1), tp("claims", 2));

  private final AtomicInteger registryFailures = new AtomicInteger();
  private volatile int failingSchemaId = -1;
  // The serdes install Avro's trust in Tusk's classes, which the spec's copy below needs.
  private final Topics topics = new Topics(new FlakyRegistry());
  private RepoSpec spec =
      RepoSpec.newBuilder(TopologyFixture.spec("claims")).setMemberPartitions(2).build();
  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
  private final List<FlakyProducer> producers = new CopyOnWriteArrayList<>();
  private final Directory repos = new Directory();
  private final AtomicInteger failCommits = new AtomicInteger();
  private volatile RuntimeException commitFailure;
  private Rekeyer rekeyer;

  @AfterEach
  void tearDown() {
    if (rekeyer != null) {
      rekeyer.close();
    }
  }

  @Test
  void shouldCommitRowsBarriersAndOffsetsInOneTransactionWhenRowsArrive() {
    // Given a rekeyer assigned the three partitions of claims.updates
    start();

    // When two rows arrive at partition 0
    addRecords(0, "A,a1,10", "B,b1,20");

    // Then one transaction holds both rows, a barrier per source partition for each of the two
    // member partitions (position 2 for partition 0), and the consumed positions
    awaitTrue(() -> committedOffsets().size() >= 1 && rows().size() == 2);
    assertThat(rows()).extracting(Row::getSourceOffset).containsExactly(0L, 1L);
    awaitTrue(() -> barriers().contains(new Barrier(0, 2L)));
    assertThat(barrierRecords(0, 2L))
        .extracting(ProducerRecord::partition)
        .containsExactlyInAnyOrder(0, 1);
    assertThat(barriers()).contains(new Barrier(1, 0L), new Barrier(2, 0L));
    Map<TopicPartition, OffsetAndMetadata> last = lastOffsets();
    assertThat(last.get(PARTITIONS.get(0)).offset()).isEqualTo(2);
    assertThat(last.get(PARTITIONS.get(1)).offset()).isZero();
  }

  @Test
  void shouldSkipTheTransactionWhenNothingMoved() {
    // Given a rekeyer that committed its first barriers
    start();
    addRecord(1, 0, "A,a1,10");
    awaitTrue(() -> rows().size() == 1 && barriers().contains(new Barrier(1, 1L)));
    int commits = committedOffsets().size();
    int sent = producer().history().size();

    // When it polls several times without new records
    CountDownLatch polled = new CountDownLatch(3);
    for (int i = 0; i < 3; i++) {
      consumer.schedulePollTask(polled::countDown);
    }
    awaitTrue(() -> polled.getCount() == 0);

    // Then no transaction was committed
    assertThat(committedOffsets()).hasSize(commits);
    assertThat(producer().history()).hasSize(sent);
  }

  @Test
  void shouldSendABarrierWhenThePositionPassesATransactionMarker() {
    // Given a row at offset 0 of partition 2, already rekeyed
    start();
    addRecord(2, 0, "A,a1,10");
    awaitTrue(() -> barriers().contains(new Barrier(2, 1L)));

    // When the position moves past a commit marker at offset 1 without any record
    consumer.schedulePollTask(() -> consumer.seek(PARTITIONS.get(2), 2));

    // Then a barrier at the new position goes to every member partition
    awaitTrue(() -> barrierRecords(2, 2L).size() == 2);
    awaitTrue(() -> lastOffsets().get(PARTITIONS.get(2)).offset() == 2);
  }

  @Test
  void shouldAbortRewindAndCommitTheRowsOnceWhenACommitFails() {
    // Given a rekeyer that announced its partitions, and whose next commit fails
    start();
    awaitTrue(() -> barriers().containsAll(List.of(new Barrier(0, 0L), new Barrier(2, 0L))));
    commitFailure = new KafkaException("broker unavailable");
    failCommits.set(1);

    // When two rows arrive, are aborted, and arrive again (as the log delivers them after a seek
    // back; without the rewind the consumer's position would skip them)
    addRecords(0, "A,a1,10", "B,b1,20");
    awaitTrue(() -> producer().transactionAborted());
    addRecords(0, "A,a1,10", "B,b1,20");

    // Then the rows are committed exactly once, with the offsets after them
    awaitTrue(() -> rows().size() == 2 && lastOffsets().get(PARTITIONS.get(0)).offset() == 2);
    assertThat(rows()).extracting(Row::getSourceOffset).containsExactly(0L, 1L);
    assertThat(producers).hasSize(1);
  }

  @Test
  void shouldCommitWithANewProducerWhenTheOldOneIsFenced() {
    // Given a rekeyer that announced its partitions, and whose producer is fenced on its next
    // commit
    start();
    awaitTrue(() -> barriers().contains(new Barrier(1, 0L)));
    commitFailure = new ProducerFencedException("another instance took the transactional ID");
    failCommits.set(1);

    // When a row arrives, and again after the rewind
    addRecord(1, 0, "A,a1,10");
    awaitTrue(() -> producers.size() == 2);
    addRecord(1, 0, "A,a1,10");

    // Then the row is committed once, by the new producer
    awaitTrue(() -> rows().size() == 1 && lastOffsets().get(PARTITIONS.get(1)).offset() == 1);
    assertThat(producers.get(0).closed()).isTrue();
    assertThat(producers.get(1).history()).isNotEmpty();
  }

  @Test
  void shouldSubscribeToARepoWhenItAppearsWhileRunning() {
    // Given a running rekeyer
    start();

    // When a second repo appears
    repos.add(RepoSpec.newBuilder(spec).setName("drugs").build());

    // Then its updates topic is subscribed
    awaitTrue(() -> consumer.subscription().contains("drugs.updates"));
    assertThat(consumer.subscription()).contains("claims.updates");
  }

  @Test
  void shouldRetryARecordWithoutRejectingItWhenTheSchemaRegistryIsDown() {
    // Given an Avro repo, and a registry that fails its next two lookups
    Schema schema =
        SchemaBuilder.record("Claim")
            .fields()
            .requiredString("PERSON_ID")
            .requiredString("CLAIM_ID")
            .requiredString("AMOUNT")
            .endRecord();
    int id = topics.registry().register("claims-value", schema);
    failingSchemaId = id;
    registryFailures.set(2);
    spec = RepoSpec.newBuilder(spec).setFormat(RowFormat.AVRO).build();
    start();

    // When an Avro row arrives (and arrives again after each rewind, as the log delivers it)
    GenericRecord claim = new GenericData.Record(schema);
    claim.put("PERSON_ID", "A");
    claim.put("CLAIM_ID", "a1");
    claim.put("AMOUNT", "10");
    byte[] value = ConfluentWire.framed(id, claim);
    for (int i = 0; i < 200; i++) {
      consumer.schedulePollTask(
          () -> {
            if (consumer.position(PARTITIONS.get(0)) == 0) {
              consumer.addRecord(new ConsumerRecord<>("claims.updates", 0, 0L, null, value));
            }
          });
    }

    // Then it is forwarded once, after the registry answers, never rejected, and the thread lives
    awaitTrue(() -> rows().size() == 1);
    assertThat(registryFailures.get()).isZero();
    assertThat(history()).noneMatch(r -> r.topic().equals("claims.rejected"));
    assertThat(rekeyer.isHealthy()).isTrue();
  }

  @Test
  void shouldSubscribeToThePipelineOutputWhenADerivedRepoReadsIt() {
    // Given a running rekeyer
    start();

    // When a repo derived from pipeline risk appears
    repos.add(IngestFixtures.derived("risk-by-patient", "risk", "PATIENT", 1));

    // Then it reads risk.output, not risk-by-patient.updates
    awaitTrue(() -> consumer.subscription().contains("risk.output"));
    assertThat(consumer.subscription()).doesNotContain("risk-by-patient.updates");
  }

  @Test
  void shouldReadAnOutputAgainForARepoThatStartsReadingItAfterAnother() {
    // Given repo risk-by-a reading risk.output, which has rekeyed its first two outputs
    TopicPartition output = new TopicPartition("risk.output", 0);
    RepoSpec byA = IngestFixtures.derived("risk-by-a", "risk", "A", 1);
    RepoSpec byB = IngestFixtures.derived("risk-by-b", "risk", "B", 1);
    repos.add(byA);
    consumer.updateBeginningOffsets(Map.of(output, 0L));
    consumer.schedulePollTask(() -> consumer.rebalance(List.of(output)));
    startRekeyer();
    addOutputs(output, 0);
    awaitTrue(() -> rowsOf("risk-by-a").size() == 2 && consumer.position(output) == 2);

    // When risk-by-b starts reading the topic, and the log delivers the outputs again after the
    // rekeyer sought back
    repos.add(byB);
    awaitTrue(() -> consumer.position(output) == 0);
    addOutputs(output, 0);

    // Then risk-by-b gets both outputs (member = field B), risk-by-a none again
    awaitTrue(() -> rowsOf("risk-by-b").size() == 2);
    assertThat(rowsOf("risk-by-b"))
        .extracting(r -> r.getValues().get(1))
        .containsExactly("b0", "b1");
    assertThat(rowsOf("risk-by-a")).hasSize(2);
    // And the committed metadata keeps both repos' positions
    awaitTrue(
        () ->
            lastOffsets()
                .get(output)
                .metadata()
                .contains("risk-by-b@" + byB.getCreatedAt() + "=2"));
    assertThat(lastOffsets().get(output).metadata())
        .contains("risk-by-a@" + byA.getCreatedAt() + "=2");
  }

  private void start() {
    repos.add(spec);
    consumer.updateBeginningOffsets(
        Map.of(PARTITIONS.get(0), 0L, PARTITIONS.get(1), 0L, PARTITIONS.get(2), 0L));
    consumer.schedulePollTask(() -> consumer.rebalance(PARTITIONS));
    startRekeyer();
  }

  private void startRekeyer() {
    rekeyer =
        new Rekeyer(
            "test-rekeyer",
            () -> consumer,
            () -> {
              FlakyProducer producer = new FlakyProducer();
              producers.add(producer);
              return producer;
            },
            repos,
            topics,
            new SimpleMeterRegistry());
    rekeyer.start();
  }

  private void addRecord(int partition, long offset, String line) {
    consumer.schedulePollTask(() -> consumer.addRecord(record(partition, offset, line)));
  }

  /** Records at offsets 0, 1, ... of a partition, all returned by the same poll. */
  private void addRecords(int partition, String... lines) {
    consumer.schedulePollTask(
        () -> {
          for (int i = 0; i < lines.length; i++) {
            consumer.addRecord(record(partition, i, lines[i]));
          }
        });
  }

  /** Outputs of upstream members m0 and m1 at offsets {@code first} and {@code first + 1}. */
  private void addOutputs(TopicPartition partition, long first) {
    consumer.schedulePollTask(
        () -> {
          for (int i = 0; i < 2; i++) {
            String data = "{\"A\": \"a" + i + "\", \"B\": \"b" + i + "\"}";
            byte[] value = IngestFixtures.outputBytes(topics, "risk", "m" + i, data);
            consumer.addRecord(
                new ConsumerRecord<>(
                    partition.topic(),
                    partition.partition(),
                    first + i,
                    ("m" + i).getBytes(StandardCharsets.UTF_8),
                    value));
          }
        });
  }

  private List<Row> rowsOf(String repo) {
    return history().stream()
        .filter(r -> r.topic().equals(repo + ".by-member"))
        .map(r -> topics.byMember(repo).readValue(r.value()).getEvent())
        .filter(Row.class::isInstance)
        .map(Row.class::cast)
        .toList();
  }

  private static ConsumerRecord<byte[], byte[]> record(int partition, long offset, String line) {
    return new ConsumerRecord<>(
        "claims.updates", partition, offset, null, line.getBytes(StandardCharsets.UTF_8));
  }

  private FlakyProducer producer() {
    return producers.get(producers.size() - 1);
  }

  private List<ProducerRecord<byte[], byte[]>> history() {
    return producers.stream().flatMap(p -> p.history().stream()).toList();
  }

  private List<Object> events() {
    return history().stream()
        .filter(r -> r.topic().equals("claims.by-member"))
        .map(r -> topics.byMember("claims").readValue(r.value()).getEvent())
        .toList();
  }

  private List<Row> rows() {
    return events().stream().filter(Row.class::isInstance).map(Row.class::cast).toList();
  }

  private List<Barrier> barriers() {
    return events().stream().filter(Barrier.class::isInstance).map(Barrier.class::cast).toList();
  }

  private List<ProducerRecord<byte[], byte[]>> barrierRecords(int partition, long position) {
    Barrier barrier = new Barrier(partition, position);
    return history().stream()
        .filter(r -> r.topic().equals("claims.by-member"))
        .filter(r -> barrier.equals(topics.byMember("claims").readValue(r.value()).getEvent()))
        .toList();
  }

  private List<Map<TopicPartition, OffsetAndMetadata>> committedOffsets() {
    return producers.stream()
        .flatMap(p -> p.consumerGroupOffsetsHistory().stream())
        .flatMap(m -> m.values().stream())
        .toList();
  }

  private Map<TopicPartition, OffsetAndMetadata> lastOffsets() {
    List<Map<TopicPartition, OffsetAndMetadata>> all = committedOffsets();
    return all.isEmpty() ? Map.of() : all.get(all.size() - 1);
  }

  private static TopicPartition tp(String repo, int partition) {
    return new TopicPartition(repo + ".updates", partition);
  }

  /** Waits (checking every 10 ms) until {@code condition} holds. */
  private static void awaitTrue(BooleanSupplier condition) {
    Await.until("the condition", DEADLINE, Duration.ofMillis(10), condition::getAsBoolean);
  }

  /** A mock producer whose next commits fail as the test says. */
  private final class FlakyProducer extends MockProducer<byte[], byte[]> {
    FlakyProducer() {
      super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public void commitTransaction() {
      if (failCommits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw commitFailure;
      }
      super.commitTransaction();
    }
  }

  /** An in-memory registry whose next lookups of one schema fail as the test says. */
  private final class FlakyRegistry implements SchemaRegistryClient {
    private final InMemorySchemaRegistryClient delegate = new InMemorySchemaRegistryClient();

    @Override
    public int register(String subject, Schema schema) {
      return delegate.register(subject, schema);
    }

    @Override
    public Schema getById(int id) {
      if (id == failingSchemaId && registryFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new SchemaRegistryException("registry unavailable", 503, 50301);
      }
      return delegate.getById(id);
    }

    @Override
    public OptionalInt lookup(String subject, Schema schema) {
      return delegate.lookup(subject, schema);
    }

    @Override
    public RegisteredSchema latest(String subject) {
      return delegate.latest(subject);
    }
  }

  /** Repos held in memory. */
  private static final class Directory implements RepoDirectory {
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
}
