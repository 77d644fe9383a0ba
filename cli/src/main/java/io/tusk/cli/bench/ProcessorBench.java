package io.tusk.cli.bench;

import io.tusk.cli.Home;
import io.tusk.cli.commands.LocalRun;
import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.MemberSkip;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.processor.DatumProcessor;
import io.tusk.processor.DatumProcessorConfig;
import io.tusk.processor.examples.GiBleedInsights;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tusk bench processors}: what the datum processor costs, on a fresh local stack, with the
 * members of the OMOP GiBleed sample (about 60 rows each) cycled to the requested count:
 *
 * <ul>
 *   <li>the baseline: a bare transactional consume-produce loop copying the same datum records;
 *   <li>datums/s per transform kind (Java, long-lived worker, command per datum) from a backlog;
 *   <li>the processor's own cost: a no-op Java transform against the baseline, per datum;
 *   <li>the member side's skip decision on an unchanged member ({@link MemberObjects#apply} and
 *       {@link Hashing}), per member;
 *   <li>scaling from one processor instance to two.
 * </ul>
 *
 * Figures depend on the machine: read them as ratios to the baseline of the same run.
 */
@Command(
    name = "processors",
    description =
        "Benchmark the datum processor: datums/s per transform kind, overhead, skip cost,"
            + " scaling from 1 to 2 instances.")
public final class ProcessorBench implements Callable<Integer> {
  private static final String REPO = "bench-omop";
  private static final int PARTITIONS = 4;
  private static final Duration TIMEOUT = Duration.ofMinutes(20);
  private static final int WRITE_SLICE = 5_000;
  private static final String[] TABLES = {
    "PERSON", "CONDITION_ERA", "DRUG_ERA", "PROCEDURE_OCCURRENCE", "VISIT_OCCURRENCE", "OBSERVATION"
  };

  @Option(
      names = "--datums",
      defaultValue = "100000",
      description = "Datums per measurement (default ${DEFAULT-VALUE}).")
  int datums;

  @Option(
      names = "--command-datums",
      defaultValue = "1000",
      description =
          "Datums for the command-per-datum kind, a process each (default ${DEFAULT-VALUE}).")
  int commandDatums;

  @Option(
      names = "--data",
      description = "The OMOP CSV directory (default: <repo>/data/omop-gibleed).")
  Path data;

  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /**
   * CPU time of this JVM (broker, processors, baseline) per datum in the last measurement: unlike
   * wall time, it barely moves with other load on the machine.
   */
  private double lastCpuMicros;

  private PrintStream out;
  private KafkaSettings settings;
  private Topics topics;
  private LocalStack stack;
  private RepoSpec repo;
  private List<MemberObject> members;

