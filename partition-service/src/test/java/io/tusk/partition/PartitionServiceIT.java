package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.commit.CommitSealer;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.member.Hashing;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.localstack.LocalStackExtension;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition service on the real broker and registry: rows (some in producer transactions, so
 * the source partitions hold transaction markers, some in an aborted transaction, some bad) are
 * re-keyed, a commit sealed by {@link CommitSealer} completes with exact stats, every member gets
 * one datum, a second commit emits only the changed members, and datum results finish the job.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class PartitionServiceIT {
  private static final Logger log = LoggerFactory.getLogger(PartitionServiceIT.class);
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final int MEMBERS = 30;

  @Test
  void shouldEmitDatumsOfChangedMembersAndFinishTheJobWhenCommitsAreSealed(
      LocalStack stack, @TempDir Path stateDir) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repoName = "it-claims-" + suffix;
    String pipelineName = "it-risk-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = repoSpec(repoName);
    PipelineSpec pipeline = pipelineSpec(pipelineName, repoName);

    try (PartitionService service = PartitionService.start(config(stack, suffix, stateDir));
        TopicAdmin admin = new TopicAdmin(settings);
        CommitSealer sealer = new CommitSealer(settings, topics, admin.admin());
        KafkaProducer<byte[], byte[]> plain =
            new KafkaProducer<>(settings.producer("it-plain-" + suffix, null))) {
      assertThat(health(service.httpPort())).isEqualTo(200);

      // Given a repo (3 update and 3 member partitions) created while the service runs, and a
      // pipeline reading it
      admin.createRepoTopics(repo);
      admin.createPipelineTopics(pipeline);
      plain
          .send(record(topics.repos.name(), topics.repos.key(repoName), topics.repos.value(repo)))
          .get();

      // And two claims per member written half by a plain producer and half in a committed
      // transaction, a transaction that is aborted, two bad rows and a CSV header line
      String updates = TopicNames.updates(repoName);
      for (int m = 0; m < MEMBERS; m++) {
        plain.send(row(updates, m, claim(m, 1, 10)));
      }
      plain.send(row(updates, 0, "PERSON_ID,CLAIM_ID,AMOUNT"));
      plain.send(row(updates, 1, "P001,only-two-fields"));
      plain.send(row(updates, 2, "\"unbalanced,quote,here"));
      plain.flush();
      try (KafkaProducer<byte[], byte[]> tx = transactional(settings, suffix + "-1")) {
        tx.beginTransaction();
        for (int m = 0; m < MEMBERS; m++) {
          tx.send(row(updates, m, claim(m, 2, 20)));
        }
        tx.commitTransaction();
        tx.beginTransaction();
        tx.send(row(updates, 0, "GHOST,g1,1"));
        tx.flush();
        tx.abortTransaction();
      }

      // When commit 1 is sealed (once the transaction markers are written: commitTransaction can
      // return before they are, and a seal covers only what is stable)
      awaitStable(admin, updates, 3);
      long started = System.nanoTime();
      Commit c1 = sealer.seal(repo, null, List.of(pipeline));

      // Then it completes with exact stats
      Commit done1 = awaitCompleted(settings, topics, c1.getId());
      double seconds1 = (System.nanoTime() - started) / 1e9;
      CommitStats stats1 = done1.getStats();
      assertThat(stats1.getRows()).isEqualTo(2L * MEMBERS);
      assertThat(stats1.getRejected()).isEqualTo(2);
      assertThat(stats1.getMembers()).isEqualTo(MEMBERS);
      assertThat(stats1.getChangedMembers()).isEqualTo(MEMBERS);
      log.info("Commit 1 ({} rows) completed {} s after its seal", stats1.getRows(), seconds1);

      // And every member got exactly one datum of the commit's job, none for the aborted row
      List<Datum> datums1 =
          readToEnd(
              settings, TopicNames.datums(pipelineName), topics.datums(pipelineName)::readValue);
      assertThat(datums1).hasSize(MEMBERS);
      assertThat(datums1)
          .extracting(d -> d.getMemberObject().getMember())
          .doesNotHaveDuplicates()
          .doesNotContain("GHOST");
      assertThat(datums1)
          .allSatisfy(
              d -> {
                assertThat(d.getCommitId()).isEqualTo(c1.getId());
                assertThat(d.getJobId()).isEqualTo(c1.getJobs().get(0).getJobId());
                assertThat(d.getMemberObject().getRows()).hasSize(2);
                assertThat(d.getDatumHash())
                    .isEqualTo(
                        Hashing.datumHash(pipeline.getSpecHash(), d.getMemberObject().getHash()));
              });

      // And the bad rows are in the rejected topic, original bytes and reasons
      List<ConsumerRecord<byte[], byte[]>> rejected =
          readRecordsToEnd(settings, TopicNames.rejected(repoName));
      assertThat(rejected).hasSize(2);
      assertThat(rejected)
          .extracting(r -> Headers.text(r.headers(), Headers.REJECT_REASON))
          .containsExactlyInAnyOrder("WRONG_FIELD_COUNT", "MALFORMED_CSV");
      assertThat(rejected)
          .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
          .containsExactlyInAnyOrder("P001,only-two-fields", "\"unbalanced,quote,here");
      assertThat(rejected)
          .allSatisfy(
              r -> assertThat(Headers.text(r.headers(), Headers.SOURCE_TOPIC)).isEqualTo(updates));

      // When commit 2 adds a claim to member 0, corrects a claim of member 1 and re-sends an
      // unchanged claim of member 2 (in a transaction)
      try (KafkaProducer<byte[], byte[]> tx = transactional(settings, suffix + "-2")) {
        tx.beginTransaction();
        tx.send(row(updates, 0, claim(0, 3, 30)));
        tx.send(row(updates, 1, claim(1, 1, 11)));
        tx.send(row(updates, 2, claim(2, 1, 10)));
        tx.commitTransaction();
      }
      awaitStable(admin, updates, 3);
      Commit c2 = sealer.seal(repo, c1, List.of(pipeline));

      // Then it completes with those counts and exactly two datums
      CommitStats stats2 = awaitCompleted(settings, topics, c2.getId()).getStats();
      assertThat(stats2.getRows()).isEqualTo(3);
      assertThat(stats2.getRejected()).isZero();
      assertThat(stats2.getMembers()).isEqualTo(MEMBERS);
      assertThat(stats2.getChangedMembers()).isEqualTo(2);
      List<Datum> datums2 =
          readToEnd(
                  settings, TopicNames.datums(pipelineName), topics.datums(pipelineName)::readValue)
              .stream()
              .filter(d -> d.getCommitId().equals(c2.getId()))
              .toList();
      assertThat(datums2)
          .extracting(d -> d.getMemberObject().getMember())
          .containsExactlyInAnyOrder(member(0), member(1));

      // When the processors report both datums of job 2 done
      String job2 = c2.getJobs().get(0).getJobId();
      for (Datum datum : datums2) {
        plain.send(
            record(
                topics.datumResults.name(),
                topics.datumResults.key(job2),
                topics.datumResults.value(result(datum))));
      }
      plain.flush();

      // Then job 2 succeeds with 2 processed and 28 skipped
      Job finished =
          awaitValue(
              settings,
              topics.jobs.name(),
              topics.jobs::readValue,
              j -> j.getId().equals(job2) && j.getState() == JobState.SUCCESS);
      assertThat(finished.getTotal()).isEqualTo(MEMBERS);
      assertThat(finished.getToProcess()).isEqualTo(2);
      assertThat(finished.getProcessed()).isEqualTo(2);
      assertThat(finished.getSkipped()).isEqualTo(MEMBERS - 2);
      assertThat(finished.getFailed()).isZero();
      assertThat(finished.getFinishedAt()).isNotNull();
      assertThat(service.isHealthy()).isTrue();
    }
  }

  @Test
  void shouldCompleteALargeCommitWhenTwoInstancesShareTheWork(
      LocalStack stack, @TempDir Path stateA, @TempDir Path stateB) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repoName = "it-load-" + suffix;
    String pipelineName = "it-load-risk-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo =
        RepoSpec.newBuilder(repoSpec(repoName))
            .setUpdatePartitions(6)
            .setMemberPartitions(6)
            .build();
    PipelineSpec pipeline = pipelineSpec(pipelineName, repoName);
    int members = 6_000;
    int rowsPerMember = 10;

    // Given two instances (small completion slices, so commits are applied in several steps)
    try (PartitionService a = PartitionService.start(config(stack, suffix + "-a", stateA, true));
        PartitionService b = PartitionService.start(config(stack, suffix + "-b", stateB, true));
        TopicAdmin admin = new TopicAdmin(settings);
        CommitSealer sealer = new CommitSealer(settings, topics, admin.admin());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(settings.producer("it-load-" + suffix, null))) {
      admin.createRepoTopics(repo);
      admin.createPipelineTopics(pipeline);
      producer
          .send(record(topics.repos.name(), topics.repos.key(repoName), topics.repos.value(repo)))
          .get();

      // And an empty first commit, which completes on the idle partitions' barriers alone once
      // both instances picked the new repo up (so the figure below excludes that rebalance)
      Commit empty = sealer.seal(repo, null, List.of(pipeline));
      CommitStats emptyStats = awaitCompleted(settings, topics, empty.getId()).getStats();
      assertThat(emptyStats.getRows()).isZero();
      assertThat(emptyStats.getMembers()).isZero();

      // When 60,000 rows of 6,000 members are written and sealed
      long started = System.nanoTime();
      String updates = TopicNames.updates(repoName);
      for (int r = 0; r < rowsPerMember; r++) {
        for (int m = 0; m < members; m++) {
          String line = String.format("M%05d,c%d,%d", m, r, m + r);
          producer.send(
              new ProducerRecord<>(updates, m % 6, null, line.getBytes(StandardCharsets.UTF_8)));
        }
      }
      producer.flush();
      double produced = (System.nanoTime() - started) / 1e9;
      Commit c1 = sealer.seal(repo, empty, List.of(pipeline));

      // Then it completes with every row and member, and each member has exactly one datum
      CommitStats stats = awaitCompleted(settings, topics, c1.getId()).getStats();
      double seconds = (System.nanoTime() - started) / 1e9;
      long rows = (long) members * rowsPerMember;
      log.info(
          "Two instances: {} rows of {} members written in {} s, commit complete {} s after the"
              + " first write: {} rows/s end to end",
          rows,
          members,
          String.format("%.2f", produced),
          String.format("%.2f", seconds),
          Math.round(rows / seconds));
      assertThat(stats.getRows()).isEqualTo(rows);
      assertThat(stats.getRejected()).isZero();
      assertThat(stats.getMembers()).isEqualTo(members);
      assertThat(stats.getChangedMembers()).isEqualTo(members);
      List<Datum> datums =
          readToEnd(
              settings, TopicNames.datums(pipelineName), topics.datums(pipelineName)::readValue);
      assertThat(datums).hasSize(members);
      assertThat(datums).extracting(d -> d.getMemberObject().getMember()).doesNotHaveDuplicates();
      assertThat(datums)
          .allSatisfy(d -> assertThat(d.getMemberObject().getRows()).hasSize(rowsPerMember));
      assertThat(a.isHealthy()).isTrue();
      assertThat(b.isHealthy()).isTrue();
    }
  }

  @Test
  void shouldDetectChangesAgainstRestoredStateAfterARestartWithAnEmptyStateDirectory(
      LocalStack stack, @TempDir Path before, @TempDir Path after) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repoName = "it-restart-" + suffix;
    String pipelineName = "it-restart-risk-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = repoSpec(repoName);
    PipelineSpec pipeline = pipelineSpec(pipelineName, repoName);
    String updates = TopicNames.updates(repoName);

    try (TopicAdmin admin = new TopicAdmin(settings);
        CommitSealer sealer = new CommitSealer(settings, topics, admin.admin());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(settings.producer("it-restart-" + suffix, null))) {
      admin.ensureSystemTopics();
      admin.createRepoTopics(repo);
      admin.createPipelineTopics(pipeline);
      producer
          .send(record(topics.repos.name(), topics.repos.key(repoName), topics.repos.value(repo)))
          .get();

      // Given commit 1 (two claims for each of 30 members) completed by one service instance, and
      // the rows of commit 2 re-keyed by it (member 3 gets a new claim, members 4 and 5 re-send
      // theirs unchanged)
      Commit c1;
      try (PartitionService first = PartitionService.start(config(stack, suffix, before))) {
        for (int m = 0; m < MEMBERS; m++) {
          producer.send(row(updates, m, claim(m, 1, 10)));
          producer.send(row(updates, m, claim(m, 2, 20)));
        }
        producer.flush();
        c1 = sealer.seal(repo, null, List.of(pipeline));
        assertThat(awaitCompleted(settings, topics, c1.getId()).getStats().getChangedMembers())
            .isEqualTo(MEMBERS);
        producer.send(row(updates, 3, claim(3, 3, 30)));
        producer.send(row(updates, 4, claim(4, 1, 10)));
        producer.send(row(updates, 5, claim(5, 2, 20)));
        producer.flush();
        awaitRekeyed(admin, updates, 3);
      }

      // When a new instance starts with an empty state directory (so every store is restored from
      // its changelog) and commit 2 is sealed
      try (PartitionService second =
          PartitionService.start(config(stack, suffix + "-restarted", after))) {
        Commit c2 = sealer.seal(repo, c1, List.of(pipeline));

        // Then only member 3 changed, and its datum holds all three claims
        CommitStats stats = awaitCompleted(settings, topics, c2.getId()).getStats();
        assertThat(stats.getRows()).isEqualTo(3);
        assertThat(stats.getMembers()).isEqualTo(MEMBERS);
        assertThat(stats.getChangedMembers()).isEqualTo(1);
        List<Datum> datums =
            readToEnd(
                    settings,
                    TopicNames.datums(pipelineName),
                    topics.datums(pipelineName)::readValue)
                .stream()
                .filter(d -> d.getCommitId().equals(c2.getId()))
                .toList();
        assertThat(datums)
            .extracting(d -> d.getMemberObject().getMember())
            .containsExactly(member(3));
        assertThat(datums.get(0).getMemberObject().getRows()).hasSize(3);
        assertThat(second.isHealthy()).isTrue();
      }
    }
  }

  /** Waits until the rekeyers' committed offsets reached the end of every source partition. */
  private static void awaitRekeyed(TopicAdmin admin, String topic, int partitions)
      throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    var end = admin.admin().listOffsets(request).all().get();
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .admin()
              .listConsumerGroupOffsets(Rekeyer.GROUP)
              .partitionsToOffsetAndMetadata()
              .get();
      if (request.keySet().stream()
          .allMatch(
              tp ->
                  committed.get(tp) != null
                      && committed.get(tp).offset() >= end.get(tp).offset())) {
        return;
      }
    }
    throw new AssertionError(topic + " was not re-keyed within " + DEADLINE);
  }

  /** Waits until every partition's last stable offset reached its end (no open transaction). */
  private static void awaitStable(TopicAdmin admin, String topic, int partitions) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      var stable =
          admin
              .admin()
              .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
              .all()
              .get();
      var end =
          admin
              .admin()
              .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
              .all()
              .get();
      if (request.keySet().stream()
          .allMatch(tp -> stable.get(tp).offset() == end.get(tp).offset())) {
        return;
      }
    }
    throw new AssertionError(topic + " did not become stable within " + DEADLINE);
  }

  private static PartitionServiceConfig config(LocalStack stack, String suffix, Path stateDir) {
    return config(stack, suffix, stateDir, false);
  }

  private static PartitionServiceConfig config(
      LocalStack stack, String suffix, Path stateDir, boolean smallSlices) {
    Map<String, String> env = new HashMap<>();
    if (smallSlices) {
      env.put("TUSK_COMPLETION_SLICE_MEMBERS", "300");
      env.put("TUSK_COMPLETION_SLICE_ROWS", "5000");
    }
    env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", stack.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", "it-" + suffix);
    env.put("TUSK_STATE_DIR", stateDir.toString());
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    return PartitionServiceConfig.from(env);
  }

  private static RepoSpec repoSpec(String name) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(RowFormat.CSV)
        .setDefaultTable("claims")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("claims")
                    .setColumns(List.of("PERSON_ID", "CLAIM_ID", "AMOUNT"))
                    .setMemberKey("PERSON_ID")
                    .setRowKey(List.of("CLAIM_ID"))
                    .build()))
        .setUpdatePartitions(3)
        .setMemberPartitions(3)
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static PipelineSpec pipelineSpec(String name, String repo) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo(repo)
        .setTransform(
            TransformSpec.newBuilder()
                .setKind(TransformKind.JAVA)
                .setName("test.Transform")
                .build())
        .setParallelism(2)
        .setSpecHash(Hashing.specHash(repo, "JAVA", "test.Transform"))
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static String member(int m) {
    return String.format("P%03d", m);
  }

  /**
   * Claim c of member m (rows of one member share a source partition, as a keyed producer does).
   */
  private static String claim(int m, int c, int amount) {
    return member(m) + ",c" + m + "-" + c + "," + amount;
  }

  private static ProducerRecord<byte[], byte[]> row(String topic, int m, String line) {
    return new ProducerRecord<>(topic, m % 3, null, line.getBytes(StandardCharsets.UTF_8));
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, byte[] key, byte[] value) {
    return new ProducerRecord<>(topic, key, value);
  }

  private static KafkaProducer<byte[], byte[]> transactional(KafkaSettings settings, String id) {
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-tx-" + id, "it-tx-" + id));
    producer.initTransactions();
    return producer;
  }

  private static DatumResult result(Datum datum) {
    return DatumResult.newBuilder()
        .setJobId(datum.getJobId())
        .setPipeline(datum.getPipeline())
        .setMember(datum.getMemberObject().getMember())
        .setDatumHash(datum.getDatumHash())
        .setState(DatumState.SUCCESS)
        .setAttempts(1)
        .setProcessorId("it")
        .setStartedAt(System.currentTimeMillis())
        .setDurationMicros(5)
        .build();
  }

  private static int health(int port) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
    return response.statusCode();
  }

  private static Commit awaitCompleted(KafkaSettings settings, Topics topics, String commitId) {
    return awaitValue(
        settings,
        topics.commits.name(),
        topics.commits::readValue,
        c -> c.getId().equals(commitId) && c.getStats() != null);
  }

  /** Reads {@code topic} from the start until a value matches, or fails at the deadline. */
  private static <V> V awaitValue(
      KafkaSettings settings, String topic, Function<byte[], V> decode, Predicate<V> match) {
    try (KafkaConsumer<byte[], byte[]> consumer = assigned(settings, topic)) {
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (record.value() == null) {
            continue;
          }
          V value = decode.apply(record.value());
          if (match.test(value)) {
            return value;
          }
        }
      }
    }
    throw new AssertionError("no matching record on " + topic + " within " + DEADLINE);
  }

  /** Every committed value of {@code topic} up to its last stable offsets. */
  private static <V> List<V> readToEnd(
      KafkaSettings settings, String topic, Function<byte[], V> decode) {
    return readRecordsToEnd(settings, topic).stream().map(r -> decode.apply(r.value())).toList();
  }

  private static List<ConsumerRecord<byte[], byte[]>> readRecordsToEnd(
      KafkaSettings settings, String topic) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = assigned(settings, topic)) {
      Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + topic + " to its end");
        }
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
      }
    }
    return records;
  }

  private static KafkaConsumer<byte[], byte[]> assigned(KafkaSettings settings, String topic) {
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("it-reader-" + UUID.randomUUID(), null));
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return consumer;
  }
}
