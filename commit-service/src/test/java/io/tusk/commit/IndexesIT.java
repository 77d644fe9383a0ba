package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.TestAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit service's in-memory indexes of {@code tusk.jobs} and {@code tusk.commits} as a
 * starting service builds them: jobs that change while it starts must end up in their newest state
 * (issue 8: the service replayed a stale snapshot of the jobs over newer states).
 */
class IndexesIT extends CommitServiceItBase {
  private static final Logger log = LoggerFactory.getLogger(IndexesIT.class);
  private static final int JOBS = 30_000;

  /** Records the writer flushes at a time: a steady trickle that spans the service's start. */
  private static final int FLUSH_EVERY = 4;

  @Test
  void shouldHoldEveryJobsNewestStateWhenJobsEndWhileTheServiceStarts() throws Exception {
    // Given a commit with 30,000 running jobs in tusk.jobs
    String repo = createRepo(1, 1);
    String pipeline = "it-pipe-" + suffix();
    String commitId = seal(repo, null).getString("id");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      ids.add(Ids.newId());
    }
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-tracker-" + suffix(), null))) {
      for (String id : ids) {
        send(producer, JobsIT.job(id, pipeline, repo, commitId, JobState.RUNNING, 0));
      }
      producer.flush();
    }

    // When another commit service starts while the job tracker ends those jobs one by one
    Set<String> ended = ConcurrentHashMap.newKeySet();
    AtomicBoolean started = new AtomicBoolean();
    Thread tracker = new Thread(() -> endJobs(repo, pipeline, commitId, ids, ended, started));
    tracker.start();
    CommitService restarted;
    try {
      restarted = CommitService.start(config("commit-service-it-" + suffix(), Map.of()));
    } finally {
      started.set(true);
      tracker.join(TimeUnit.SECONDS.toMillis(60));
    }
    log.info("{} of {} jobs ended while the service started", ended.size(), JOBS);

    // Then its index holds every job in the state written last: SUCCESS for the ended ones
    WebClient own = clientOf(restarted.port(), TestAuth.ADMIN);
    try (restarted) {
      Map<String, String> expected = new HashMap<>();
      ids.forEach(id -> expected.put(id, ended.contains(id) ? "SUCCESS" : "RUNNING"));
      // A failure names the jobs not in the state written last (the last value seen).
      Await.until(
          "every job in its newest state",
          Duration.ofSeconds(30),
          () -> stale(expected, jobStates(own, commitId)),
          Map::isEmpty);
      assertThat(ended).isNotEmpty();
    } finally {
      own.close();
    }
  }

  /** Writes SUCCESS for the jobs in order, a few at a time, until the service has started. */
  private static void endJobs(
      String repo,
      String pipeline,
      String commitId,
      List<String> ids,
      Set<String> ended,
      AtomicBoolean started) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(settings.producer("it-tracker-" + suffix(), null))) {
      List<String> batch = new ArrayList<>();
      for (String id : ids) {
        if (started.get()) {
          break;
        }
        send(producer, JobsIT.job(id, pipeline, repo, commitId, JobState.SUCCESS, 0));
        batch.add(id);
        if (batch.size() == FLUSH_EVERY) {
          producer.flush();
          ended.addAll(batch);
          batch.clear();
        }
      }
      producer.flush();
      ended.addAll(batch);
    }
  }

  private static void send(KafkaProducer<byte[], byte[]> producer, Job job) {
    producer.send(
        new ProducerRecord<>(
            topics.jobs.name(), topics.jobs.key(job.getId()), topics.jobs.value(job)));
  }

  /** The jobs whose state is not the expected one: "<state> instead of <expected>", by job ID. */
  private static Map<String, String> stale(
      Map<String, String> expected, Map<String, String> states) {
    Map<String, String> stale = new HashMap<>();
    expected.forEach(
        (id, state) -> {
          if (!state.equals(states.get(id))) {
            stale.put(id, states.get(id) + " instead of " + state);
          }
        });
    return stale;
  }

  /** The state of every job the service lists on the commit, by job ID. */
  private static Map<String, String> jobStates(WebClient own, String commitId) {
    try {
      JsonObject commit = await(own.get("/commits/" + commitId).send()).bodyAsJsonObject();
      Map<String, String> states = new HashMap<>();
      commit
          .getJsonArray("jobs")
          .forEach(
              item -> {
                JsonObject job = (JsonObject) item;
                if (job.getString("state") != null) {
                  states.put(job.getString("jobId"), job.getString("state"));
                }
              });
      return states;
    } catch (Exception e) {
      throw new IllegalStateException("GET /commits/" + commitId + " failed", e);
    }
  }
}
