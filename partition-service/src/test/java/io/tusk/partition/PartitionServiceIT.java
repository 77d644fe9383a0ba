package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.commit.CommitSealer;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobRequest;
import io.tusk.schemas.JobState;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.json.JsonObject;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
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

  /**
   * The tests share one broker and the literal application ID, and Kafka Streams sizes the
   * changelogs of the pattern-subscribed sub-topologies by the largest by-member (row-owners) topic
   * it sees first: the largest repo of the class (6 member partitions) exists before any service
   * starts, whatever order the tests run in.
   */
  @BeforeAll
  static void createTheWidestRepoFirst(LocalStack stack) {
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "it-widest");
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
      admin.createRepoTopics(
          RepoSpec.newBuilder(repoSpec("it-widest")).setMemberPartitions(6).build());
    }
  }

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
        CommitSealer sealer = CommitSealer.activated(settings, topics, admin.admin());
        JobEndAnnouncer announcer = JobEndAnnouncer.start(settings, topics, sealer);
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
      PartitionItSupport.awaitStable(admin, updates, DEADLINE);
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
      List<Datum> datums1 = awaitDatums(settings, topics, pipelineName, c1, MEMBERS);
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
          PartitionItSupport.readToEnd(settings, TopicNames.rejected(repoName), DEADLINE);
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

      // When job 1's datums succeed (the job's end lets the pipeline's next job start)
      finish(plain, topics, datums1, Set.of());

      // And commit 2 adds a claim to member 0, corrects a claim of member 1 and re-sends an
      // unchanged claim of member 2 (in a transaction)
      try (KafkaProducer<byte[], byte[]> tx = transactional(settings, suffix + "-2")) {
        tx.beginTransaction();
        tx.send(row(updates, 0, claim(0, 3, 30)));
        tx.send(row(updates, 1, claim(1, 1, 11)));
        tx.send(row(updates, 2, claim(2, 1, 10)));
        tx.commitTransaction();
      }
      PartitionItSupport.awaitStable(admin, updates, DEADLINE);
      Commit c2 = sealer.seal(repo, c1, List.of(pipeline));

      // Then it completes with those counts and exactly two datums
      CommitStats stats2 = awaitCompleted(settings, topics, c2.getId()).getStats();
      assertThat(stats2.getRows()).isEqualTo(3);
      assertThat(stats2.getRejected()).isZero();
      assertThat(stats2.getMembers()).isEqualTo(MEMBERS);
      assertThat(stats2.getChangedMembers()).isEqualTo(2);
      List<Datum> datums2 = awaitDatums(settings, topics, pipelineName, c2, 2);
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
        CommitSealer sealer = CommitSealer.activated(settings, topics, admin.admin());
        JobEndAnnouncer announcer = JobEndAnnouncer.start(settings, topics, sealer);
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

      // When 60,000 rows of 6,000 members are written and sealed (claim IDs are unique across
      // members: a claim ID seen under another member would move that row)
      long started = System.nanoTime();
      String updates = TopicNames.updates(repoName);
      for (int r = 0; r < rowsPerMember; r++) {
        for (int m = 0; m < members; m++) {
          String line = String.format("M%05d,c%05d-%d,%d", m, m, r, m + r);
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
      List<Datum> datums = awaitDatums(settings, topics, pipelineName, c1, members);
      assertThat(datums).extracting(d -> d.getMemberObject().getMember()).doesNotHaveDuplicates();
      assertThat(datums)
          .allSatisfy(d -> assertThat(d.getMemberObject().getRows()).hasSize(rowsPerMember));
      assertThat(a.isHealthy()).isTrue();
      assertThat(b.isHealthy()).isTrue();

      // And either instance answers a query of any member, whichever holds its partition: one
      // member of each of the 6 partitions, read from both, gives the same rows
      Map<Integer, String> onePerPartition = new TreeMap<>();
      for (int m = 0; onePerPartition.size() < 6; m++) {
        String member = String.format("M%05d", m);
        onePerPartition.putIfAbsent(MemberQueries.partitionOf(member, 6), member);
      }
      for (String member : onePerPartition.values()) {
        String path = "/repos/" + repoName + "/members/" + member;
        HttpResponse<String> fromA = eventuallyOk("http://127.0.0.1:" + a.httpPort() + path);
        HttpResponse<String> fromB = eventuallyOk("http://127.0.0.1:" + b.httpPort() + path);
        assertThat(new JsonObject(fromA.body()).getJsonArray("rows")).hasSize(rowsPerMember);
        assertThat(new JsonObject(fromB.body())).isEqualTo(new JsonObject(fromA.body()));
        String diffPath =
            "/repos/"
                + repoName
                + "/diff/"
                + member
                + "?from="
                + empty.getId()
                + "&to="
                + c1.getId();
        assertThat(
                new JsonObject(eventuallyOk("http://127.0.0.1:" + b.httpPort() + diffPath).body())
                    .getJsonArray("added"))
            .hasSize(rowsPerMember);
      }

      // And a diff read from either instance in pages of 1,000 lists every member once, in key
      // order, with the counts of the whole diff on its first page
      for (PartitionService instance : List.of(a, b)) {
        List<String> listed = new ArrayList<>();
        String after = null;
        JsonObject first = null;
        do {
          JsonObject page =
              new JsonObject(
                  eventuallyOk(
                          "http://127.0.0.1:"
                              + instance.httpPort()
                              + "/repos/"
                              + repoName
                              + "/diff?from="
                              + empty.getId()
                              + "&to="
                              + c1.getId()
                              + "&limit=1000"
                              + (after == null ? "" : "&after=" + after))
                      .body());
          first = first == null ? page : first;
          page.getJsonArray("members")
              .forEach(entry -> listed.add(((JsonObject) entry).getString("member")));
          after = page.getString("next");
        } while (after != null);
        assertThat(first.getLong("added")).isEqualTo(members);
        assertThat(first.getLong("changed")).isZero();
        assertThat(listed).hasSize(members).doesNotHaveDuplicates().isSorted();
      }
    }
  }

  /** GETs {@code uri} until it answers 200 (503 while partitions move), and returns the answer. */
  private static HttpResponse<String> eventuallyOk(String uri) {
    return Await.until(
        "GET " + uri,
        DEADLINE,
        () -> get(uri),
        response -> {
          assertThat(response.statusCode()).as(response.body()).isIn(200, 503);
          return response.statusCode() == 200;
        });
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
        CommitSealer sealer = CommitSealer.activated(settings, topics, admin.admin());
        JobEndAnnouncer announcer = JobEndAnnouncer.start(settings, topics, sealer);
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
        finish(
            producer, topics, awaitDatums(settings, topics, pipelineName, c1, MEMBERS), Set.of());
        producer.send(row(updates, 3, claim(3, 3, 30)));
        producer.send(row(updates, 4, claim(4, 1, 10)));
        producer.send(row(updates, 5, claim(5, 2, 20)));
        producer.flush();
        PartitionItSupport.awaitRekeyed(admin, updates, DEADLINE);
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
        List<Datum> datums = awaitDatums(settings, topics, pipelineName, c2, 1);
        assertThat(datums)
            .extracting(d -> d.getMemberObject().getMember())
            .containsExactly(member(3));
        assertThat(datums.get(0).getMemberObject().getRows()).hasSize(3);
        assertThat(second.isHealthy()).isTrue();
      }
    }
  }

  @Test
  void shouldRetryFailedDatumsAndRunAFullJobOverUnsucceededDatumsWhenJobsEnd(
      LocalStack stack, @TempDir Path stateDir) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repoName = "it-jobs-" + suffix;
    String pipelineName = "it-jobs-risk-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = repoSpec(repoName);
    PipelineSpec pipeline = pipelineSpec(pipelineName, repoName);
    String updates = TopicNames.updates(repoName);
    int members = 10;

    try (PartitionService service = PartitionService.start(config(stack, suffix, stateDir));
        TopicAdmin admin = new TopicAdmin(settings);
        CommitSealer sealer = CommitSealer.activated(settings, topics, admin.admin());
        JobEndAnnouncer announcer = JobEndAnnouncer.start(settings, topics, sealer);
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(settings.producer("it-jobs-" + suffix, null))) {
      admin.createRepoTopics(repo);
      admin.createPipelineTopics(pipeline);
      producer
          .send(record(topics.repos.name(), topics.repos.key(repoName), topics.repos.value(repo)))
          .get();

      // Given commit 1 of ten members whose datums succeed except member 5's
      for (int m = 0; m < members; m++) {
        producer.send(row(updates, m, claim(m, 1, 10)));
      }
      producer.flush();
      Commit c1 = sealer.seal(repo, null, List.of(pipeline));
      List<Datum> datums1 = awaitDatums(settings, topics, pipelineName, c1, members);
      finish(producer, topics, datums1, Set.of(member(5)));
      assertThat(awaitJob(settings, topics, jobOf(c1), JobState.FAILURE).getFailed()).isEqualTo(1);

      // When commit 2 changes members 0 and 1
      producer.send(row(updates, 0, claim(0, 2, 20)));
      producer.send(row(updates, 1, claim(1, 2, 20)));
      producer.flush();
      Commit c2 = sealer.seal(repo, c1, List.of(pipeline));

      // Then its job processes them and retries member 5's failed datum, unchanged
      List<Datum> datums2 = awaitDatums(settings, topics, pipelineName, c2, 3);
      assertThat(datums2)
          .extracting(d -> d.getMemberObject().getMember())
          .containsExactlyInAnyOrder(member(0), member(1), member(5));
      String failedHash =
          datums1.stream()
              .filter(d -> d.getMemberObject().getMember().equals(member(5)))
              .findFirst()
              .orElseThrow()
              .getDatumHash();
      assertThat(datums2)
          .filteredOn(d -> d.getMemberObject().getMember().equals(member(5)))
          .extracting(Datum::getDatumHash)
          .containsExactly(failedHash);

      // When member 1's new datum fails, the others succeed, and a FULL job over commit 2 is
      // requested (as a branch move does)
      finish(producer, topics, datums2, Set.of(member(1)));
      awaitJob(settings, topics, jobOf(c2), JobState.FAILURE);
      String fullJob = "full-" + suffix;
      requestJob(producer, topics, repo, c2, pipeline, fullJob, JobMode.FULL);

      // Then the FULL job emits only the datum without a success, and counts the rest skipped
      List<Datum> full = awaitDatumsOfJob(settings, topics, pipelineName, fullJob, 1);
      assertThat(full.get(0).getMemberObject().getMember()).isEqualTo(member(1));
      assertThat(full.get(0).getMode()).isEqualTo(JobMode.FULL);
      finish(producer, topics, full, Set.of());
      Job done = awaitJob(settings, topics, fullJob, JobState.SUCCESS);
      assertThat(done.getTotal()).isEqualTo(members);
      assertThat(done.getToProcess()).isEqualTo(1);
      assertThat(done.getSkipped()).isEqualTo(members - 1);
      assertThat(done.getMode()).isEqualTo(JobMode.FULL);
      assertThat(service.isHealthy()).isTrue();
    }
  }

  @Test
  void shouldAnswerHistoryQueriesAndMoveARowWhenCommitsChangeMembers(
      LocalStack stack, @TempDir Path stateDir) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repoName = "it-history-" + suffix;
    String pipelineName = "it-history-risk-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo = repoSpec(repoName);
    RepoLayout layout = new RepoLayout(repo);
    PipelineSpec pipeline = pipelineSpec(pipelineName, repoName);
    String updates = TopicNames.updates(repoName);
    int members = 10;
    Map<String, List<Row>> written = new HashMap<>();

    try (PartitionService service = PartitionService.start(config(stack, suffix, stateDir));
        TopicAdmin admin = new TopicAdmin(settings);
        CommitSealer sealer = CommitSealer.activated(settings, topics, admin.admin());
        JobEndAnnouncer announcer = JobEndAnnouncer.start(settings, topics, sealer);
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(settings.producer("it-history-" + suffix, null))) {
      admin.createRepoTopics(repo);
      admin.createPipelineTopics(pipeline);
      producer
          .send(record(topics.repos.name(), topics.repos.key(repoName), topics.repos.value(repo)))
          .get();
      String base = "http://127.0.0.1:" + service.httpPort() + "/repos/" + repoName;

      // Given commit 1: ten members with two claims each, their datums processed
      for (int m = 0; m < members; m++) {
        write(producer, updates, written, m, claim(m, 1, 10));
        write(producer, updates, written, m, claim(m, 2, 20));
      }
      producer.flush();
      Commit c1 = sealer.seal(repo, null, List.of(pipeline));
      finish(producer, topics, awaitDatums(settings, topics, pipelineName, c1, members), Set.of());
      Map<String, List<Row>> asOfC1 = copy(written);

      // When commit 2 adds a claim to member 0, corrects one of member 1, adds member 10, and
      // gives member 8 the claim c7-1 that member 7 had (a row move)
      write(producer, updates, written, 0, claim(0, 3, 30));
      write(producer, updates, written, 1, claim(1, 1, 11));
      write(producer, updates, written, 10, claim(10, 1, 5));
      write(producer, updates, written, 8, member(8) + ",c7-1,70");
      producer.flush();
      Commit c2 = sealer.seal(repo, c1, List.of(pipeline));

      // Then commit 2's job emits the datums of both members of the move, among the changed
      List<Datum> datums2 = awaitDatums(settings, topics, pipelineName, c2, 5);
      assertThat(datums2)
          .extracting(d -> d.getMemberObject().getMember())
          .containsExactlyInAnyOrder(member(0), member(1), member(7), member(8), member(10));
      Datum seven =
          datums2.stream()
              .filter(d -> d.getMemberObject().getMember().equals(member(7)))
              .findFirst()
              .orElseThrow();
      assertThat(seven.getMemberObject().getRows())
          .extracting(r -> r.getValues().get(1))
          .containsExactly("c7-2");

      // And a member as of each commit over HTTP equals the member rebuilt from its rows up to
      // that commit (member 7 without the moved row)
      for (int m : new int[] {0, 1, 7, 8}) {
        assertMember(
            get(base + "/members/" + member(m) + "?at=" + c1.getId()), c1, asOfC1, m, layout);
        List<Row> expected = new ArrayList<>(written.get(member(m)));
        if (m == 7) {
          expected.removeIf(r -> r.getValues().get(1).equals("c7-1"));
        }
        assertMember(
            get(base + "/members/" + member(m) + "?at=" + c2.getId()),
            c2,
            Map.of(member(m), expected),
            m,
            layout);
      }
      HttpResponse<String> unknown = get(base + "/members/" + member(10) + "?at=" + c1.getId());
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(new JsonObject(unknown.body()).getString("error")).isEqualTo("not_found");

      // And the diff of the two commits classifies the changed members, in pages
      JsonObject diff =
          new JsonObject(get(base + "/diff?from=" + c1.getId() + "&to=" + c2.getId()).body());
      assertThat(diff.getLong("added")).isEqualTo(1);
      assertThat(diff.getLong("changed")).isEqualTo(4);
      assertThat(diff.getLong("removed")).isZero();
      assertThat(
              diff.getJsonArray("members").stream().map(o -> ((JsonObject) o).getString("member")))
          .containsExactly(member(0), member(1), member(7), member(8), member(10));
      JsonObject page =
          new JsonObject(
              get(base
                      + "/diff?from="
                      + c1.getId()
                      + "&to="
                      + c2.getId()
                      + "&limit=2&after="
                      + member(0))
                  .body());
      assertThat(page.getJsonArray("members")).hasSize(2);
      assertThat(page.getString("next")).isEqualTo(member(7));
      JsonObject moved =
          new JsonObject(
              get(base + "/diff/" + member(8) + "?from=" + c1.getId() + "&to=" + c2.getId())
                  .body());
      assertThat(moved.getString("change")).isEqualTo("changed");
      assertThat(moved.getJsonArray("added")).hasSize(1);
      assertThat(
              moved
                  .getJsonArray("added")
                  .getJsonObject(0)
                  .getJsonObject("values")
                  .getString("CLAIM_ID"))
          .isEqualTo("c7-1");
      assertThat(get(base + "/diff?from=" + c1.getId()).statusCode()).isEqualTo(400);
    }
  }

  private static void write(
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      Map<String, List<Row>> written,
      int m,
      String line) {
    producer.send(row(topic, m, line));
    String[] fields = line.split(",");
    written
        .computeIfAbsent(fields[0], k -> new ArrayList<>())
        .add(
            Row.newBuilder()
                .setTable("claims")
                .setValues(List.of(fields))
                .setSourcePartition(0)
                .setSourceOffset(0)
                .build());
  }

  private static Map<String, List<Row>> copy(Map<String, List<Row>> rows) {
    Map<String, List<Row>> copy = new HashMap<>();
    rows.forEach((member, list) -> copy.put(member, List.copyOf(list)));
    return copy;
  }

  /** The answer is the member rebuilt from {@code rows} in write order: same rows, same hash. */
  private static void assertMember(
      HttpResponse<String> response,
      Commit at,
      Map<String, List<Row>> rows,
      int m,
      RepoLayout layout) {
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(response.body());
    List<Row> rebuilt = MemberObjects.apply(List.of(), rows.get(member(m)), layout);
    assertThat(body.getString("member")).isEqualTo(member(m));
    assertThat(body.getLong("sequence")).isLessThanOrEqualTo(at.getSequence());
    assertThat(body.getString("hash")).isEqualTo(Hashing.memberHash(rebuilt));
    assertThat(
            body.getJsonArray("rows").stream()
                .map(r -> ((JsonObject) r).getJsonObject("values"))
                .map(
                    v ->
                        List.of(
                            v.getString("PERSON_ID"),
                            v.getString("CLAIM_ID"),
                            v.getString("AMOUNT")))
                .toList())
        .isEqualTo(rebuilt.stream().map(Row::getValues).toList());
  }

  private static HttpResponse<String> get(String uri) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(uri))
                .header("Authorization", TestAuth.shared().bearer(TestAuth.ADMIN))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** Writes a job request to every by-member partition, as the commit service does. */
  private static void requestJob(
      KafkaProducer<byte[], byte[]> producer,
      Topics topics,
      RepoSpec repo,
      Commit commit,
      PipelineSpec pipeline,
      String jobId,
      JobMode mode)
      throws Exception {
    JobRequest request =
        JobRequest.newBuilder()
            .setCommit(commit)
            .setJobs(
                List.of(
                    JobRef.newBuilder()
                        .setPipeline(pipeline.getName())
                        .setJobId(jobId)
                        .setSpecHash(pipeline.getSpecHash())
                        .setMode(mode)
                        .setKind(JobKind.BRANCH)
                        .build()))
            .setMemberPartitions(repo.getMemberPartitions())
            .build();
    Topic<String, MemberEvent> byMember = topics.byMember(repo.getName());
    for (int p = 0; p < repo.getMemberPartitions(); p++) {
      producer.send(
          new ProducerRecord<>(byMember.name(), p, null, byMember.value(new MemberEvent(request))));
    }
    producer.flush();
  }

  private static String jobOf(Commit commit) {
    return commit.getJobs().get(0).getJobId();
  }

  private static Job awaitJob(KafkaSettings settings, Topics topics, String jobId, JobState state) {
    return awaitValue(
        settings,
        topics.jobs.name(),
        topics.jobs::readValue,
        j -> j.getId().equals(jobId) && j.getState() == state);
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
    env.putAll(TestAuth.shared().env());
    return PartitionServiceConfig.from(env);
  }

  /** A one-table claims repo with row keys, 3 partitions each side. */
  static RepoSpec repoSpec(String name) {
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

  /**
   * Does what the datum processor does for each datum: a {@code DatumDone} to the member's
   * by-member partition and a {@code DatumResult}; members in {@code failing} fail.
   */
  private static void finish(
      KafkaProducer<byte[], byte[]> producer,
      Topics topics,
      List<Datum> datums,
      Set<String> failing)
      throws Exception {
    for (Datum datum : datums) {
      String member = datum.getMemberObject().getMember();
      boolean failed = failing.contains(member);
      Topic<String, MemberEvent> byMember = topics.byMember(datum.getMemberObject().getRepo());
      DatumDone done =
          DatumDone.newBuilder()
              .setPipeline(datum.getPipeline())
              .setMember(member)
              .setJobId(datum.getJobId())
              .setDatumHash(datum.getDatumHash())
              .setSucceeded(!failed)
              .setOutputHash(failed ? null : "out-" + datum.getDatumHash())
              .build();
      producer.send(
          record(byMember.name(), byMember.key(member), byMember.value(new MemberEvent(done))));
      DatumResult result =
          DatumResult.newBuilder(result(datum))
              .setState(failed ? DatumState.FAILED : DatumState.SUCCESS)
              .build();
      producer.send(
          record(
              topics.datumResults.name(),
              topics.datumResults.key(datum.getJobId()),
              topics.datumResults.value(result)));
    }
    producer.flush();
  }

  /** Reads the datums topic until {@code count} datums of the commit's first job are in. */
  private static List<Datum> awaitDatums(
      KafkaSettings settings, Topics topics, String pipeline, Commit commit, int count) {
    return awaitDatumsOfJob(settings, topics, pipeline, commit.getJobs().get(0).getJobId(), count);
  }

  private static List<Datum> awaitDatumsOfJob(
      KafkaSettings settings, Topics topics, String pipeline, String jobId, int count) {
    List<Datum> found = new ArrayList<>();
    Consumer<ConsumerRecord<byte[], byte[]>> collect =
        record -> {
          Datum datum = topics.datums(pipeline).readValue(record.value());
          if (datum.getJobId().equals(jobId)) {
            found.add(datum);
          }
        };
    try (KafkaConsumer<byte[], byte[]> consumer =
        PartitionItSupport.assigned(settings, TopicNames.datums(pipeline))) {
      Await.until(
          count + " datums of job " + jobId,
          DEADLINE,
          Await.NO_PAUSE,
          () -> {
            consumer.poll(Duration.ofMillis(500)).forEach(collect);
            return found.size() >= count;
          });
      // Anything more than expected would be a bug: read what else is there now.
      consumer.poll(Duration.ofMillis(500)).forEach(collect);
    }
    assertThat(found).as("datums of job " + jobId).hasSize(count);
    return found;
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
    return PartitionItSupport.awaitCompleted(settings, topics, commitId, DEADLINE);
  }

  private static <V> V awaitValue(
      KafkaSettings settings, String topic, Function<byte[], V> decode, Predicate<V> match) {
    return PartitionItSupport.awaitValue(settings, topic, decode, match, DEADLINE);
  }
}
