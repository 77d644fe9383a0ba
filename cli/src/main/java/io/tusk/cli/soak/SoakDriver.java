package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.TuskClient;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Does the soak's operations to the real services: rows through a Kafka producer, everything else
 * through their HTTP APIs ({@link TuskClient}), and waits for jobs to end.
 */
final class SoakDriver implements AutoCloseable {
  static final Duration JOB_TIMEOUT = Duration.ofSeconds(120);

  private final TuskClient client;
  private final ProcessorControl processors;
  private final KafkaProducer<byte[], byte[]> producer;

  SoakDriver(TuskClient client, KafkaSettings settings, ProcessorControl processors) {
    this.client = Objects.requireNonNull(client, "client");
    this.processors = Objects.requireNonNull(processors, "processors");
    this.producer = new KafkaProducer<>(settings.loader("soak-loader"));
  }

  TuskClient client() {
    return client;
  }

  ProcessorControl processors() {
    return processors;
  }

  /** Sends the records one by one (keyed as the generator chose), returning where each went. */
  List<SentRow> produce(String repo, List<Op.RowToSend> rows) {
    List<SentRow> sent = new ArrayList<>();
    for (Op.RowToSend row : rows) {
      String key = row.key();
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(
              TopicNames.updates(repo),
              key.getBytes(StandardCharsets.UTF_8),
              row.payload().getBytes(StandardCharsets.UTF_8));
      record.headers().add(new RecordHeader(Headers.TABLE, Headers.bytes(row.table())));
      record.headers().add(new RecordHeader(Headers.FORMAT, Headers.bytes(row.format())));
      try {
        RecordMetadata metadata = producer.send(record).get(30, TimeUnit.SECONDS);
        sent.add(
            new SentRow(
                metadata.partition(), metadata.offset(), row.table(), row.values(), row.format()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted producing to " + repo, e);
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("cannot produce to " + repo + ": " + e, e);
      }
    }
    return sent;
  }

  JsonNode seal(String repo, String branch) {
    return client.commitSend(
        "POST",
        "/repos/" + TuskClient.segment(repo) + "/commits?branch=" + TuskClient.segment(branch),
        TuskClient.object());
  }

  JsonNode awaitCommitComplete(String repo, String commitId) {
    return client.awaitCommitComplete(repo, commitId, JOB_TIMEOUT);
  }

  JsonNode createBranch(String repo, String name, String head) {
    return client.commitSend(
        "POST",
        "/repos/" + TuskClient.segment(repo) + "/branches",
        TuskClient.object().put("name", name).put("head", head));
  }

  JsonNode moveBranch(String repo, String name, String head) {
    return client.commitSend(
        "PUT",
        "/repos/" + TuskClient.segment(repo) + "/branches/" + TuskClient.segment(name),
        TuskClient.object().put("head", head));
  }

  void deleteBranch(String repo, String name) {
    client.commitSend(
        "DELETE",
        "/repos/" + TuskClient.segment(repo) + "/branches/" + TuskClient.segment(name),
        null);
  }

  /** The spec of a first-stage pipeline (following the repo's master). */
  static ObjectNode rowsSpec(
      String name, String repo, String variant, boolean errCmd, boolean keepOutputs) {
    ObjectNode spec = TuskClient.object().put("name", name).put("parallelism", 2);
    spec.putObject("input").put("repo", repo).put("branch", "master");
    Class<?> transform =
        variant.equals("a") ? SoakRowsTransform.class : SoakRowsVariantTransform.class;
    spec.putObject("transform").put("java", transform.getName());
    spec.put("datumTries", 1).put("keepOutputsOnUpdate", keepOutputs);
    if (errCmd) {
      // Exits 0: every failed datum is RECOVERED (its output removed).
      ArrayNode command = spec.putArray("errCmd");
      command.add("true");
    }
    return spec;
  }

  /** The spec of a second-stage pipeline reading {@code upstream}'s outputs by group. */
  static ObjectNode groupsSpec(String name, String upstream) {
    ObjectNode spec = TuskClient.object().put("name", name).put("parallelism", 1);
    spec.putObject("input").put("pipeline", upstream).put("memberKey", SoakOutputs.GROUP_FIELD);
    spec.putObject("transform").put("java", SoakGroupsTransform.class.getName());
    return spec;
  }

  JsonNode createPipeline(ObjectNode spec) {
    return client.createPipeline(spec);
  }

  JsonNode updatePipeline(String name, ObjectNode spec) {
    return client.commitSend("PUT", "/pipelines/" + TuskClient.segment(name), spec);
  }

  void deletePipeline(String name) {
    client.commitSend("DELETE", "/pipelines/" + TuskClient.segment(name), null);
  }

  JsonNode rerun(String jobId, boolean reprocess) {
    return client.commitSend(
        "POST", "/jobs/" + TuskClient.segment(jobId) + "/rerun?reprocess=" + reprocess, null);
  }

  JsonNode restart(String jobId) {
    return client.commitSend("POST", "/jobs/" + TuskClient.segment(jobId) + "/restart", null);
  }

  JsonNode awaitJobEnd(String jobId) {
    return client.awaitJobEnd(jobId, JOB_TIMEOUT);
  }

  /** Waits until a restarted job has ended again (its end time changed). */
  JsonNode awaitRestartEnd(String jobId, long previousFinishedAt) {
    return TuskClient.await(
        () -> client.job(jobId),
        job ->
            TuskClient.jobEnded(job)
                && !job.path("finishedAt").isNull()
                && job.path("finishedAt").asLong() != previousFinishedAt,
        JOB_TIMEOUT,
        "restarted job " + jobId + " to end again");
  }

  /** The output commits a job's ends sealed, once there are at least {@code count}. */
  List<String> awaitOutputCommits(String jobId, int count, Duration timeout) {
    JsonNode job =
        TuskClient.await(
            () -> client.job(jobId),
            j -> j.path("outputCommits").size() >= count,
            timeout,
            count + " output commits of job " + jobId);
    List<String> ids = new ArrayList<>();
    job.path("outputCommits").forEach(id -> ids.add(id.asText()));
    return ids;
  }

  /** The jobs a commit started (its JobRefs), from the commit service. */
  JsonNode commitJobs(String commitId) {
    return client.commitGet("/commits/" + TuskClient.segment(commitId)).path("jobs");
  }

  /**
   * A lineage read, retried while the service answers 503 (its indexes rebalance when a new
   * pipeline's output topic joins) or 404 (not indexed yet).
   */
  JsonNode lineage(String path) {
    return TuskClient.await(() -> client.lineageGet(path), answer -> true, JOB_TIMEOUT, path);
  }

  /** Every datum of a job, by member (all pages). */
  List<JsonNode> datums(String jobId) {
    List<JsonNode> datums = new ArrayList<>();
    String after = null;
    do {
      String path =
          "/jobs/"
              + TuskClient.segment(jobId)
              + "/datums?limit=1000"
              + (after == null ? "" : "&after=" + TuskClient.segment(after));
      JsonNode page = lineage(path);
      page.path("datums").forEach(datums::add);
      after = page.path("next").isNull() ? null : page.path("next").asText(null);
    } while (after != null);
    return datums;
  }

  /**
   * A member read's answer: its status (200, or 404 absent, 410 erased or beyond the history floor)
   * and for 200 the member.
   */
  record MemberRead(int status, JsonNode body) {}

  /**
   * A member as of a commit (404 and 410 are answers; 503, "member stores are not available" while
   * the partition service rebalances because a repo's topics joined, is asked again until {@link
   * #JOB_TIMEOUT}; other errors throw).
   */
  MemberRead member(String repo, String member, String at) {
    String path =
        "/repos/"
            + TuskClient.segment(repo)
            + "/members/"
            + TuskClient.segment(member)
            + "?at="
            + TuskClient.segment(reference(at));
    MemberRead[] read = new MemberRead[1];
    TuskClient.await(
        () -> {
          try {
            read[0] = new MemberRead(200, client.commitGet(path));
          } catch (TuskClient.ApiError e) {
            if (e.status() != 404 && e.status() != 410) {
              throw e; // 503 is retried by await, anything else ends the read
            }
            read[0] = new MemberRead(e.status(), null);
          }
          return TuskClient.object();
        },
        answer -> true,
        JOB_TIMEOUT,
        path);
    return read[0];
  }

  /** Erases a member on a branch (the erasure request, with its commit). */
  JsonNode erase(String repo, String member, String reason, String branch) {
    return client.erase(repo, member, reason, branch);
  }

  /** An erasure request's state and jobs. */
  JsonNode erasure(String id) {
    return client.erasure(id);
  }

  /** A commit by ID: sequence, end offsets, the erasure it is for, its jobs. */
  JsonNode commit(String commitId) {
    return client.commitGet("/commits/" + TuskClient.segment(commitId));
  }

  /** Members per diff page the soak asks for: small, so every diff is read over several pages. */
  static final int DIFF_PAGE = 3;

  /**
   * The members' diff of two commits, read a page of {@link #DIFF_PAGE} at a time (each page asked
   * again while the partition service answers 503): the first page's counts and every page's
   * members, in the order the pages gave them.
   */
  JsonNode diff(String repo, String from, String to) {
    String path =
        "/repos/"
            + TuskClient.segment(repo)
            + "/diff?limit="
            + DIFF_PAGE
            + "&from="
            + TuskClient.segment(reference(from))
            + "&to="
            + TuskClient.segment(to);
    JsonNode first = diffPage(path);
    ObjectNode whole = first.deepCopy();
    ArrayNode members = whole.putArray("members");
    members.addAll((ArrayNode) first.path("members"));
    JsonNode page = first;
    while (page.hasNonNull("next")) {
      page = diffPage(path + "&after=" + TuskClient.segment(page.get("next").asText()));
      members.addAll((ArrayNode) page.path("members"));
    }
    whole.putNull("next");
    return whole;
  }

  private JsonNode diffPage(String path) {
    return TuskClient.await(
        () -> {
          try {
            return client.commitGet(path);
          } catch (TuskClient.ApiError e) {
            if (e.status() == 404) {
              throw new IllegalStateException(path + " -> 404: " + e.getMessage(), e);
            }
            throw e;
          }
        },
        answer -> true,
        JOB_TIMEOUT,
        path);
  }

  /**
   * How member and diff reads name a commit: by a 10-character prefix of its ID (README "Commit
   * references"), so every read the model checks also checks that a prefix resolves to the commit
   * its full ID names (a soak repo's few hundred random IDs share no 10-character prefix).
   */
  private static String reference(String commitId) {
    return commitId.length() > 10 ? commitId.substring(0, 10) : commitId;
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }

  /** The HTTP status of a call (2xx as 200). */
  static int statusOf(Runnable call) {
    try {
      call.run();
      return 200;
    } catch (TuskClient.ApiError e) {
      return e.status();
    }
  }
}
