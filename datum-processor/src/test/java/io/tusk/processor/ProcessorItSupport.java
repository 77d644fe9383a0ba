package io.tusk.processor;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.member.Hashing;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.common.transform.MemberDatumInput;
import io.tusk.processor.examples.GiBleedInsights;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Output;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.TestAuth;
import io.tusk.testfixtures.TopicReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/** What the processor ITs share: playing the member side (specs, datums) and reading results. */
final class ProcessorItSupport {
  private static final Duration READ_DEADLINE = Duration.ofSeconds(120);

  private ProcessorItSupport() {}

  static Map<String, String> env(
      String bootstrap, String registry, String pipeline, String instance, int threads) {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_BOOTSTRAP_SERVERS", bootstrap);
    env.put("TUSK_REGISTRY_URL", registry);
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", instance);
    env.put("TUSK_PIPELINE", pipeline);
    env.put("TUSK_PROCESSOR_THREADS", Integer.toString(threads));
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.put("TUSK_PIPELINE_WAIT_SECONDS", "60");
    env.put("TUSK_MAX_POLL_RECORDS", "100");
    env.putAll(TestAuth.shared().env());
    return env;
  }

  static PipelineSpec javaPipeline(String name, String repo, Class<?> transform, int partitions) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo(repo)
        .setTransform(
            TransformSpec.newBuilder()
                .setKind(TransformKind.JAVA)
                .setName(transform.getName())
                .build())
        .setParallelism(partitions)
        .setSpecHash(Hashing.specHash(repo, "JAVA", transform.getName()))
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  /**
   * Creates the repo's and pipeline's topics and writes their specs, as the commit service does.
   */
  static void register(
      KafkaSettings settings, Topics topics, RepoSpec repo, PipelineSpec pipeline) {
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
      admin.createRepoTopics(repo);
      admin.createPipelineTopics(pipeline);
    }
    try (KafkaProducer<byte[], byte[]> producer = producer(settings)) {
      producer.send(
          new ProducerRecord<>(
              topics.repos.name(), topics.repos.key(repo.getName()), topics.repos.value(repo)));
      producer.send(
          new ProducerRecord<>(
              topics.pipelines.name(),
              topics.pipelines.key(pipeline.getName()),
              topics.pipelines.value(pipeline)));
      producer.flush();
    }
  }

  /** One job's datums of {@code spec} for {@code count} plausible members, keyed by member. */
  static Map<String, Datum> datums(PipelineSpec spec, RepoSpec repo, int count, long seed) {
    Random random = new Random(seed);
    String jobId = Ids.newId();
    String commitId = Ids.newId();
    Map<String, Datum> datums = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String member = Integer.toString(10_000 + i);
      datums.put(
          member,
          withSpec(
              OmopFixtures.datum(
                  spec.getName(),
                  jobId,
                  commitId,
                  OmopFixtures.random(random, member).object(repo, commitId)),
              spec));
    }
    return datums;
  }

  /** {@code datum} as a job of {@code spec} makes it: its spec hash and datum hash. */
  static Datum withSpec(Datum datum, PipelineSpec spec) {
    return Datum.newBuilder(datum)
        .setSpecHash(spec.getSpecHash())
        .setDatumHash(Hashing.datumHash(spec.getSpecHash(), datum.getMemberObject().getHash()))
        .build();
  }

  static void writeDatums(
      KafkaSettings settings, Topics topics, String pipeline, Map<String, Datum> datums) {
    var topic = topics.datums(pipeline);
    try (KafkaProducer<byte[], byte[]> producer = producer(settings)) {
      datums.forEach(
          (member, datum) ->
              producer.send(
                  new ProducerRecord<>(topic.name(), topic.key(member), topic.value(datum))));
      producer.flush();
    }
  }

  /** The output hash a clean run gives each member: the demo transform run here. */
  static Map<String, String> cleanRunHashes(Map<String, Datum> datums, RepoSpec repo)
      throws Exception {
    RepoLayout layout = new RepoLayout(repo);
    GiBleedInsights transform = new GiBleedInsights();
    Map<String, String> hashes = new HashMap<>();
    for (var entry : datums.entrySet()) {
      hashes.put(
          entry.getKey(),
          Hashing.bytesHash(
              transform.apply(new MemberDatumInput(entry.getValue(), layout)).data()));
    }
    return hashes;
  }

  static KafkaProducer<byte[], byte[]> producer(KafkaSettings settings) {
    return new KafkaProducer<>(settings.producer("datum-processor-it-" + Ids.newId(), null));
  }

  /**
   * Reads every record of {@code topic} with a read_committed consumer, from the beginning to the
   * last stable offsets.
   */
  static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaSettings settings, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("datum-processor-it-reader", null))) {
      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
      return TopicReader.readToEnd(consumer, Duration.ofSeconds(60));
    }
  }

  /**
   * Counts a job's committed results in the background (read_committed), so a test can act when a
   * job has progressed so far.
   */
  static final class ResultWatcher implements AutoCloseable {
    private final Set<String> members = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> lastStartByProcessor = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    ResultWatcher(KafkaSettings settings, Topics topics, String jobId) {
      thread =
          new Thread(
              () -> {
                try (KafkaConsumer<byte[], byte[]> consumer =
                    new KafkaConsumer<>(
                        settings.consumer("datum-processor-it-watcher-" + Ids.newId(), null))) {
                  String topic = TopicNames.DATUM_RESULTS;
                  List<TopicPartition> partitions =
                      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
                  while (running) {
                    for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(200))) {
                      if (jobId.equals(new String(record.key(), StandardCharsets.UTF_8))) {
                        DatumResult result = topics.datumResults.readValue(record.value());
                        members.add(result.getMember());
                        lastStartByProcessor.merge(
                            result.getProcessorId(), result.getStartedAt(), Math::max);
                      }
                    }
                  }
                }
              },
              "result-watcher");
      thread.setDaemon(true);
      thread.start();
    }

    int done() {
      return members.size();
    }

    Set<String> processors() {
      return lastStartByProcessor.keySet();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(10_000);
    }
  }

  /** Every datum of the job has exactly one result, a SUCCESS; returns them by member. */
  static Map<String, DatumResult> assertOneSuccessEach(
      KafkaSettings settings, Topics topics, Map<String, Datum> datums) {
    String jobId = datums.values().iterator().next().getJobId();
    Map<String, DatumResult> results = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record :
        readCommitted(
            settings,
            TopicNames.DATUM_RESULTS,
            r -> jobId.equals(new String(r.key(), StandardCharsets.UTF_8)),
            datums.size())) {
      DatumResult result = topics.datumResults.readValue(record.value());
      assertThat(results.put(result.getMember(), result))
          .as("a second result for member " + result.getMember())
          .isNull();
      assertThat(result.getState()).as(result.getError()).isEqualTo(DatumState.SUCCESS);
    }
    assertThat(results.keySet()).isEqualTo(datums.keySet());
    return results;
  }

  /**
   * Exactly one output per member for the job, with the clean run's hash. Reads until every
   * member's output arrived: the commit markers of one transaction reach its partitions one by one,
   * so the outputs may become readable a moment after the results the caller waited for.
   */
  static void assertOneOutputEach(
      KafkaSettings settings, Topics topics, String pipeline, Map<String, String> cleanHashes) {
    Map<String, Output> outputs = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record :
        readCommitted(settings, TopicNames.output(pipeline), r -> true, cleanHashes.size())) {
      Output output = topics.output(pipeline).readValue(record.value());
      assertThat(outputs.put(output.getMember(), output))
          .as("a second output for member " + output.getMember())
          .isNull();
      assertThat(output.getOutputHash())
          .as("output hash of member " + output.getMember())
          .isEqualTo(cleanHashes.get(output.getMember()));
    }
    assertThat(outputs.keySet()).isEqualTo(cleanHashes.keySet());
  }

  /**
   * Reads {@code topic} from the beginning with a read_committed consumer until {@code expected}
   * matching records arrived, then on to the end, so duplicates would show.
   */
  static List<ConsumerRecord<byte[], byte[]>> readCommitted(
      KafkaSettings settings,
      String topic,
      Predicate<ConsumerRecord<byte[], byte[]>> filter,
      int expected) {
    List<ConsumerRecord<byte[], byte[]>> matching = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("datum-processor-it-reader", null))) {
      Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
      Await.until(
          expected + " records read from " + topic,
          READ_DEADLINE,
          Await.NO_PAUSE,
          () -> {
            if (matching.size() < expected) {
              consumer.poll(Duration.ofMillis(200)).forEach(r -> keepIf(filter, r, matching));
            }
            return matching.size() >= expected;
          });
      // For read_committed consumers the end offsets are the last stable offsets.
      TopicReader.readToEnd(consumer, READ_DEADLINE).forEach(r -> keepIf(filter, r, matching));
    }
    return matching;
  }

  private static <T> void keepIf(Predicate<T> filter, T value, List<T> kept) {
    if (filter.test(value)) {
      kept.add(value);
    }
  }

  /** A GET with the JDK client's defaults (it tries an h2c upgrade), bounded in time. */
  /** GETs {@code path} of a processor's HTTP server as the tests' admin. */
  static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", TestAuth.shared().bearer(TestAuth.ADMIN))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }
}
