package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.topics.TopicNames;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous mode against the real broker: rows produced to a repo with a trigger reach a sealed
 * commit within seconds, without a manual seal; triggers are set and cleared over HTTP.
 */
class TriggersIT extends CommitServiceItBase {
  private static final Logger log = LoggerFactory.getLogger(TriggersIT.class);

  @Test
  void shouldSealWhenEnoughRowsArrivedForAnEveryRowsTrigger() throws Exception {
    // Given a repo with a trigger every 5 rows
    String repo = "it-repo-" + suffix();
    JsonObject body = repoBody(repo).put("partitions", 2);
    body.put("trigger", new JsonObject().put("everyRows", 5));
    HttpResponse<Buffer> created = post("/repos", body);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().getJsonObject("trigger").getLong("everyRows"))
        .isEqualTo(5);

    // When 3 rows arrive, then 2 more
    produce(repo, 0, 3);
    long start = System.nanoTime();
    produce(repo, 3, 2);

    // Then a commit of master covers the 5 rows within seconds
    JsonArray commits =
        eventually(
            () -> get("/repos/" + repo + "/commits").bodyAsJsonArray(),
            list -> !list.isEmpty(),
            "a triggered commit of " + repo);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    log.info("everyRows trigger sealed {} ms after the 5th row", millis);
    assertThat(commits).hasSize(1);
    JsonObject commit = commits.getJsonObject(0);
    assertThat(commit.getLong("rowCount")).isEqualTo(5);
    assertThat(commit.getString("branch")).isEqualTo("master");
    assertThat(millis).isLessThan(10_000);
  }

  @Test
  void shouldSealEachIntervalWhenRowsArrivedForAnEverySecondsTrigger() throws Exception {
    // Given a repo without trigger, then given one every second
    String repo = createRepo(1, 1);
    HttpResponse<Buffer> set =
        put("/repos/" + repo + "/trigger", new JsonObject().put("everySeconds", 1));
    assertThat(set.statusCode()).as(set.bodyAsString()).isEqualTo(200);
    assertThat(set.bodyAsJsonObject().getJsonObject("trigger").getLong("everySeconds"))
        .isEqualTo(1);
    assertThat(get("/repos/" + repo).bodyAsJsonObject().getJsonObject("trigger")).isNotNull();

    // When one row arrives
    long start = System.nanoTime();
    produce(repo, 0, 1);

    // Then it is committed within seconds
    eventually(
        () -> get("/repos/" + repo + "/commits").bodyAsJsonArray(),
        list -> list.size() == 1,
        "first triggered commit");
    log.info(
        "everySeconds trigger sealed {} ms after the row",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));

    // When two more rows arrive
    produce(repo, 1, 2);

    // Then the next commit holds exactly them (no empty commits in between)
    JsonArray commits =
        eventually(
            () -> get("/repos/" + repo + "/commits").bodyAsJsonArray(),
            list -> list.size() >= 2,
            "second triggered commit");
    assertThat(commits).hasSize(2);
    assertThat(commits.getJsonObject(0).getLong("rowCount")).isEqualTo(2);
    assertThat(commits.getJsonObject(1).getLong("rowCount")).isEqualTo(1);

    // When the trigger is cleared
    HttpResponse<Buffer> cleared = put("/repos/" + repo + "/trigger", new JsonObject());

    // Then the repo has none
    assertThat(cleared.statusCode()).as(cleared.bodyAsString()).isEqualTo(200);
    assertThat(cleared.bodyAsJsonObject().getValue("trigger")).isNull();
  }

  @Test
  void shouldNameTheFieldWhenATriggerIsInvalid() throws Exception {
    // Given a repo
    String repo = createRepo(1, 1);

    // Then invalid triggers are 400s naming the field; unknown repos 404s
    assertError(
        put("/repos/" + repo + "/trigger", new JsonObject().put("cron", "61 * * * *")),
        400,
        "cron '61 * * * *' minute field");
    assertError(
        put("/repos/" + repo + "/trigger", new JsonObject().put("everyRows", -1)),
        400,
        "everyRows must be a whole number");
    assertError(
        put("/repos/it-no-such-repo/trigger", new JsonObject().put("everyRows", 1)),
        404,
        "no repo");
    JsonObject body = repoBody("it-repo-" + suffix());
    body.put("trigger", new JsonObject().put("cron", "* * * *"));
    assertError(post("/repos", body), 400, "trigger.cron");
  }

  private static void produce(String repo, int from, int count) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-loader-" + suffix(), null))) {
      for (int i = from; i < from + count; i++) {
        producer.send(row(TopicNames.updates(repo), i % 2 == 0 ? 0 : lastPartition(repo), i));
      }
      producer.flush();
    }
  }

  private static int lastPartition(String repo) {
    return get("/repos/" + repo).bodyAsJsonObject().getInteger("updatePartitions") - 1;
  }
}
