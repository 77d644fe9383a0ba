package io.tusk.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.RowLoader;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.TopicNames;
import io.tusk.partition.PartitionService;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The end-to-end benchmark. On a fresh local stack it loads a generated member-event table into a
 * repo and measures, in the same run and on the same rows:
 *
 * <ol>
 *   <li>raw produce and raw consume throughput (the broker's ceiling here);
 *   <li>a bare Kafka Streams {@code groupByKey().aggregate()} over the rows, exactly-once, from a
 *       backlog (the baseline a partition stage is compared with);
 *   <li>Tusk's partition stage on the same backlog: rows/s from starting the partition service on a
 *       sealed commit until that commit is complete (rekeyed, member objects built, hashed, datums
 *       emitted);
 *   <li>the full job (every member processed) and the incremental job after an update touching a
 *       small fraction of the members, both from seal to job end;
 *   <li>the bytes the update commit writes to Kafka (every topic and changelog) and those that stay
 *       once transient topics expire, against the update's rows as CSV ({@link TopicBytes}).
 * </ol>
 *
 * Figures vary with the machine: read them as ratios to the baselines measured in the same run.
 *
 * @param out where the figures go
 * @param table the generated table loaded as the first commit
 * @param updateEvery the update touches one member in this many
 * @param streamThreads Kafka Streams threads of the partition service and of the bare baseline
 * @param home the local stack's home directory
 */
public record Bench(
    PrintStream out, SyntheticTable table, int updateEvery, int streamThreads, Path home) {
  static final String REPO = "bench";
  static final String PIPELINE = "bench-summary";
  static final int PARTITIONS = 6;
  static final Duration TIMEOUT = Duration.ofMinutes(30);

  /** No byte written to any topic for this long: the services are done with a job. */
  private static final Duration QUIET = Duration.ofSeconds(3);

  /** Longest wait for the services to be quiet. */
  private static final Duration SETTLE = Duration.ofMinutes(2);

  /** Runs the benchmark and prints its figures. */
  public void run() throws Exception {
    out.printf(
        "Tusk bench: %,d members, %,d rows, update touching 1 in %d members, %d partitions,"
            + " %d stream thread(s)%n",
        table.members(), table.rows(), updateEvery, PARTITIONS, streamThreads);
    try (LocalTusk tusk = LocalTusk.start(home, Ports.ephemeral(), 2, false)) {
      KafkaSettings settings = tusk.kafkaSettings("bench");
      TuskClient client = tusk.client();
      createRepoAndPipeline(client);
      String updates = TopicNames.updates(REPO);

      // 1. Raw produce: load the table; raw consume: read it back.
      double produceRate = load(settings, table);
      double consumeRate = consumeAll(settings, updates);
      out.printf(
          "baseline  raw produce                                   %,12.0f rows/s%n", produceRate);
      out.printf(
          "baseline  raw consume                                   %,12.0f rows/s%n", consumeRate);

      // 2. Bare Kafka Streams aggregate over the same backlog, exactly-once like Tusk.
      double streamsRate = bareStreamsAggregate(settings, updates);
      out.printf(
          "baseline  bare Kafka Streams groupByKey().aggregate()   %,12.0f rows/s  (exactly-once v2, %d thread(s))%n",
          streamsRate, streamThreads);

      // 3. Tusk's partition stage on the same backlog, then the full job.
      Instant sealed = Instant.now();
      JsonNode commit1 = client.commit(REPO);
      long partitionStart = System.nanoTime();
      try (PartitionService partition =
          TuskServices.startPartitionService(
              tusk.bootstrapServers(),
              tusk.registryUrl(),
              tusk.home(),
              0,
              Map.of("TUSK_STREAM_THREADS", Integer.toString(streamThreads)))) {
        JsonNode complete = client.awaitCommitComplete(REPO, commit1.path("id").asText(), TIMEOUT);
        double partitionSeconds = (System.nanoTime() - partitionStart) / 1e9;
        double partitionRate = complete.path("stats").path("rows").asLong() / partitionSeconds;
        out.printf(
            "tusk      partition stage (rekey, member objects, hash)  %,12.0f rows/s  = %.2f x bare Streams%n",
            partitionRate, partitionRate / streamsRate);
        out.println(
            Targets.line(
                "partition stage / bare Streams",
                String.format("%.2fx", partitionRate / streamsRate),
                ">= 0.6x",
                partitionRate / streamsRate >= 0.6));
        JsonNode job1 = client.awaitJobEnd(jobOf(commit1), TIMEOUT);
        Duration full = Duration.between(sealed, Instant.now());
        printJob("full job:       ", job1, full);

        // 4. The update: a small fraction of members get new rows; what it writes to Kafka is
        // measured from the brokers' logs around it, once the services are quiet.
        try (Admin admin = Admin.create(settings.admin("bench-bytes"))) {
          TopicBytes before = TopicBytes.readSettled(admin, QUIET, SETTLE);
          Map<TopicPartition, Long> endsBefore =
              CompactedGrowth.endOffsets(admin, before.byTopic().keySet());
          UpdateSize update = new UpdateSize();
          try (RowLoader loader = new RowLoader(settings, REPO)) {
            table.forEachUpdate(
                updateEvery,
                2,
                row -> {
                  update.addRow(row);
                  loader.send(SyntheticTable.TABLE, row.member(), row.line());
                });
            loader.flush();
          }
          Instant sealed2 = Instant.now();
          JsonNode commit2 = client.commit(REPO);
          JsonNode job2 = client.awaitJobEnd(jobOf(commit2), TIMEOUT);
          Duration incremental = Duration.between(sealed2, Instant.now());
          printJob("incremental job:", job2, incremental);
          out.printf(
              "tusk      incremental / full: datums %.1f %%, wall time %.1f %%%n",
              100.0
                  * job2.path("processed").asLong()
                  / Math.max(1, job1.path("processed").asLong()),
              100.0 * incremental.toMillis() / Math.max(1, full.toMillis()));
          TopicBytes written = TopicBytes.readSettled(admin, QUIET, SETTLE).since(before);
          table.forEach(update::addExistingRow);
          Map<TopicBytes.Fate, Long> byFate = written.byFate(admin);
          printBytes(written, byFate, update);
          printCompacted(
              written,
              byFate.get(TopicBytes.Fate.KEPT),
              CompactedGrowth.since(
                  settings, endsBefore, written.topics(admin, TopicBytes.Fate.COMPACTED)),
              update);
        }
      }
    }
  }

  /**
   * What the update commit wrote to Kafka against its rows as CSV: in all (every topic and
   * changelog, against one copy of the changed members' rows, the "bytes written per
   * commit"), and what stays once the transient topics expire (against the changed rows themselves,
   * "bytes retained per commit"; an upper bound: compaction later drops the records a newer one of
   * the same key replaced).
   */
  private void printBytes(
      TopicBytes written, Map<TopicBytes.Fate, Long> byFate, UpdateSize update) {
    long retained = byFate.get(TopicBytes.Fate.KEPT) + byFate.get(TopicBytes.Fate.COMPACTED);
    out.printf(
        "baseline  update as CSV: %,d changed rows %,d bytes; the %,d changed members' rows %,d bytes%n",
        update.rows, update.rowBytes, update.members.size(), update.memberBytes);
    out.printf(
        "tusk      bytes written to Kafka by the update commit    %,12d bytes  = %.1f x the changed members' rows%n",
        written.total(), (double) written.total() / update.memberBytes);
    out.println(
        Targets.line(
            "bytes written to Kafka per commit / the changed members' rows",
            String.format("%.1fx", (double) written.total() / update.memberBytes),
            "<= 3x",
            written.total() <= 3.0 * update.memberBytes));
    out.printf(
        "tusk        of which: expire %,d, kept %,d, compacted %,d%n",
        byFate.get(TopicBytes.Fate.EXPIRES),
        byFate.get(TopicBytes.Fate.KEPT),
        byFate.get(TopicBytes.Fate.COMPACTED));
    out.printf(
        "tusk      bytes retained once transient topics expire    %,12d bytes  = %.1f x the changed rows; beyond 3x them: %,.0f bytes per changed member%n",
        retained,
        (double) retained / update.rowBytes,
        (retained - 3.0 * update.rowBytes) / update.members.size());
    written.byTopic().entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(8)
        .forEach(e -> out.printf("tusk        %-60s %,12d bytes%n", e.getKey(), e.getValue()));
  }

  /**
   * What stays of the update once the compacted topics are compacted as well: the kept topics'
   * bytes and, per compacted topic, its new records' bytes less those of the records they replace;
   * in record bytes (uncompressed, an upper bound) and scaled by the compression the brokers gave
   * the commit's records of that topic (an estimate of what they keep).
   */
  private void printCompacted(
      TopicBytes written,
      long kept,
      Map<String, CompactedGrowth.Tally> compacted,
      UpdateSize update) {
    long uncompressed = kept;
    long compressed = kept;
    for (Map.Entry<String, CompactedGrowth.Tally> topic : compacted.entrySet()) {
      uncompressed += topic.getValue().added();
      compressed += topic.getValue().compressed(written.byTopic().get(topic.getKey()));
    }
    printRetainedOnceCompacted("compressed", compressed, update);
    printRetainedOnceCompacted("uncompressed", uncompressed, update);
    compacted.entrySet().stream()
        .sorted(
            Comparator.comparingLong(
                    (Map.Entry<String, CompactedGrowth.Tally> e) ->
                        e.getValue().compressed(written.byTopic().get(e.getKey())))
                .reversed())
        .limit(6)
        .forEach(
            e ->
                out.printf(
                    "tusk        %-60s %,12d bytes (%,d uncompressed)%n",
                    e.getKey(),
                    e.getValue().compressed(written.byTopic().get(e.getKey())),
                    e.getValue().added()));
  }

  private void printRetainedOnceCompacted(String how, long retained, UpdateSize update) {
    out.printf(
        "tusk      bytes retained once compacted too, %-12s %,12d bytes  = %.1f x the changed rows; beyond 3x them: %,.0f bytes per changed member%n",
        how,
        retained,
        (double) retained / update.rowBytes,
        (retained - 3.0 * update.rowBytes) / update.members.size());
  }

  /** The update's size as CSV: its rows, and every row of the members it changes. */
  private static final class UpdateSize {
    private final Set<String> members = new HashSet<>();
    private long rows;
    private long rowBytes;
    private long memberBytes;

    void addRow(SyntheticTable.Row row) {
      members.add(row.member());
      rows++;
      rowBytes += csvBytes(row);
      memberBytes += csvBytes(row);
    }

    /** A row of the first commit: counted when its member is among the changed ones. */
    void addExistingRow(SyntheticTable.Row row) {
      if (members.contains(row.member())) {
        memberBytes += csvBytes(row);
      }
    }

    private static long csvBytes(SyntheticTable.Row row) {
      return row.line().getBytes(StandardCharsets.UTF_8).length + 1L;
    }
  }

  /** A job's counts and the time from its seal to its end. */
  private void printJob(String label, JsonNode job, Duration took) {
    out.printf(
        "tusk      %s %,9d datums processed, %,9d skipped, %8.1f s (seal -> job %s)%n",
        label,
        job.path("processed").asLong(),
        job.path("skipped").asLong(),
        took.toMillis() / 1000.0,
        job.path("state").asText());
  }

  /** Creates the benchmark repo (the generated table) and its pipeline ({@link MemberSummary}). */
  static void createRepoAndPipeline(TuskClient client) {
    createRepoAndPipeline(client, "member-summary");
  }

  /**
   * Creates the benchmark repo (the generated table) and its pipeline with the Java transform
   * {@code javaTransform} (a built-in's name or a class name).
   */
  static void createRepoAndPipeline(TuskClient client, String javaTransform) {
    client.createRepo(
        SyntheticTable.repoSpec(REPO, PARTITIONS).put("defaultTable", SyntheticTable.TABLE));
    ObjectNode pipeline = TuskClient.object().put("name", PIPELINE).put("parallelism", PARTITIONS);
    pipeline.putObject("input").put("repo", REPO);
    pipeline.putObject("transform").put("java", javaTransform);
    client.createPipeline(pipeline);
  }

  /** Produces the table to the repo, returning rows/s. */
  static double load(KafkaSettings settings, SyntheticTable table) {
    long start = System.nanoTime();
    try (RowLoader loader = new RowLoader(settings, REPO)) {
      table.forEach(row -> loader.send(null, row.member(), row.line()));
      loader.flush();
      return loader.rows() / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double consumeAll(KafkaSettings settings, String topic) {
    Map<String, Object> props = settings.consumer("bench-raw-consumer", null);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions =
          Consumers.assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long total = end.values().stream().mapToLong(Long::longValue).sum();
      long start = System.nanoTime();
      long read = 0;
      while (read < total) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        read += records.count();
      }
      return read / ((System.nanoTime() - start) / 1e9);
    }
  }

  private double bareStreamsAggregate(KafkaSettings settings, String topic) throws Exception {
    String appId = "tusk-bench-baseline";
    Map<String, Object> props =
        new HashMap<>(settings.streams(appId, home.resolve("state/bench-baseline").toString()));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, streamThreads);
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(topic, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .groupByKey()
        .aggregate(
            () -> 0L,
            (member, row, count) -> count + 1,
            Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("baseline-store")
                .withValueSerde(Serdes.Long()));
    try (Admin admin = Admin.create(settings.admin("bench-admin"))) {
      Set<TopicPartition> partitions = GroupOffsets.partitions(admin, topic);
      long rows = GroupOffsets.end(admin, partitions);
      long start = System.nanoTime();
      try (KafkaStreams streams = new KafkaStreams(builder.build(), new StreamsConfig(props))) {
        streams.start();
        Instant deadline = Instant.now().plus(TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
          long done = GroupOffsets.committed(admin, appId, partitions);
          if (done >= rows) {
            return rows / ((System.nanoTime() - start) / 1e9);
          }
          TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException(
            "the baseline Streams app did not finish within " + TIMEOUT);
      }
    }
  }

  /** The ID of the benchmark pipeline's job that {@code commit} triggered. */
  static String jobOf(JsonNode commit) {
    for (JsonNode job : commit.path("jobs")) {
      if (PIPELINE.equals(job.path("pipeline").asText())) {
        return job.path("jobId").asText();
      }
    }
    throw new IllegalStateException(
        "commit " + commit.path("id").asText() + " triggered no job of " + PIPELINE);
  }
}
