package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.http.ApiException;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.CommitLeader;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Several commit service instances on one broker: one leads (elected through the consumer group
 * {@code tusk-commit-leader}) and writes, every one answers, writes reaching a follower are
 * forwarded, concurrent seals through both form one chain, a fenced leader (as one paused while
 * another took over) writes nothing, and the lead moves when the leader stops.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CommitLeadershipIT extends CommitServiceItBase {

  @Test
  @Order(1)
  void shouldSealOneChainWhenWritesArriveAtEveryInstance() throws Exception {
    // Given a second instance beside the first, which leads
    try (CommitService follower = CommitService.start(config("follower-" + suffix(), Map.of()))) {
      WebClient second = clientOf(follower.port(), TestAuth.ADMIN);
      JsonObject leaderStatus = await(client.get("/leader").send()).bodyAsJsonObject();
      JsonObject followerStatus = await(second.get("/leader").send()).bodyAsJsonObject();
      assertThat(leaderStatus.getBoolean("leading")).as(leaderStatus.encode()).isTrue();
      assertThat(followerStatus.getBoolean("leading")).as(followerStatus.encode()).isFalse();
      assertThat(followerStatus.getJsonObject("leader").getString("instance"))
          .isEqualTo(leaderStatus.getString("instance"));
      assertThat(followerStatus.getJsonObject("leader").getString("url"))
          .isEqualTo(leaderStatus.getString("url"))
          .endsWith(":" + service.port());

      // When a repo is created through the follower
      String repo = "it-repo-" + suffix();
      HttpResponse<Buffer> created =
          await(second.post("/repos").sendJsonObject(repoBody(repo).put("partitions", 1)));

      // Then the leader created it, and the follower answers reads of it from its own views
      assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
      eventually(
          () -> statusOf(second, "/repos/" + repo), status -> status == 200, "repo on follower");

      // When 12 seals are requested at once, alternately through each instance
      try (KafkaProducer<byte[], byte[]> plain =
          new KafkaProducer<>(settings.producer("it-plain-" + repo, null))) {
        plain.send(row(TopicNames.updates(repo), 0, 1)).get(30, TimeUnit.SECONDS);
      }
      List<Future<HttpResponse<Buffer>>> requests = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        WebClient through = i % 2 == 0 ? client : second;
        requests.add(through.post("/repos/" + repo + "/commits").send());
      }

      // Then every one sealed a commit, and they form one chain: sequences 1..12, each the
      // parent of the next, as both instances see it
      for (Future<HttpResponse<Buffer>> request : requests) {
        HttpResponse<Buffer> sealed = await(request);
        assertThat(sealed.statusCode()).as(sealed.bodyAsString()).isEqualTo(201);
      }
      for (WebClient reader : List.of(client, second)) {
        List<JsonObject> chain =
            eventually(
                () -> commitsOf(reader, repo), commits -> commits.size() == 12, "12 commits");
        assertOneChain(chain);
      }

      // And a seal repeated through the other instance with its idempotency key counts once
      HttpResponse<Buffer> keyed = sealWithKey(second, repo, "leader-it-key");
      HttpResponse<Buffer> repeated = sealWithKey(client, repo, "leader-it-key");
      assertThat(keyed.statusCode()).as(keyed.bodyAsString()).isEqualTo(201);
      assertThat(repeated.statusCode()).as(repeated.bodyAsString()).isEqualTo(200);
      assertThat(repeated.bodyAsJsonObject().getString("id"))
          .isEqualTo(keyed.bodyAsJsonObject().getString("id"));
      second.close();
    }
  }

  @Test
  @Order(2)
  void shouldWriteNothingWhileFencedAndLeadAgainWhenTheGroupSaysSo() throws Exception {
    // Given a repo with one commit, sealed by the leader
    String repo = createRepo(1, 1);
    String first = seal(repo, null).getString("id");

    // When another sealer takes the one transactional ID (as a new leader does while the old one
    // is paused), the old leader's next seal fails cleanly and commits nothing
    CommitSealer rival =
        new CommitSealer(
            settings.withInstanceId("it-rival-" + suffix()), topics, admin); // not in the group
    rival.activate();
    HttpResponse<Buffer> fenced = post("/repos/" + repo + "/commits", null);
    assertError(fenced, 503, "lost the lead");
    assertThat(fenced.bodyAsJsonObject().getString("error")).isEqualTo("not_leader");
    assertThat(ids(get("/repos/" + repo + "/commits"))).containsExactly(first);

    // Then the old leader asks the group, which still backs it: it leads again (fencing the
    // rival, which can no longer write), and the next seal continues the chain
    HttpResponse<Buffer> next =
        eventually(
            () -> {
              try {
                return post("/repos/" + repo + "/commits", null);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            response -> response.statusCode() != 503,
            "a seal after the leader was backed again");
    assertThat(next.statusCode()).as(next.bodyAsString()).isEqualTo(201);
    assertThat(next.bodyAsJsonObject().getString("parent")).isEqualTo(first);
    assertThat(next.bodyAsJsonObject().getLong("sequence")).isEqualTo(2L);
    assertThatThrownBy(
            () ->
                rival.announceLeader(
                    CommitLeader.newBuilder()
                        .setInstance("it-rival")
                        .setUrl("http://127.0.0.1:1")
                        .setSince(0)
                        .build()))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("lost the lead");
    rival.close();
  }

  @Test
  @Order(3)
  void shouldMoveTheLeadWhenTheLeaderStops() throws Exception {
    // Given a repo with a commit, and a follower
    String repo = createRepo(1, 1);
    String first = seal(repo, null).getString("id");
    CommitService follower = CommitService.start(config("successor-" + suffix(), Map.of()));
    WebClient second = clientOf(follower.port(), TestAuth.ADMIN);

    // When the leader stops
    long stopped = System.nanoTime();
    service.close();
    client.close();
    service = follower;
    client = second;

    // Then the follower leads within seconds, and seals continue the chain
    eventually(() -> leading(second), Boolean.TRUE::equals, "the follower leads");
    System.out.printf(
        "Lead moved %d ms after the leader stopped%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped));
    JsonObject next = seal(repo, null);
    assertThat(next.getString("parent")).isEqualTo(first);
    assertThat(next.getLong("sequence")).isEqualTo(2L);
  }

  private static boolean leading(WebClient on) {
    try {
      return await(on.get("/leader").send()).bodyAsJsonObject().getBoolean("leading");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static int statusOf(WebClient on, String path) {
    try {
      return await(on.get(path).send()).statusCode();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<JsonObject> commitsOf(WebClient on, String repo) {
    try {
      HttpResponse<Buffer> listed = await(on.get("/repos/" + repo + "/commits?limit=100").send());
      assertThat(listed.statusCode()).as(listed.bodyAsString()).isEqualTo(200);
      return listed.bodyAsJsonArray().stream().map(c -> (JsonObject) c).toList();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sequences 1..n, each commit's parent the one before it, whatever order they are listed in. */
  private static void assertOneChain(List<JsonObject> commits) {
    List<JsonObject> bySequence =
        commits.stream().sorted((a, b) -> Long.compare(seq(a), seq(b))).toList();
    for (int i = 0; i < bySequence.size(); i++) {
      JsonObject commit = bySequence.get(i);
      assertThat(seq(commit)).as(commit.encode()).isEqualTo(i + 1L);
      String parent = i == 0 ? null : bySequence.get(i - 1).getString("id");
      assertThat(commit.getString("parent")).as("parent of #%d", i + 1).isEqualTo(parent);
    }
  }

  private static long seq(JsonObject commit) {
    return commit.getLong("sequence");
  }
}
