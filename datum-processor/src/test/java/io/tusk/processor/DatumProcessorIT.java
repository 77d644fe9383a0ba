package io.tusk.processor;

import static io.tusk.processor.ProcessorItSupport.get;
import static io.tusk.processor.ProcessorItSupport.readCommitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.Ids;
import io.tusk.common.config.ConfigException;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.member.Hashing;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
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
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Two datum processors against a real broker and registry: exactly once, shared, failure-safe. */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class DatumProcessorIT {
  private static final Logger log = LoggerFactory.getLogger(DatumProcessorIT.class);
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final int DATUMS = 200;
  private static final int WARM_DATUMS = 2000;
  private static final int PARALLELISM = 4;

  private final String suffix = Ids.newId().substring(0, 8);

  @Test
  void shouldWriteOneOutputAndResultPerDatumWhenTwoInstancesShareAPipeline(LocalStack stack)
      throws Exception {
    // Given a repo and a pipeline of 4 datum partitions whose transform fails for one member
    String repoName = "omop-" + suffix;
    String pipeline = "gibleed-" + suffix;
    DatumProcessorConfig configA = config(stack, pipeline, "it-a-" + suffix);
    DatumProcessorConfig configB = config(stack, pipeline, "it-b-" + suffix);
    KafkaSettings settings = configA.kafka();
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = OmopFixtures.repo(repoName);
    PipelineSpec spec =
        pipelineSpec(pipeline, repoName, FailingForOneMemberTransform.class.getName());
    ProcessorItSupport.register(settings, topics, repo, spec);

    // And two processor instances with one thread each, both holding partitions of the group
    try (DatumProcessor a = DatumProcessor.start(configA);
        DatumProcessor b = DatumProcessor.start(configB)) {
      awaitGroupOfTwoWithPartitions(settings, configA.groupId());

      // When 200 datums of one job are written, the failing member's first
      String jobId = Ids.newId();
      Random random = new Random(7);
      Map<String, Datum> datums = datums(spec, repo, jobId, 1000, DATUMS, random);
      long started = System.nanoTime();
      Map<String, RecordMetadata> written = writeDatums(settings, topics, pipeline, datums);

      // Then there is exactly one result per datum, from both instances
      List<ConsumerRecord<byte[], byte[]>> resultRecords =
          readCommitted(settings, TopicNames.DATUM_RESULTS, byKey(jobId), DATUMS);
      double seconds = (System.nanoTime() - started) / 1e9;
      log.info(
          "{} datums written, processed and committed by 2 instances in {} s: {} datums/s",
          DATUMS,
          String.format("%.2f", seconds),
          String.format("%.0f", DATUMS / seconds));
      Map<String, DatumResult> results = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record : resultRecords) {
        DatumResult result = topics.datumResults.readValue(record.value());
        assertThat(results.put(result.getMember(), result)).as("duplicate result").isNull();
      }
      assertThat(results.keySet()).isEqualTo(datums.keySet());
      assertThat(
              results.values().stream()
                  .map(DatumResult::getProcessorId)
                  .collect(Collectors.toSet()))
          .containsExactlyInAnyOrder(
              configA.kafka().instanceId() + "-0", configB.kafka().instanceId() + "-0");

      // And the failing member's result is FAILED with the exception, every other one SUCCESS
      DatumResult failedResult = results.get(FailingForOneMemberTransform.FAILING_MEMBER);
      assertThat(failedResult.getState()).isEqualTo(DatumState.FAILED);
      assertThat(failedResult.getError())
          .isEqualTo("java.lang.IllegalStateException: this test transform fails for one member");
      assertThat(results.values().stream().filter(r -> r.getState() == DatumState.SUCCESS).count())
          .isEqualTo(DATUMS - 1);

      // And exactly one output per successful datum, with the datum's provenance in value and
      // headers; the failed datum's partition held later datums, which were processed too
      List<ConsumerRecord<byte[], byte[]>> outputRecords =
          readCommitted(settings, TopicNames.output(pipeline), r -> true, DATUMS - 1);
      Map<String, Output> outputs = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record : outputRecords) {
        Output output = topics.output(pipeline).readValue(record.value());
        assertThat(outputs.put(output.getMember(), output)).as("duplicate output").isNull();
        Datum datum = datums.get(output.getMember());
        assertProvenance(record, output, datum, repoName);
        assertThat(output.getOutputHash())
            .isEqualTo(results.get(output.getMember()).getOutputHash());
      }
      assertThat(outputs)
          .hasSize(DATUMS - 1)
          .doesNotContainKey(FailingForOneMemberTransform.FAILING_MEMBER);
      RecordMetadata failedAt = written.get(FailingForOneMemberTransform.FAILING_MEMBER);
      assertThat(
              written.values().stream()
                  .filter(m -> m.partition() == failedAt.partition())
                  .filter(m -> m.offset() > failedAt.offset()))
          .isNotEmpty();

      // And the failed datum's bytes are on the failed topic with the error and its provenance
      List<ConsumerRecord<byte[], byte[]>> failed =
          readCommitted(settings, TopicNames.failed(pipeline), r -> true, 1);
      assertThat(failed).hasSize(1);
      ConsumerRecord<byte[], byte[]> failedRecord = failed.get(0);
      Datum failedDatum = datums.get(FailingForOneMemberTransform.FAILING_MEMBER);
      assertThat(topics.datums(pipeline).readValue(failedRecord.value())).isEqualTo(failedDatum);
      assertThat(Headers.text(failedRecord.headers(), DatumMapper.ERROR_HEADER))
          .isEqualTo(failedResult.getError());
      assertThat(Headers.text(failedRecord.headers(), Headers.JOB_ID)).isEqualTo(jobId);
      assertThat(Headers.text(failedRecord.headers(), Headers.DATUM_HASH))
          .isEqualTo(failedDatum.getDatumHash());

      // And a second, larger job on the warm pipeline also gets exactly one result per datum
      String secondJob = Ids.newId();
      Map<String, Datum> more = datums(spec, repo, secondJob, 5000, WARM_DATUMS, random);
      long warmStarted = System.nanoTime();
      writeDatums(settings, topics, pipeline, more);
      List<ConsumerRecord<byte[], byte[]>> warmResults =
          readCommitted(settings, TopicNames.DATUM_RESULTS, byKey(secondJob), WARM_DATUMS);
      double warmSeconds = (System.nanoTime() - warmStarted) / 1e9;
      log.info(
          "{} more datums written, processed and committed in {} s: {} datums/s",
          WARM_DATUMS,
          String.format("%.2f", warmSeconds),
          String.format("%.0f", WARM_DATUMS / warmSeconds));
      assertThat(
              warmResults.stream()
                  .map(r -> topics.datumResults.readValue(r.value()).getMember())
                  .collect(Collectors.toSet()))
          .hasSize(WARM_DATUMS)
          .hasSize(warmResults.size());

      // And both instances are still healthy and count their datums in /metrics
      for (DatumProcessor processor : List.of(a, b)) {
        assertThat(get(processor.httpPort(), "/health").statusCode()).isEqualTo(200);
        assertThat(get(processor.httpPort(), "/metrics").body())
            .contains("tusk_processor_datums_total")
            .contains("tusk_processor_datums_per_second")
            .contains("kafka_consumer_fetch_manager_records_lag_max");
      }
    }
  }

  @Test
  void shouldReplaceItsProducerAndLoseNothingWhenItIsFenced(LocalStack stack) throws Exception {
    // Given a processor that has committed a first job
    String repoName = "omop-f-" + suffix;
    String pipeline = "fenced-" + suffix;
    DatumProcessorConfig config = config(stack, pipeline, "it-f-" + suffix);
    KafkaSettings settings = config.kafka();
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = OmopFixtures.repo(repoName);
    PipelineSpec spec = pipelineSpec(pipeline, repoName, GiBleedInsights.NAME);
    ProcessorItSupport.register(settings, topics, repo, spec);
    try (DatumProcessor processor = DatumProcessor.start(config)) {
      Random random = new Random(11);
      String firstJob = Ids.newId();
      writeDatums(settings, topics, pipeline, datums(spec, repo, firstJob, 2000, 50, random));
      readCommitted(settings, TopicNames.DATUM_RESULTS, byKey(firstJob), 50);

      // When another producer takes its transactional ID, and a second job arrives
      String transactionalId = config.groupId() + "-" + settings.instanceId() + "-0";
      try (KafkaProducer<byte[], byte[]> zombie =
          new KafkaProducer<>(settings.producer("datum-processor-it-fencer", transactionalId))) {
        zombie.initTransactions();
      }
      String secondJob = Ids.newId();
      Map<String, Datum> second = datums(spec, repo, secondJob, 3000, 50, random);
      writeDatums(settings, topics, pipeline, second);

      // Then the processor replaces its producer and commits every datum of the second job once
      List<ConsumerRecord<byte[], byte[]>> results =
          readCommitted(settings, TopicNames.DATUM_RESULTS, byKey(secondJob), 50);
      assertThat(
              results.stream()
                  .map(r -> topics.datumResults.readValue(r.value()).getMember())
                  .toList())
          .containsExactlyInAnyOrderElementsOf(second.keySet());
      List<ConsumerRecord<byte[], byte[]>> outputs =
          readCommitted(
              settings,
              TopicNames.output(pipeline),
              r -> secondJob.equals(Headers.text(r.headers(), Headers.JOB_ID)),
              50);
      assertThat(outputs).hasSize(50);
      assertThat(get(processor.httpPort(), "/metrics").body())
          .containsPattern("tusk_processor_retries_total\\{[^}]*\\} [1-9]");
      assertThat(get(processor.httpPort(), "/health").statusCode()).isEqualTo(200);
      // And /metrics, unlike /health, needs a token
      java.net.http.HttpResponse<String> anonymous =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://127.0.0.1:" + processor.httpPort() + "/metrics"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(anonymous.statusCode()).isEqualTo(401);
    }
  }

  @Test
  void shouldFailToStartNamingTheTransformWhenItCannotBeLoaded(LocalStack stack) {
    // Given a pipeline naming a transform that is neither registered nor a class
    String pipeline = "unknown-transform-" + suffix;
    DatumProcessorConfig config = config(stack, pipeline, "it-u-" + suffix);
    Topics topics = new Topics(config.kafka().registryClient());
    String repoName = "omop-u-" + suffix;
    ProcessorItSupport.register(
        config.kafka(),
        topics,
        OmopFixtures.repo(repoName),
        pipelineSpec(pipeline, repoName, "no-such-transform"));

    // When / Then start fails with a message naming the transform
    assertThatThrownBy(() -> DatumProcessor.start(config).close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'no-such-transform'")
        .hasMessageContaining(pipeline);
  }

  @Test
  void shouldFailToStartNamingTheKeyWhenThePipelineNeverAppears(LocalStack stack) {
    // Given a pipeline nobody created and a short wait
    Map<String, String> env = env(stack, "absent-" + suffix, "it-w-" + suffix);
    env.put("TUSK_PIPELINE_WAIT_SECONDS", "1");
    DatumProcessorConfig config = DatumProcessorConfig.from(env);

    // When / Then start fails naming TUSK_PIPELINE
    assertThatThrownBy(() -> DatumProcessor.start(config).close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_PIPELINE")
        .hasMessageContaining("absent-" + suffix);
  }

  private static void assertProvenance(
      ConsumerRecord<byte[], byte[]> record, Output output, Datum datum, String repoName) {
    assertThat(datum).as("output of an unknown member").isNotNull();
    assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(output.getMember());
    assertThat(output.getPipeline()).isEqualTo(datum.getPipeline());
    assertThat(output.getJobId()).isEqualTo(datum.getJobId());
    assertThat(output.getCommitId()).isEqualTo(datum.getCommitId());
    assertThat(output.getGlobalId()).isEqualTo(datum.getGlobalId());
    assertThat(output.getDatumHash()).isEqualTo(datum.getDatumHash());
    byte[] data = bytes(output.getData());
    assertThat(new String(data, StandardCharsets.UTF_8))
        .startsWith("{\"member\":\"" + output.getMember() + "\",");
    assertThat(output.getOutputHash()).isEqualTo(Hashing.bytesHash(data));
    assertThat(output.getInputs()).hasSize(datum.getMemberObject().getRows().size());
    assertThat(output.getInputs())
        .allSatisfy(input -> assertThat(input.getTopic()).isEqualTo(repoName + ".updates"));
    var headers = record.headers();
    assertThat(Headers.text(headers, Headers.PIPELINE)).isEqualTo(datum.getPipeline());
    assertThat(Headers.text(headers, Headers.JOB_ID)).isEqualTo(datum.getJobId());
    assertThat(Headers.text(headers, Headers.COMMIT_ID)).isEqualTo(datum.getCommitId());
    assertThat(Headers.text(headers, Headers.GLOBAL_ID)).isEqualTo(datum.getGlobalId());
    assertThat(Headers.text(headers, Headers.DATUM_HASH)).isEqualTo(datum.getDatumHash());
  }

  private static Map<String, Datum> datums(
      PipelineSpec spec, RepoSpec repo, String jobId, int firstMember, int count, Random random) {
    String commitId = Ids.newId();
    Map<String, Datum> datums = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String member = Integer.toString(firstMember + i);
      datums.put(
          member,
          ProcessorItSupport.withSpec(
              OmopFixtures.datum(
                  spec.getName(),
                  jobId,
                  commitId,
                  OmopFixtures.random(random, member).object(repo, commitId)),
              spec));
    }
    return datums;
  }

  private static Predicate<ConsumerRecord<byte[], byte[]>> byKey(String key) {
    return r -> key.equals(new String(r.key(), StandardCharsets.UTF_8));
  }

  private static Map<String, String> env(LocalStack stack, String pipeline, String instance) {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", stack.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", instance);
    env.put("TUSK_PIPELINE", pipeline);
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.put("TUSK_PIPELINE_WAIT_SECONDS", "30");
    env.putAll(TestAuth.shared().env());
    return env;
  }

  private static DatumProcessorConfig config(LocalStack stack, String pipeline, String instance) {
    return DatumProcessorConfig.from(env(stack, pipeline, instance));
  }

  private static PipelineSpec pipelineSpec(String name, String repo, String transform) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo(repo)
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName(transform).build())
        .setParallelism(PARALLELISM)
        .setSpecHash(Hashing.specHash(repo, "JAVA", transform))
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static Map<String, RecordMetadata> writeDatums(
      KafkaSettings settings, Topics topics, String pipeline, Map<String, Datum> datums)
      throws Exception {
    var topic = topics.datums(pipeline);
    Map<String, Future<RecordMetadata>> sent = new LinkedHashMap<>();
    try (KafkaProducer<byte[], byte[]> producer = producer(settings)) {
      datums.forEach(
          (member, datum) ->
              sent.put(
                  member,
                  producer.send(
                      new ProducerRecord<>(topic.name(), topic.key(member), topic.value(datum)))));
      producer.flush();
    }
    Map<String, RecordMetadata> written = new HashMap<>();
    for (var entry : sent.entrySet()) {
      written.put(entry.getKey(), entry.getValue().get());
    }
    return written;
  }

  private static KafkaProducer<byte[], byte[]> producer(KafkaSettings settings) {
    return new KafkaProducer<>(settings.producer("datum-processor-it", null));
  }

  /** Waits until the group is stable with two members that both hold partitions. */
  private static void awaitGroupOfTwoWithPartitions(KafkaSettings settings, String group) {
    try (Admin admin = Admin.create(settings.admin("datum-processor-it"))) {
      Await.until(
          "group " + group + " stable with two members holding partitions",
          DEADLINE,
          () -> {
            try {
              ConsumerGroupDescription description =
                  admin.describeConsumerGroups(List.of(group)).all().get().get(group);
              return description.groupState() == GroupState.STABLE
                  && description.members().size() == 2
                  && description.members().stream()
                      .allMatch(m -> !m.assignment().topicPartitions().isEmpty());
            } catch (Exception e) {
              return false;
            }
          });
    }
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }
}
