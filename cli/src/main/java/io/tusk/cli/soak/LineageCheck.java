package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Output;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * The soak's check of the lineage service: after a job, the latest output the lineage service
 * answers for each of the job's members ({@code GET /pipelines/{p}/outputs/{member}}) is the one a
 * Kafka reader of {@code <pipeline>.output} sees: the same job, output hash and input rows, or
 * removed (or unknown) where the topic holds none. The index trails the topic, so each member is
 * asked again until it agrees or {@link #WAIT} passes.
 */
final class LineageCheck {
  /** How long the lineage index may trail the output topic. */
  static final Duration WAIT = Duration.ofSeconds(20);

  private static final long PAUSE_NANOS = Duration.ofMillis(100).toNanos();

  private final TuskClient client;
  private int checks;

  LineageCheck(TuskClient client) {
    this.client = client;
  }

  /** Members compared so far. */
  int checks() {
    return checks;
  }

  /**
   * Compares the lineage service's latest output of each of {@code members} (those in {@code
   * erased} aside: their lineage is purged) with {@code reader}'s current output.
   */
  List<String> check(
      String pipeline, Collection<String> members, OutputReader reader, Set<String> erased) {
    List<String> problems = new ArrayList<>();
    for (String member : members) {
      if (erased.contains(member)) {
        continue;
      }
      checks++;
      Output expected = reader.current(member);
      Instant deadline = Instant.now().plus(WAIT);
      String problem = compare(pipeline, member, expected);
      while (problem != null && Instant.now().isBefore(deadline)) {
        LockSupport.parkNanos(PAUSE_NANOS);
        problem = compare(pipeline, member, expected);
      }
      if (problem != null) {
        problems.add(problem);
      }
    }
    return problems;
  }

  /** The difference between the lineage service's answer and {@code expected}, or null. */
  private String compare(String pipeline, String member, Output expected) {
    String what = "lineage output of " + pipeline + "/" + member;
    JsonNode actual;
    try {
      actual =
          client.lineageGet(
              "/pipelines/"
                  + TuskClient.segment(pipeline)
                  + "/outputs/"
                  + TuskClient.segment(member));
    } catch (TuskClient.ApiError e) {
      if (e.status() == 404 && expected == null) {
        return null;
      }
      return what + ": expected " + describe(expected) + ", actual HTTP " + e.status();
    }
    boolean removed = actual.path("removed").asBoolean();
    if (expected == null) {
      return removed
          ? null
          : what + ": expected removed, actual job " + actual.path("jobId").asText();
    }
    List<String> inputs = new ArrayList<>();
    actual
        .path("inputs")
        .forEach(i -> inputs.add(i.path("partition").asInt() + "/" + i.path("offset").asLong()));
    List<String> expectedInputs = new ArrayList<>();
    for (InputRef input : expected.getInputs()) {
      expectedInputs.add(input.getPartition() + "/" + input.getOffset());
    }
    if (removed
        || !expected.getJobId().equals(actual.path("jobId").asText())
        || !expected.getOutputHash().equals(actual.path("outputHash").asText())
        || !expectedInputs.equals(inputs)) {
      return what
          + ": expected "
          + describe(expected)
          + " with inputs "
          + expectedInputs
          + ", actual "
          + (removed ? "removed" : "job " + actual.path("jobId").asText())
          + " output "
          + actual.path("outputHash").asText()
          + " with inputs "
          + inputs;
    }
    return null;
  }

  private static String describe(Output output) {
    return output == null
        ? "removed or none"
        : "job " + output.getJobId() + " output " + output.getOutputHash();
  }
}
