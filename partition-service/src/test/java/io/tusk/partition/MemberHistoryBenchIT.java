package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.commit.CommitSealer;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Commit;
import io.tusk.schemas.RepoSpec;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Figures for the history queries on a generated repo of {@value #MEMBERS} members: as-of lookup
 * latency over HTTP (p50, p99) and the time of a diff between two commits. Runs only with {@code
 * -Dtusk.bench=true} (it takes a few minutes on two cores).
 */
@Tag("integration")
@Timeout(value = 900, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
@EnabledIfSystemProperty(named = "tusk.bench", matches = "true")
class MemberHistoryBenchIT {
  private static final Logger log = LoggerFactory.getLogger(MemberHistoryBenchIT.class);
  private static final int MEMBERS = 100_000;
  private static final int CHANGED = 10_000;
  private static final int ADDED = 1_000;
  private static final int LOOKUPS = 2_000;

  @Test
  void shouldMeasureAsOfLookupsAndDiffsWhenTheRepoHasAHundredThousandMembers(
      LocalStack stack, @TempDir Path stateDir) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String repoName = "bench-history-" + suffix;
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "bench-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    RepoSpec repo =
        RepoSpec.newBuilder(PartitionServiceIT.repoSpec(repoName))
            .setUpdatePartitions(6)
            .setMemberPartitions(6)
            .build();
    String updates = TopicNames.updates(repoName);
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", stack.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", "3");
    env.put("TUSK_INSTANCE_ID", "bench-" + suffix);
    env.put("TUSK_STATE_DIR", stateDir.toString());
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.putAll(TestAuth.shared().env());

    try (PartitionService service = PartitionService.start(PartitionServiceConfig.from(env));
        TopicAdmin admin = new TopicAdmin(settings);
        CommitSealer sealer = CommitSealer.activated(settings, topics, admin.admin());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(settings.producer("bench-" + suffix, null))) {
      admin.createRepoTopics(repo);
      producer
          .send(
              new ProducerRecord<>(
                  topics.repos.name(), topics.repos.key(repoName), topics.repos.value(repo)))
          .get();

      // Given commit 1 with one claim for each of 100,000 members
      long started = System.nanoTime();
      for (int m = 0; m < MEMBERS; m++) {
        send(producer, updates, m, 1, 10);
      }
      producer.flush();
      Commit c1 = sealer.seal(repo, null, List.of());
      awaitCompleted(settings, topics, c1.getId());
      log.info("Commit 1 ({} members) complete after {} s", MEMBERS, seconds(started));

      // And commit 2 changing 10,000 members and adding 1,000
      started = System.nanoTime();
      for (int m = 0; m < CHANGED; m++) {
        send(producer, updates, m * (MEMBERS / CHANGED), 2, 20);
      }
      for (int m = MEMBERS; m < MEMBERS + ADDED; m++) {
        send(producer, updates, m, 1, 30);
      }
      producer.flush();
      Commit c2 = sealer.seal(repo, c1, List.of());
      awaitCompleted(settings, topics, c2.getId());
      log.info(
          "Commit 2 ({} changed members) complete after {} s", CHANGED + ADDED, seconds(started));

      // When members are looked up as of either commit over HTTP
      String base = "http://127.0.0.1:" + service.httpPort() + "/repos/" + repoName;
      HttpClient client = HttpClient.newHttpClient();
      Random random = new Random(42);
      for (int i = 0; i < 200; i++) {
        get(client, base + "/members/" + member(random.nextInt(MEMBERS)) + "?at=" + c1.getId());
      }
      long[] latencies = new long[LOOKUPS];
      for (int i = 0; i < LOOKUPS; i++) {
        String at = i % 2 == 0 ? c1.getId() : c2.getId();
        long t = System.nanoTime();
        HttpResponse<String> response =
            get(client, base + "/members/" + member(random.nextInt(MEMBERS)) + "?at=" + at);
        latencies[i] = System.nanoTime() - t;
        assertThat(response.statusCode()).isEqualTo(200);
      }
      Arrays.sort(latencies);

      // And the two commits are diffed: the first page, and every page
      long t = System.nanoTime();
      JsonObject first =
          new JsonObject(
              get(client, base + "/diff?from=" + c1.getId() + "&to=" + c2.getId()).body());
      double firstPage = (System.nanoTime() - t) / 1e6;
      t = System.nanoTime();
      int listed = 0;
      String after = null;
      do {
        String uri =
            base
                + "/diff?from="
                + c1.getId()
                + "&to="
                + c2.getId()
                + "&limit=10000"
                + (after == null ? "" : "&after=" + after);
        JsonObject page = new JsonObject(get(client, uri).body());
        listed += page.getJsonArray("members").size();
        after = page.getString("next");
      } while (after != null);
      double allPages = (System.nanoTime() - t) / 1e6;

      // Then the figures are logged, and the diff is exact
      assertThat(first.getLong("changed")).isEqualTo(CHANGED);
      assertThat(first.getLong("added")).isEqualTo(ADDED);
      assertThat(listed).isEqualTo(CHANGED + ADDED);
      log.info(
          "As-of lookups over HTTP ({} members, {} lookups): p50 {} ms, p99 {} ms; diff of {}"
              + " changed members: first page of 1000 in {} ms, all {} in pages of 10000 in {} ms",
          MEMBERS,
          LOOKUPS,
          String.format("%.2f", latencies[LOOKUPS / 2] / 1e6),
          String.format("%.2f", latencies[LOOKUPS * 99 / 100] / 1e6),
          CHANGED + ADDED,
          String.format("%.0f", firstPage),
          listed,
          String.format("%.0f", allPages));
    }
  }

  private static void send(
      KafkaProducer<byte[], byte[]> producer, String topic, int m, int claim, int amount) {
    String line = member(m) + ",c" + m + "-" + claim + "," + amount;
    producer.send(new ProducerRecord<>(topic, m % 6, null, line.getBytes(StandardCharsets.UTF_8)));
  }

  private static String member(int m) {
    return String.format("M%06d", m);
  }

  private static String seconds(long started) {
    return String.format("%.1f", (System.nanoTime() - started) / 1e9);
  }

  private static HttpResponse<String> get(HttpClient client, String uri) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(uri))
            .header("Authorization", TestAuth.shared().bearer(TestAuth.ADMIN))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void awaitCompleted(KafkaSettings settings, Topics topics, String commitId) {
    PartitionItSupport.awaitCompleted(settings, topics, commitId, Duration.ofSeconds(600));
  }
}
