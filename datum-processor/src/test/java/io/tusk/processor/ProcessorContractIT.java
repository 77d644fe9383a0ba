package io.tusk.processor;

import static io.tusk.processor.ProcessorItSupport.get;
import static io.tusk.processor.ProcessorItSupport.readCommitted;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
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
import io.tusk.testfixtures.LocalStackExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The processor's contract with the rest of Tusk against a real broker and registry: datums run the
 * transform of their spec hash (a spec changed, or deleted and created again, while the processor
 * runs), datums sent in parts are assembled, and datums lost to retention are reported.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class ProcessorContractIT {
  private static final long SEED = 20261204L;

  private final String suffix = Ids.newId().substring(0, 8);

  @Test
  void shouldRunTheNewTransformOnDatumsOfTheNewSpecHashWhenThePipelineChangesWhileRunning(
      LocalStack stack) throws Exception {
    // Given a processor (one worker, so every datum meets the same transform) running the demo
    // transform, which has processed a first job
    Fixture f = new Fixture(stack, "update", 1, 100);
    PipelineSpec first =
        ProcessorItSupport.javaPipeline(f.pipeline, f.repoName, GiBleedInsights.class, 2);
    ProcessorItSupport.register(f.settings, f.topics, f.repo, first);
    try (DatumProcessor processor = DatumProcessor.start(f.config)) {
      Map<String, Datum> job1 = f.datums(first, 1000, 20);
      ProcessorItSupport.writeDatums(f.settings, f.topics, f.pipeline, job1);
      assertThat(f.successes(job1)).hasSize(20);

      // When the pipeline is updated to another transform, and the update job's datums follow at
      // once (they may reach the processor before its view has the new spec)
      PipelineSpec second =
          ProcessorItSupport.javaPipeline(f.pipeline, f.repoName, RowCountTransform.class, 2);
      f.writeSpec(second);
      Map<String, Datum> job2 = f.datums(second, 1000, 20);
      ProcessorItSupport.writeDatums(f.settings, f.topics, f.pipeline, job2);

      // Then every datum of the new hash carries the new transform's output under its hash
      Map<String, DatumResult> results = f.successes(job2);
      assertThat(results).hasSize(20);
      f.assertOutputsOfNewTransform(job2, results);

      // And late datums of the old hash fail at once, naming both hashes, and run nothing
      Map<String, Datum> late = f.datums(first, 2000, 3);
      ProcessorItSupport.writeDatums(f.settings, f.topics, f.pipeline, late);
      List<DatumResult> lateResults = f.results(late, 3);
      assertThat(lateResults)
          .allSatisfy(
              r -> {
                assertThat(r.getState()).isEqualTo(DatumState.FAILED);
                assertThat(r.getAttempts()).isZero();
                assertThat(r.getError())
                    .contains(first.getSpecHash())
                    .contains(second.getSpecHash());
              });
      assertThat(get(processor.httpPort(), "/health").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void shouldRunTheNewTransformWhenThePipelineIsDeletedAndCreatedAgainUnderItsName(LocalStack stack)
      throws Exception {
    // Given a processor running the demo transform, which has processed a first job
    Fixture f = new Fixture(stack, "recreate", 2, 100);
    PipelineSpec first =
        ProcessorItSupport.javaPipeline(f.pipeline, f.repoName, GiBleedInsights.class, 2);
    ProcessorItSupport.register(f.settings, f.topics, f.repo, first);
    try (DatumProcessor processor = DatumProcessor.start(f.config)) {
      Map<String, Datum> job1 = f.datums(first, 1000, 10);
      ProcessorItSupport.writeDatums(f.settings, f.topics, f.pipeline, job1);
      assertThat(f.successes(job1)).hasSize(10);

      // When the pipeline is deleted, created again with another transform, and its job starts
      f.writeSpec(null);
      PipelineSpec created =
          ProcessorItSupport.javaPipeline(f.pipeline, f.repoName, RowCountTransform.class, 2);
      f.writeSpec(created);
      Map<String, Datum> job2 = f.datums(created, 1000, 10);
      ProcessorItSupport.writeDatums(f.settings, f.topics, f.pipeline, job2);

      // Then the new pipeline's datums carry the new transform's output
      Map<String, DatumResult> results = f.successes(job2);
      assertThat(results).hasSize(10);
      f.assertOutputsOfNewTransform(job2, results);
    }
  }

  @Test
  void shouldAssembleDatumsSentInPartsBetweenOtherDatumsAcrossPolls(LocalStack stack)
      throws Exception {
    // Given a processor of one datum partition reading 2 records per poll
    Fixture f = new Fixture(stack, "parts", 1, 2);
    PipelineSpec spec =
        ProcessorItSupport.javaPipeline(f.pipeline, f.repoName, GiBleedInsights.class, 1);
    ProcessorItSupport.register(f.settings, f.topics, f.repo, spec);
    Map<String, Datum> whole = f.datums(spec, 1000, 4);
    List<Datum> datums = List.copyOf(whole.values());
    List<Datum> big = OmopFixtures.parts(datums.get(0), 4);
    List<Datum> other = OmopFixtures.parts(datums.get(1), 3);

    // When the member side writes two datums in parts, each in a transaction of its own, with a
    // whole datum from another producer between their parts
    try (DatumProcessor processor = DatumProcessor.start(f.config);
        KafkaProducer<byte[], byte[]> a = f.transactional("a");
        KafkaProducer<byte[], byte[]> b = f.transactional("b")) {
      a.beginTransaction();
      b.beginTransaction();
      f.send(a, big.get(0));
      f.send(a, big.get(1));
      f.send(b, other.get(0));
      f.send(b, datums.get(2));
      f.send(a, big.get(2));
      f.send(b, other.get(1));
      f.send(a, big.get(3));
      f.send(b, other.get(2));
      b.commitTransaction();
      a.commitTransaction();
      ProcessorItSupport.writeDatums(
          f.settings, f.topics, f.pipeline, Map.of("1003", datums.get(3)));

      // Then each datum has one result and one output, computed from all of its rows
      Map<String, DatumResult> results = f.successes(whole);
      assertThat(results).hasSize(4);
      Map<String, String> clean = ProcessorItSupport.cleanRunHashes(whole, f.repo);
      Map<String, Output> outputs = f.outputs(whole.size());
      for (Datum datum : datums) {
        String member = datum.getMemberObject().getMember();
        assertThat(outputs.get(member).getOutputHash()).as(member).isEqualTo(clean.get(member));
        assertThat(outputs.get(member).getInputs())
            .hasSize(datum.getMemberObject().getRows().size());
        assertThat(results.get(member).getOutputHash()).isEqualTo(clean.get(member));
      }
      assertThat(readCommitted(f.settings, TopicNames.failed(f.pipeline), r -> true, 0)).isEmpty();
      assertThat(get(processor.httpPort(), "/health").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void shouldReportDatumsLostToRetentionAndGoOnFromTheLogStart(LocalStack stack) throws Exception {
    // Given 30 datums of one partition, the group's committed offset at 0, and the first 10
    // deleted (as retention would) before any processor ran
    Fixture f = new Fixture(stack, "lost", 1, 100);
    PipelineSpec spec =
        ProcessorItSupport.javaPipeline(f.pipeline, f.repoName, GiBleedInsights.class, 1);
    ProcessorItSupport.register(f.settings, f.topics, f.repo, spec);
    Map<String, Datum> datums = f.datums(spec, 1000, 30);
    ProcessorItSupport.writeDatums(f.settings, f.topics, f.pipeline, datums);
    TopicPartition partition = new TopicPartition(TopicNames.datums(f.pipeline), 0);
    try (Admin admin = Admin.create(f.settings.admin("processor-contract-it"))) {
      admin
          .alterConsumerGroupOffsets(
              f.config.groupId(), Map.of(partition, new OffsetAndMetadata(0)))
          .all()
          .get(30, TimeUnit.SECONDS);
      admin
          .deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(10)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }

    // When the processor starts
    try (DatumProcessor processor = DatumProcessor.start(f.config)) {
      // Then the 20 datums left are processed, and the 10 lost ones are counted
      Map<String, Datum> kept = new LinkedHashMap<>();
      datums.entrySet().stream().skip(10).forEach(e -> kept.put(e.getKey(), e.getValue()));
      assertThat(f.successes(kept)).hasSize(20);
      assertThat(get(processor.httpPort(), "/metrics").body())
          .containsPattern("tusk_processor_datums_lost_total\\{[^}]*\\} 10\\.0");
      String jobId = datums.values().iterator().next().getJobId();
      assertThat(f.results(jobId, 20)).hasSize(20);
    }
  }

  /** One test's repo, pipeline, processor configuration and the member side's writes. */
  private final class Fixture {
    final String repoName;
    final String pipeline;
    final DatumProcessorConfig config;
    final KafkaSettings settings;
    final Topics topics;
    final RepoSpec repo;
    final Random random = new Random(SEED);

    Fixture(LocalStack stack, String name, int threads, int maxPollRecords) {
      System.out.println("seed " + SEED);
      repoName = "omop-" + name + "-" + suffix;
      pipeline = name + "-" + suffix;
      Map<String, String> env =
          ProcessorItSupport.env(
              stack.bootstrapServers(),
              stack.registryUrl(),
              pipeline,
              "it-" + name + "-" + suffix,
              threads);
      env.put("TUSK_MAX_POLL_RECORDS", Integer.toString(maxPollRecords));
      config = DatumProcessorConfig.from(env);
      settings = config.kafka();
      topics = new Topics(settings.registryClient());
      repo = OmopFixtures.repo(repoName);
    }

    /** One job's datums of {@code spec}'s hash for members first.. first+count-1. */
    Map<String, Datum> datums(PipelineSpec spec, int first, int count) {
      String jobId = Ids.newId();
      String commitId = Ids.newId();
      Map<String, Datum> datums = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        String member = Integer.toString(first + i);
        datums.put(
            member,
            ProcessorItSupport.withSpec(
                OmopFixtures.datum(
                    pipeline,
                    jobId,
                    commitId,
                    OmopFixtures.random(random, member).object(repo, commitId)),
                spec));
      }
      return datums;
    }

    /** Writes the pipeline's spec to tusk.pipelines (null: deletes it), as the commit service. */
    void writeSpec(PipelineSpec spec) {
      try (KafkaProducer<byte[], byte[]> producer = ProcessorItSupport.producer(settings)) {
        producer.send(
            new ProducerRecord<>(
                topics.pipelines.name(),
                topics.pipelines.key(pipeline),
                spec == null ? null : topics.pipelines.value(spec)));
        producer.flush();
      }
    }

    KafkaProducer<byte[], byte[]> transactional(String name) {
      KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(
              settings.producer(
                  "member-side-" + name + "-" + suffix, "member-side-" + name + "-" + suffix));
      producer.initTransactions();
      return producer;
    }

    /** Sends a datum record as the member side does: keyed by member, with its job headers. */
    void send(KafkaProducer<byte[], byte[]> producer, Datum datum) {
      var topic = topics.datums(pipeline);
      String member = datum.getMemberObject().getMember();
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(topic.name(), 0, topic.key(member), topic.value(datum));
      record.headers().add(Headers.JOB_ID, Headers.bytes(datum.getJobId()));
      record.headers().add(Headers.DATUM_HASH, Headers.bytes(datum.getDatumHash()));
      record.headers().add(Headers.REPO, Headers.bytes(datum.getMemberObject().getRepo()));
      producer.send(record);
      producer.flush(); // one at a time, so the two producers' records interleave as sent
    }

    /** Waits for one result per datum of the job and returns them; all must be SUCCESS. */
    Map<String, DatumResult> successes(Map<String, Datum> datums) {
      Map<String, DatumResult> byMember = new HashMap<>();
      for (DatumResult result : results(datums, datums.size())) {
        assertThat(byMember.put(result.getMember(), result))
            .as("a second result for member " + result.getMember())
            .isNull();
        assertThat(result.getState()).as(result.getError()).isEqualTo(DatumState.SUCCESS);
        assertThat(result.getDatumHash()).isEqualTo(datums.get(result.getMember()).getDatumHash());
      }
      assertThat(byMember.keySet()).isEqualTo(datums.keySet());
      return byMember;
    }

    List<DatumResult> results(Map<String, Datum> datums, int expected) {
      return results(datums.values().iterator().next().getJobId(), expected);
    }

    /** The job's committed results, once {@code expected} of them are there (and to the end). */
    List<DatumResult> results(String jobId, int expected) {
      Predicate<ConsumerRecord<byte[], byte[]>> ofJob =
          r -> jobId.equals(new String(r.key(), StandardCharsets.UTF_8));
      return readCommitted(settings, TopicNames.DATUM_RESULTS, ofJob, expected).stream()
          .map(r -> topics.datumResults.readValue(r.value()))
          .toList();
    }

    /** The newest output of each member. */
    Map<String, Output> outputs(int expected) {
      Map<String, Output> outputs = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record :
          readCommitted(settings, TopicNames.output(pipeline), r -> true, expected)) {
        Output output = topics.output(pipeline).readValue(record.value());
        outputs.put(output.getMember(), output);
      }
      return outputs;
    }

    /** The job's outputs are RowCountTransform's, recorded under the job's datum hashes. */
    void assertOutputsOfNewTransform(Map<String, Datum> job, Map<String, DatumResult> results) {
      String jobId = job.values().iterator().next().getJobId();
      Map<String, Output> outputs = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record :
          readCommitted(
              settings,
              TopicNames.output(pipeline),
              r -> jobId.equals(Headers.text(r.headers(), Headers.JOB_ID)),
              job.size())) {
        Output output = topics.output(pipeline).readValue(record.value());
        assertThat(outputs.put(output.getMember(), output)).isNull();
      }
      assertThat(outputs.keySet()).isEqualTo(job.keySet());
      for (Datum datum : job.values()) {
        String member = datum.getMemberObject().getMember();
        Output output = outputs.get(member);
        byte[] expected =
            RowCountTransform.output(member, datum.getMemberObject().getRows().size())
                .getBytes(StandardCharsets.UTF_8);
        assertThat(bytes(output.getData())).as(member).isEqualTo(expected);
        assertThat(output.getDatumHash()).isEqualTo(datum.getDatumHash());
        assertThat(results.get(member).getOutputHash()).isEqualTo(Hashing.bytesHash(expected));
      }
    }
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }
}
