package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.demo.OmopDataset;
import io.tusk.cli.demo.OmopDemo;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Output;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 10's proof, end to end on the real broker: a member added to the GiBleed demo over two
 * commits, with a downstream pipeline, is erased; then, once compaction and retention have run
 * (short settings, set by the test), no topic (raw bytes of keys, values and headers, every
 * partition, aborted records included) holds its key or its distinctive row values, other members'
 * outputs are byte-identical to the run before it existed, time travel answers 410 and the erasure
 * log holds no member key. A scan before the erasure finds the same tokens (the scan can fail).
 */
@Tag("integration")
@ExtendWith(LocalStackExtension.class)
class ErasureIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DATA =
      Paths.get(System.getProperty("tusk.root", "..")).resolve("data/omop-gibleed");
  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  /** The erased member, and row values of it that nothing else in the sample holds. */
  private static final String MEMBER = "9990001";

  private static final String SOURCE_VALUE = "5e1ec7ed-e4a5-4e1d-9a11-9990001e4a5e";
  private static final String CONDITION_ID = "99900011";
  private static final String DRUG_ID = "99900012";
  private static final List<String> TOKENS = List.of(MEMBER, SOURCE_VALUE, CONDITION_ID, DRUG_ID);

  @Test
  @Timeout(value = 25, unit = TimeUnit.MINUTES)
  void shouldForgetAMemberEverywhereAndKeepEveryOtherOutput(LocalStack stack) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repo = "erase-" + suffix;
    String pipeline = "erase-insights-" + suffix;
    String cohorts = pipeline + "-cohorts";
    Path home = Files.createTempDirectory(Paths.get("target"), "erasure-it-");
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "erasure-it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    try (TuskServices services =
            TuskServices.start(
                stack.bootstrapServers(),
                stack.registryUrl(),
                home,
                Ports.ephemeral(),
                1,
                true,
                // The erasure sweep rolls compacted topics every 5 s instead of every minute.
                Map.of("commit-service", Map.of("TUSK_ERASURE_SWEEP_MS", "5000")));
        Admin admin = Admin.create(settings.admin("erasure-it-admin-" + suffix))) {
      TuskClient client = services.client();

      // Given the GiBleed demo (two commits, a per-member pipeline and a per-cohort one after it)
      new OmopDemo(
              client,
              settings,
              OmopDataset.read(DATA),
              new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
              repo,
              pipeline,
              3)
          .run();
      Map<String, String> insightsBefore = latestOutputs(settings, topics, pipeline);
      Map<String, String> cohortsBefore = latestOutputs(settings, topics, cohorts);
      assertThat(insightsBefore).isNotEmpty().doesNotContainKey(MEMBER);

      // And a member added in a third commit and changed in a fourth (two versions)
      String added =
          commitRows(
              client,
              settings,
              repo,
              cohorts,
              List.of(
                  new String[] {
                    "PERSON",
                    MEMBER
                        + ",8532,1961,5,17,1961-05-17T00:00:00Z,8527,0,,,,"
                        + SOURCE_VALUE
                        + ",F,0,white,0,irish,0"
                  },
                  new String[] {
                    "CONDITION_ERA", CONDITION_ID + "," + MEMBER + ",192671,2018-03-02,2018-03-09,1"
                  },
                  new String[] {
                    "DRUG_ERA", DRUG_ID + "," + MEMBER + ",1118084,2017-06-01,2017-09-01,3,0"
                  }));
      commitRows(
          client,
          settings,
          repo,
          cohorts,
          List.<String[]>of(
              new String[] {
                "CONDITION_ERA", CONDITION_ID + "," + MEMBER + ",192671,2018-03-02,2018-03-16,2"
              }));
      assertThat(latestOutputs(settings, topics, pipeline)).containsKey(MEMBER);
      Set<String> scope = scope(admin, suffix);
      assertThat(scan(settings, scope).keySet())
          .as("the member before its erasure (the scan finds what is there)")
          .contains(
              TopicNames.updates(repo), TopicNames.members(repo), TopicNames.output(pipeline));

      // When an admin erases it with the CLI
      String adminToken = services.auth().adminToken();
      CliRun erase =
          CliRun.tusk(
              services.commitUrl(),
              services.lineageUrl(),
              adminToken,
              "erase",
              repo,
              MEMBER,
              "--reason",
              "GDPR request 4711 (erasure IT)",
              "--json");
      assertThat(erase.code()).as(erase.err()).isZero();
      JsonNode erasure = JSON.readTree(erase.out());
      String id = erasure.path("id").asText();
      assertThat(erasure.toString()).doesNotContain(MEMBER);
      JsonNode purged =
          TuskClient.await(
              () -> client.erasure(id),
              e -> "purged".equals(e.path("state").asText()),
              TIMEOUT,
              "erasure " + id + " purged");
      assertThat(purged.path("jobs").findValuesAsText("pipeline")).contains(pipeline, cohorts);
      CliRun status =
          CliRun.tusk(
              services.commitUrl(), services.lineageUrl(), adminToken, "erase", "status", id);
      assertThat(status.out()).contains("erasure " + id + ": purged").contains(cohorts);

      // Then time travel to a commit that held it answers 410 "erased"
      TuskClient.ApiError gone =
          catchThrowableOfType(
              TuskClient.ApiError.class,
              () -> client.commitGet("/repos/" + repo + "/members/" + MEMBER + "?at=" + added));
      assertThat(gone.status()).isEqualTo(410);
      assertThat(gone.getMessage()).contains("erased").contains(id);

      // And every other member's output, and every cohort, is byte-identical to the run before it
      Await.until(
          "outputs as before the member existed",
          TIMEOUT,
          () ->
              latestOutputs(settings, topics, pipeline).equals(insightsBefore)
                  && latestOutputs(settings, topics, cohorts).equals(cohortsBefore));

      // And the erasure log holds no member key
      assertThat(scan(settings, Set.of(TopicNames.ERASURES))).isEmpty();

      // When compaction and retention have run (short settings on every topic in scope, restored
      // after)
      Map<ConfigResource, Config> saved = shorten(admin, scope);
      try {
        // Then no topic holds the member's key or row values any more
        Await.until(
            "no record of the member in any topic (the last value: topics still holding it)",
            Duration.ofMinutes(10),
            () -> scan(settings, scope),
            Map::isEmpty);
      } finally {
        restore(admin, saved);
      }

      // And the verification scan finds nothing and records it in the log
      CliRun verified =
          CliRun.tusk(
              services.commitUrl(),
              services.lineageUrl(),
              adminToken,
              "erase",
              "verify",
              id,
              MEMBER);
      assertThat(verified.code()).as(verified.out() + verified.err()).isZero();
      assertThat(verified.out()).contains(" 0 found");
      assertThat(client.erasure(id).path("state").asText()).isEqualTo("verified");
    }
  }

  /**
   * Loads rows, commits, and waits until every job of the commit, the cohort one included, ended.
   */
  private static String commitRows(
      TuskClient client, KafkaSettings settings, String repo, String cohorts, List<String[]> rows)
      throws Exception {
    try (RowLoader loader = new RowLoader(settings, repo)) {
      for (String[] row : rows) {
        loader.send(row[0], MEMBER, row[1]);
      }
      loader.flush();
    }
    String commit = client.commit(repo).path("id").asText();
    TuskClient.await(
        () -> client.global(commit),
        g ->
            "success".equals(g.path("state").asText())
                && g.path("jobs").findValuesAsText("pipeline").contains(cohorts),
        TIMEOUT,
        "the jobs of commit " + commit);
    return commit;
  }

  /** The latest output data of every member of a pipeline, as base64, from its output topic. */
  private static Map<String, String> latestOutputs(
      KafkaSettings settings, Topics topics, String pipeline) {
    Map<String, String> latest = new TreeMap<>();
    read(
        settings,
        List.of(TopicNames.output(pipeline)),
        true,
        record -> {
          String member = new String(record.key(), StandardCharsets.UTF_8);
          if (record.value() == null) {
            latest.remove(member);
          } else {
            Output output = topics.output(pipeline).readValue(record.value());
            latest.put(member, Base64.getEncoder().encodeToString(output.getData().array()));
          }
        });
    return latest;
  }

  /**
   * The topics that can hold the member: this test's repos' and pipelines' (the derived repo of the
   * cohort stage included), the system topics and both Streams applications' internal topics.
   */
  private static Set<String> scope(Admin admin, String suffix) throws Exception {
    Set<String> scope = new TreeSet<>();
    for (String topic : admin.listTopics(new ListTopicsOptions()).names().get()) {
      if (topic.contains(suffix)
          || topic.startsWith("tusk.")
          || topic.startsWith("tusk-partition-")
          || topic.startsWith("tusk-lineage-")) {
        scope.add(topic);
      }
    }
    return scope;
  }

  /**
   * Topics in which some record (key, value or a header, aborted ones included) holds one of the
   * member's tokens, with how many records.
   */
  private static Map<String, Integer> scan(KafkaSettings settings, Collection<String> topics) {
    Map<String, Integer> found = new TreeMap<>();
    read(
        settings,
        topics,
        false,
        record -> {
          boolean holds = holdsToken(record.key()) || holdsToken(record.value());
          for (Header header : record.headers()) {
            holds |= holdsToken(header.value());
          }
          if (holds) {
            found.merge(record.topic(), 1, Integer::sum);
          }
        });
    return found;
  }

  /** Whether the bytes hold a token as a whole word (not inside a longer run of [A-Za-z0-9]). */
  static boolean holdsToken(byte[] bytes) {
    if (bytes == null) {
      return false;
    }
    for (String token : TOKENS) {
      byte[] needle = token.getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i + needle.length <= bytes.length; i++) {
        if (matchesAt(bytes, i, needle)
            && (i == 0 || !isWordByte(bytes[i - 1]))
            && (i + needle.length == bytes.length || !isWordByte(bytes[i + needle.length]))) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean matchesAt(byte[] bytes, int at, byte[] needle) {
    for (int j = 0; j < needle.length; j++) {
      if (bytes[at + j] != needle[j]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isWordByte(byte b) {
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
  }

  /** Every record of the topics from their log start to their end. */
  private static void read(
      KafkaSettings settings,
      Collection<String> topics,
      boolean committedOnly,
      java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
    Map<String, Object> config =
        new HashMap<>(settings.consumer("erasure-it-" + UUID.randomUUID(), null));
    config.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        committedOnly ? "read_committed" : "read_uncommitted");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        consumer
            .partitionsFor(topic, Duration.ofSeconds(30))
            .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      // A tight loop, not Await: a poll returns as soon as records are there, and the topics hold
      // hundreds of thousands of records.
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      List<TopicPartition> reading = new ArrayList<>(partitions);
      while (!reading.isEmpty()) {
        assertThat(System.nanoTime())
            .as("reading %d topics to their end", topics.size())
            .isLessThan(deadline);
        consumer.poll(Duration.ofMillis(200)).forEach(each);
        reading.removeIf(p -> consumer.position(p) >= end.get(p));
      }
    }
  }

  /**
   * Sets every topic in scope to short bounds: compacted ones compact a record within a second and
   * drop a tombstone a second after, delete ones keep records for two seconds ({@code tusk.audit}
   * and the erasure log excepted: kept forever by design). Returns the configs to restore.
   */
  private static Map<ConfigResource, Config> shorten(Admin admin, Set<String> scope)
      throws Exception {
    List<ConfigResource> resources = new ArrayList<>();
    scope.forEach(t -> resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t)));
    Map<ConfigResource, Config> saved = admin.describeConfigs(resources).all().get();
    Map<ConfigResource, Collection<AlterConfigOp>> changes = new HashMap<>();
    for (var entry : saved.entrySet()) {
      String topic = entry.getKey().name();
      if (topic.equals(TopicNames.AUDIT)) {
        continue;
      }
      boolean compacted =
          entry.getValue().get(TopicConfig.CLEANUP_POLICY_CONFIG).value().contains("compact");
      List<AlterConfigOp> ops = new ArrayList<>();
      // Segments roll at most every 5 s (the sweep's pace), so the cleaner keeps up with them.
      ops.add(set(TopicConfig.SEGMENT_MS_CONFIG, "5000"));
      if (compacted) {
        ops.add(set(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, "1000"));
        ops.add(set(TopicConfig.DELETE_RETENTION_MS_CONFIG, "1000"));
        ops.add(set(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01"));
      } else {
        ops.add(set(TopicConfig.RETENTION_MS_CONFIG, "2000"));
      }
      changes.put(entry.getKey(), ops);
    }
    admin.incrementalAlterConfigs(changes).all().get();
    return saved;
  }

  private static AlterConfigOp set(String name, String value) {
    return new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET);
  }

  /**
   * Puts back the topic-level values {@link #shorten} changed (deleting those that were defaults).
   */
  private static void restore(Admin admin, Map<ConfigResource, Config> saved) throws Exception {
    Set<String> touched =
        Set.of(
            TopicConfig.SEGMENT_MS_CONFIG,
            TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG,
            TopicConfig.DELETE_RETENTION_MS_CONFIG,
            TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG,
            TopicConfig.RETENTION_MS_CONFIG);
    Map<ConfigResource, Collection<AlterConfigOp>> changes = new HashMap<>();
    for (var entry : saved.entrySet()) {
      List<AlterConfigOp> ops = new ArrayList<>();
      for (String name : touched) {
        ConfigEntry before = entry.getValue().get(name);
        ops.add(
            before != null && before.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG
                ? set(name, before.value())
                : new AlterConfigOp(new ConfigEntry(name, ""), AlterConfigOp.OpType.DELETE));
      }
      changes.put(entry.getKey(), ops);
    }
    admin.incrementalAlterConfigs(changes).all().get();
  }
}