  @Override
  public Integer call() throws Exception {
    out = System.out;
    Path root = Home.root();
    Path dir = data == null ? root.resolve("data/omop-gibleed") : data;
    List<LocalRun.Input> inputs = new ArrayList<>();
    for (String table : TABLES) {
      inputs.add(new LocalRun.Input(table, dir.resolve(table + ".csv")));
    }
    LocalRun.LocalRepo local = LocalRun.load(REPO, inputs, "PERSON_ID", rowKeys(), out);
    repo = local.repo();
    RepoLayout layout = new RepoLayout(repo);
    members = new ArrayList<>();
    long rows = 0;
    for (Map.Entry<String, List<Row>> entry : local.rowsByMember().entrySet()) {
      List<Row> canonical = MemberObjects.apply(List.of(), entry.getValue(), layout);
      rows += canonical.size();
      members.add(
          MemberObject.newBuilder()
              .setRepo(REPO)
              .setMember(entry.getKey())
              .setHash(Hashing.memberHash(canonical))
              .setCommitId("bench")
              .setSequence(1)
              .setRows(canonical)
              .build());
    }
    out.printf(
        "Tusk processor bench: %,d datums per run, members of the GiBleed sample (%,d members,"
            + " %.0f rows each on average) cycled, %d partitions%n",
        datums, members.size(), (double) rows / members.size(), PARTITIONS);

    SkipCost skip = skipCost(layout);
    Path home = Home.home().resolve("bench-processors");
    Home.clean(home);
    try (LocalStack started = LocalStack.start(home, LocalStack.Ports.ephemeral())) {
      stack = started;
      settings = KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "bench");
      topics = new Topics(settings.registryClient());
      try (TopicAdmin admin = new TopicAdmin(settings)) {
        admin.ensureSystemTopics();
        admin.createRepoTopics(repo);
      }
      send(topics.repos.name(), topics.repos.key(REPO), topics.repos.value(repo));

      // Warm the broker, the registry and the JIT; the first pass against a cold broker is slow.
      run("warm", java(NoopTransform.class), Math.min(datums, 10_000), 1, 2);

      double raw = rawCopy();
      double rawCpu = lastCpuMicros;
      out.printf(
          "baseline  raw consume+produce (EOS, 1 thread)        %,10.0f datums/s  (%.0f us CPU"
              + " per datum)%n",
          raw, rawCpu);
      double noop = run("noop", java(NoopTransform.class), datums, 1, 1);
      double noopCpu = lastCpuMicros;
      double overheadMicros = 1e6 / noop - 1e6 / raw;
      out.printf(
          "java      no-op transform (1 instance x 1 thread)      %,10.0f datums/s  (%.0f us CPU)"
              + " = %.2f x baseline time; overhead %.0f us/datum wall, %.0f us/datum CPU%n",
          noop, noopCpu, raw / noop, overheadMicros, noopCpu - rawCpu);
      double java = run("java", java(GiBleedInsights.class), datums, 1, 2);
      out.printf(
          "java      gibleed-insights (1 instance x 2 threads)    %,10.0f datums/s  (%.0f us CPU)%n",
          java, lastCpuMicros);
      double worker =
          run(
              "worker",
              command(root.resolve("examples/python-worker/insight_worker.py"), true),
              datums,
              1,
              2);
      out.printf(
          "worker    python insight_worker.py (1 x 2 threads)     %,10.0f datums/s  = %.2f x java%n",
          worker, worker / java);
      double command =
          run(
              "command",
              command(root.resolve("examples/python-command/insight.py"), false),
              commandDatums,
              1,
              2);
      out.printf(
          "command   python insight.py per datum (1 x 2 threads)  %,10.1f datums/s  (%,d datums;"
              + " %.1f ms each)%n",
          command, commandDatums, 2_000 / command);
      double one = run("one", java(GiBleedInsights.class), datums, 1, 1);
      double two = run("two", java(GiBleedInsights.class), datums, 2, 1);
      out.printf(
          "scaling   gibleed-insights, 1 -> 2 instances (1 thread each): %,.0f -> %,.0f datums/s"
              + " = %.2f x%n",
          one, two, two / one);
      out.printf(
          "skip      unchanged member (~%.0f rows), CPU time: %.1f us = apply %.1f + hash %.1f"
              + " us/member; MemberSkip.unchanged short-cut %.2f us/member%n",
          (double) rows / members.size(), skip.total(), skip.apply(), skip.hash(), skip.shortCut());
      out.printf(
          "targets   java overhead (CPU) <= 100 us: %s; worker >= 5,000 datums/s: %s; skip <= 5"
              + " us: %s with apply + hash, %s with the short-cut%n",
          verdict(noopCpu - rawCpu <= 100),
          verdict(worker >= 5_000),
          verdict(skip.total() <= 5),
          verdict(skip.shortCut() <= 5));
    } finally {
      Home.clean(home);
    }
    return 0;
  }

  private static String verdict(boolean met) {
    return met ? "met" : "MISSED";
  }

  private static Map<String, List<String>> rowKeys() {
    Map<String, List<String>> keys = new HashMap<>();
    keys.put("PERSON", List.of("PERSON_ID"));
    keys.put("CONDITION_ERA", List.of("CONDITION_ERA_ID"));
    keys.put("DRUG_ERA", List.of("DRUG_ERA_ID"));
    keys.put("PROCEDURE_OCCURRENCE", List.of("PROCEDURE_OCCURRENCE_ID"));
    keys.put("VISIT_OCCURRENCE", List.of("VISIT_OCCURRENCE_ID"));
    keys.put("OBSERVATION", List.of("OBSERVATION_ID"));
    return keys;
  }

  private static String java(Class<?> transform) {
    return "transform: {java: " + transform.getName() + "}\n";
  }

  private static String command(Path script, boolean worker) {
    return "transform: {cmd: [python3, '"
        + script
        + "'], worker: "
        + worker
        + "}\n"
        + "datumTimeout: 60s\n";
  }

  /** The skip decision's cost per member, split into its two parts (microseconds of CPU). */
  private record SkipCost(double apply, double hash, double shortCut) {
    double total() {
      return apply + hash;
    }
  }

  /**
   * The member side's skip decision on an unchanged member: its stored rows with a re-sent copy of
   * one of them applied ({@link MemberObjects#apply}), then the member and datum hashes and the
   * comparison with the stored one; and the same decision by {@link MemberSkip#unchanged}. Timed in
   * thread CPU time, so other load on the machine does not count; the median of rounds over every
   * member of the sample, after warm-up rounds.
   */
  private SkipCost skipCost(RepoLayout layout) {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    int rounds = 15;
    int warmUp = 10;
    double[] apply = new double[rounds];
    double[] hash = new double[rounds];
    double[] shortCut = new double[rounds];
    for (int round = 0; round < rounds + warmUp; round++) {
      List<List<Row>> applied = new ArrayList<>(members.size());
      long start = cpu.getCurrentThreadCpuTime();
      for (MemberObject member : members) {
        List<Row> current = member.getRows();
        applied.add(MemberObjects.apply(current, List.of(current.get(0)), layout));
      }
      long middle = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < members.size(); i++) {
        String stored = Hashing.datumHash("spec", members.get(i).getHash());
        if (!Hashing.datumHash("spec", Hashing.memberHash(applied.get(i))).equals(stored)) {
          throw new IllegalStateException("an unchanged member hashed differently: skip is broken");
        }
      }
      long end = cpu.getCurrentThreadCpuTime();
      for (MemberObject member : members) {
        List<Row> current = member.getRows();
        if (!MemberSkip.unchanged(current, List.of(current.get(0)), layout)) {
          throw new IllegalStateException("a re-sent row was taken for a change: skip is broken");
        }
      }
      long last = cpu.getCurrentThreadCpuTime();
      if (round >= warmUp) {
        apply[round - warmUp] = (middle - start) / 1e3 / members.size();
        hash[round - warmUp] = (end - middle) / 1e3 / members.size();
        shortCut[round - warmUp] = (last - end) / 1e3 / members.size();
      }
    }
    Arrays.sort(apply);
    Arrays.sort(hash);
    Arrays.sort(shortCut);
    return new SkipCost(apply[rounds / 2], hash[rounds / 2], shortCut[rounds / 2]);
  }

  /**
   * Runs a pipeline with {@code spec} on a backlog of {@code count} datums in {@code instances}
   * processor instances of {@code threads} threads; datums/s from the moment the group holds every
   * partition until every offset is committed.
   */
  private double run(String name, String transform, int count, int instances, int threads)
      throws Exception {
    String pipeline = "bench-" + name + "-" + Ids.newId().substring(0, 6);
    PipelineSpec spec =
        PipelineSpecs.parse(
            "name: "
                + pipeline
                + "\ninput: {repo: "
                + REPO
                + "}\n"
                + transform
                + "parallelism: "
                + PARTITIONS
                + "\n",
            System.currentTimeMillis());
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.createPipelineTopics(spec);
    }
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

  private DatumProcessorConfig config(String pipeline, String instance, int threads) {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", stack.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", instance);
    env.put("TUSK_PIPELINE", pipeline);
    env.put("TUSK_PROCESSOR_THREADS", Integer.toString(threads));
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
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
   * The baseline: one thread, a read_committed consumer and a transactional producer copying each
   * datum record to another topic, one transaction per poll with the consumed offsets.
   */
  private double rawCopy() throws Exception {
    String pipeline = "bench-raw-" + Ids.newId().substring(0, 6);
    PipelineSpec spec =
        PipelineSpecs.parse(
            "name: "
                + pipeline
                + "\ninput: {repo: "
                + REPO
                + "}\n"
                + java(NoopTransform.class)
                + "parallelism: "
                + PARTITIONS
                + "\n",
            0);
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.createPipelineTopics(spec);
    }
    writeDatums(spec, datums);
    String source = TopicNames.datums(pipeline);
    String sink = TopicNames.output(pipeline);
    String group = "bench-raw-" + pipeline;
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
      while (copied < datums && System.nanoTime() < deadline) {
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
      lastCpuMicros = (os.getProcessCpuTime() - cpuStart) / 1e3 / copied;
      return copied / ((System.nanoTime() - start) / 1e9);
    } finally {
      deleteTopics(spec);
    }
  }

  /**
   * Datums/s: from when the group first commits (every member has joined and started) until its
   * committed offsets reach the end of the datum topic.
   */
  private double awaitCommitted(String group, String topic, int count) throws Exception {
    try (Admin admin = Admin.create(settings.admin("bench-admin"))) {
      Set<TopicPartition> partitions =
          admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic).partitions().stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .collect(Collectors.toSet());
      long end =
          admin
              .listOffsets(
                  partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
              .all()
              .get()
              .values()
              .stream()
              .mapToLong(info -> info.offset())
              .sum();
      long waitStart = System.nanoTime();
      long firstDone = -1;
      long firstAt = 0;
      long waitCpu = os.getProcessCpuTime();
      long firstCpu = 0;
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        long done = Bench.committed(admin, group, partitions);
        long now = System.nanoTime();
        long cpuNow = os.getProcessCpuTime();
        if (firstDone < 0 && done > 0) {
          firstDone = done;
          firstAt = now;
          firstCpu = cpuNow;
        }
        if (done >= end) {
          // Finished at the first look: the rate over the whole wait is the best there is.
          lastCpuMicros =
              firstAt == now
                  ? (cpuNow - waitCpu) / 1e3 / done
                  : (cpuNow - firstCpu) / 1e3 / (done - firstDone);
          return firstAt == now
              ? done / ((now - waitStart) / 1e9)
              : (done - firstDone) / ((now - firstAt) / 1e9);
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
      throw new IllegalStateException(group + " did not finish " + count + " datums in " + TIMEOUT);
    }
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
