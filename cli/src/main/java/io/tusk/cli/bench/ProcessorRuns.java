package io.tusk.cli.bench;

import io.tusk.cli.local.TuskServices;
import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.member.Hashing;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.processor.DatumProcessor;
import io.tusk.processor.DatumProcessorConfig;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The measured runs of {@link ProcessorBench} on a local stack: each writes a backlog of datums
 * (the sample's members, renamed and cycled) to a new pipeline's datum topic and times how fast
 * real datum processors, or the raw baseline, get through it, in wall time and in this JVM's CPU
 * time; the pipeline's topics are deleted after.
 */
final class ProcessorRuns {
  private static final Duration TIMEOUT = Duration.ofMinutes(20);
  private static final int WRITE_SLICE = 5_000;

  /**
   * Datums per second of one run, and CPU time per datum (microseconds) of this JVM (the broker and
   * the processors) and of its child processes (the transform's workers or commands, and the
   * registry's JVM).
   */
  record Rate(double perSecond, double cpuMicros, double childCpuMicros) {}

  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private final LocalStack stack;
  private final Path home;
  private final KafkaSettings settings;
  private final Topics topics;
  private final String repo;
  private final int partitions;
  private final List<MemberObject> members;

  /**
   * Creates {@code repo}'s topics on the stack and publishes its spec; {@code home} is the stack's,
   * whose token keys the processors are given.
   */
  ProcessorRuns(
      LocalStack stack, Path home, RepoSpec repo, int partitions, List<MemberObject> members) {
    this.stack = stack;
    this.home = home;
    this.settings = KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "bench");
    this.topics = new Topics(settings.registryClient());
    this.repo = repo.getName();
    this.partitions = partitions;
    this.members = members;
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
      admin.createRepoTopics(repo);
    }
    send(topics.repos.name(), topics.repos.key(this.repo), topics.repos.value(repo));
  }

  /**
   * Runs a pipeline with {@code transform} on a backlog of {@code count} datums in {@code
   * instances} processor instances of {@code threads} threads; datums/s from the moment the group
   * holds every partition until every offset is committed.
   */
  Rate run(String name, String transform, int count, int instances, int threads) throws Exception {
    PipelineSpec spec =
        pipeline(
            "bench-" + name + "-" + Ids.newId().substring(0, 6),
            transform,
            System.currentTimeMillis());
    String pipeline = spec.getName();
    send(topics.pipelines.name(), topics.pipelines.key(pipeline), topics.pipelines.value(spec));
    writeDatums(spec, count);
    List<DatumProcessor> processors = new ArrayList<>();
    try {
      for (int i = 0; i < instances; i++) {
        processors.add(DatumProcessor.start(config(pipeline, "bench-" + i, threads)));
      }
      return awaitCommitted("tusk-processor-" + pipeline, TopicNames.datums(pipeline), count);
    } finally {
      processors.forEach(DatumProcessor::close);
      deleteTopics(spec);
    }
  }

  /**
   * The baseline: one thread, a read_committed consumer and a transactional producer copying each
   * of {@code count} datum records to another topic, one transaction per poll with the consumed
   * offsets.
   */
  Rate rawCopy(String transform, int count) throws Exception {
    PipelineSpec spec = pipeline("bench-raw-" + Ids.newId().substring(0, 6), transform, 0);
    writeDatums(spec, count);
    String source = TopicNames.datums(spec.getName());
    String sink = TopicNames.output(spec.getName());
    String group = "bench-raw-" + spec.getName();
    Map<String, Object> consumerProps = settings.consumer("bench-raw", group);
    consumerProps.put("max.poll.records", 500);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps);
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(settings.producer("bench-raw", group + "-tx"))) {
      producer.initTransactions();
      consumer.subscribe(List.of(source));
      long copied = 0;
      long start = 0;
      long cpuStart = 0;
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (copied < count && System.nanoTime() < deadline) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          continue;
        }
        if (start == 0) {
          start = System.nanoTime();
          cpuStart = os.getProcessCpuTime();
        }
        producer.beginTransaction();
        for (ConsumerRecord<byte[], byte[]> record : records) {
          producer.send(new ProducerRecord<>(sink, record.key(), record.value()));
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : records.partitions()) {
          offsets.put(partition, new OffsetAndMetadata(consumer.position(partition)));
        }
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        producer.commitTransaction();
        copied += records.count();
      }
      return new Rate(
          copied / ((System.nanoTime() - start) / 1e9),
          (os.getProcessCpuTime() - cpuStart) / 1e3 / copied,
          0);
    } finally {
      deleteTopics(spec);
    }
  }

  /** A pipeline over the repo with {@code transform} (spec lines), its topics created. */
  private PipelineSpec pipeline(String name, String transform, long createdAt) {
    PipelineSpec spec =
        PipelineSpecs.parse(
            "name: "
                + name
                + "\ninput: {repo: "
                + repo
                + "}\n"
                + transform
                + "parallelism: "
                + partitions
                + "\n",
            createdAt);
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.createPipelineTopics(spec);
    }
    return spec;
  }

  private DatumProcessorConfig config(String pipeline, String instance, int threads) {
    // As the local stack configures a processor: its token keys included (every service needs them)
    Map<String, String> env =
        TuskServices.serviceEnv(
            stack.bootstrapServers(), stack.registryUrl(), home, instance, 0, null);
    env.put(DatumProcessorConfig.PIPELINE.name(), pipeline);
    env.put(DatumProcessorConfig.THREADS.name(), Integer.toString(threads));
    return DatumProcessorConfig.from(env);
  }

  /**
   * The datums of one job over {@code count} members: the sample's members, renamed, cycled. Sent
   * in slices, each flushed, and a record whose send failed (a loaded machine can exceed the
   * delivery timeout) is sent again, so the backlog is whole.
   */
  private void writeDatums(PipelineSpec spec, int count) {
    String jobId = Ids.newId();
    var topic = topics.datums(spec.getName());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("bench-datums", null))) {
      for (int from = 0; from < count; from += WRITE_SLICE) {
        List<ProducerRecord<byte[], byte[]>> slice = new ArrayList<>();
        for (int i = from; i < Math.min(count, from + WRITE_SLICE); i++) {
          MemberObject base = members.get(i % members.size());
          String member = base.getMember() + "-" + i / members.size();
          MemberObject object = MemberObject.newBuilder(base).setMember(member).build();
          Datum datum =
              Datum.newBuilder()
                  .setPipeline(spec.getName())
                  .setJobId(jobId)
                  .setCommitId("bench")
                  .setGlobalId("bench")
                  .setDatumHash(Hashing.datumHash(spec.getSpecHash(), object.getHash() + member))
                  .setSpecHash(spec.getSpecHash())
                  .setMemberObject(object)
                  .build();
          slice.add(new ProducerRecord<>(topic.name(), topic.key(member), topic.value(datum)));
        }
        for (int round = 1; !slice.isEmpty(); round++) {
          if (round > 5) {
            throw new IllegalStateException(slice.size() + " datums could not be written");
          }
          List<ProducerRecord<byte[], byte[]>> failed = new CopyOnWriteArrayList<>();
          for (ProducerRecord<byte[], byte[]> record : slice) {
            producer.send(
                record,
                (metadata, e) -> {
                  if (e != null) {
                    failed.add(record);
                  }
                });
          }
          producer.flush();
          slice = failed;
        }
      }
    }
  }

  /**
   * Datums/s: from when the group first commits (every member has joined and started) until its
   * committed offsets reach the end of the datum topic.
   */
  private Rate awaitCommitted(String group, String topic, int count) throws Exception {
    try (Admin admin = Admin.create(settings.admin("bench-admin"))) {
      Set<TopicPartition> topicPartitions = GroupOffsets.partitions(admin, topic);
      long end = GroupOffsets.end(admin, topicPartitions);
      long waitStart = System.nanoTime();
      long firstDone = -1;
      long firstAt = 0;
      long waitCpu = os.getProcessCpuTime();
      long waitChildCpu = childCpuNanos();
      long firstCpu = 0;
      long firstChildCpu = 0;
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        long done = GroupOffsets.committed(admin, group, topicPartitions);
        long now = System.nanoTime();
        long cpuNow = os.getProcessCpuTime();
        long childCpuNow = childCpuNanos();
        if (firstDone < 0 && done > 0) {
          firstDone = done;
          firstAt = now;
          firstCpu = cpuNow;
          firstChildCpu = childCpuNow;
        }
        if (done >= end) {
          // Finished at the first look: the rate over the whole wait is the best there is.
          return firstAt == now
              ? new Rate(
                  done / ((now - waitStart) / 1e9),
                  (cpuNow - waitCpu) / 1e3 / done,
                  (childCpuNow - waitChildCpu) / 1e3 / done)
              : new Rate(
                  (done - firstDone) / ((now - firstAt) / 1e9),
                  (cpuNow - firstCpu) / 1e3 / (done - firstDone),
                  (childCpuNow - firstChildCpu) / 1e3 / (done - firstDone));
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
      throw new IllegalStateException(group + " did not finish " + count + " datums in " + TIMEOUT);
    }
  }

  /** CPU time of this JVM's live descendants (workers and the registry), nanoseconds. */
  private static long childCpuNanos() {
    return ProcessHandle.current()
        .descendants()
        .mapToLong(child -> child.info().totalCpuDuration().map(Duration::toNanos).orElse(0L))
        .sum();
  }

  private void deleteTopics(PipelineSpec spec) throws Exception {
    String name = spec.getName();
    try (Admin admin = Admin.create(settings.admin("bench-admin"))) {
      admin
          .deleteTopics(
              List.of(TopicNames.datums(name), TopicNames.output(name), TopicNames.failed(name)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
  }

  private void send(String topic, byte[] key, byte[] value) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("bench-specs", null))) {
      producer.send(new ProducerRecord<>(topic, key, value));
      producer.flush();
    }
  }
}
