package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Output;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares what Tusk did with what the reference model says, returning every difference as a line
 * "what: expected X, actual Y" (empty: none).
 */
final class SoakChecks {
  private static final int MAX_TEXT = 300;

  private SoakChecks() {}

  /** A job's counts and state, and the state of every datum it processed. */
  static List<String> job(ExpectedJob expected, JsonNode actual, List<JsonNode> datums) {
    return job(expected, actual, datums, java.util.Set.of());
  }

  /**
   * As {@link #job(ExpectedJob, JsonNode, List)}, leaving out of the datum lists the members an
   * erasure purged from the lineage indexes (their datums are counted, but no longer listed).
   */
  static List<String> job(
      ExpectedJob expected, JsonNode actual, List<JsonNode> datums, java.util.Set<String> purged) {
    List<String> problems = new ArrayList<>();
    String job = "job " + expected.jobId();
    compare(problems, job + " state", expected.state(), actual.path("state").asText());
    compare(problems, job + " total", expected.total(), actual.path("total").asLong());
    compare(problems, job + " toProcess", expected.toProcess(), actual.path("toProcess").asLong());
    compare(problems, job + " skipped", expected.skipped(), actual.path("skipped").asLong());
    compare(
        problems,
        job + " processed",
        expected.count(PipelineModel.SUCCESS),
        actual.path("processed").asLong());
    compare(
        problems,
        job + " failed",
        expected.count(PipelineModel.FAILED),
        actual.path("failed").asLong());
    compare(
        problems,
        job + " recovered",
        expected.count(PipelineModel.RECOVERED),
        actual.path("recovered").asLong());
    if (expected.compareOnly()) {
      compare(
          problems,
          job + " different outputs (deterministic transform)",
          0L,
          actual.path("different").asLong());
    }
    SortedMap<String, String> states = datumStates(datums);
    SortedMap<String, String> wanted = new java.util.TreeMap<>(expected.datums());
    states.keySet().removeAll(purged);
    wanted.keySet().removeAll(purged);
    if (!states.equals(wanted)) {
      problems.add(job + " datums " + mapDifference(wanted, states));
    }
    return problems;
  }

  /** Member to datum state, from the lineage service's datum list. */
  static SortedMap<String, String> datumStates(List<JsonNode> datums) {
    SortedMap<String, String> states = new TreeMap<>();
    datums.forEach(d -> states.put(d.path("member").asText(), d.path("state").asText()));
    return states;
  }

  /** Every current output of a pipeline against the model's. */
  static List<String> outputs(PipelineModel model, OutputReader reader) {
    List<String> problems = new ArrayList<>();
    SortedMap<String, String> expected = model.currentData();
    SortedMap<String, String> actual = reader.currentData();
    if (!expected.equals(actual)) {
      problems.add("current outputs of " + model.name() + " " + mapDifference(expected, actual));
    }
    return problems;
  }

  /**
   * The input rows of every output a first-stage job wrote: each points at a valid row sent for
   * that member, and together they are the member's content at the job's commit.
   */
  static List<String> rowsProvenance(
      ExpectedJob job, OutputReader reader, RepoModel repo, String updatesTopic) {
    List<String> problems = new ArrayList<>();
    Map<String, SentRow> sent = repo.rowsByPosition();
    SortedMap<String, List<SentRow>> members = repo.membersAt(repo.commit(job.commitId()));
    for (String member : job.datums().keySet()) {
      Output output = reader.current(member);
      if (output == null || !output.getJobId().equals(job.jobId())) {
        continue;
      }
      List<String> texts = new ArrayList<>();
      for (InputRef input : output.getInputs()) {
        SentRow row = sent.get(input.getPartition() + "/" + input.getOffset());
        String where = input.getTopic() + "/" + input.getPartition() + "/" + input.getOffset();
        if (!input.getTopic().equals(updatesTopic) || row == null || !row.valid()) {
          problems.add(
              "output of " + member + " names input " + where + ", not a row the soak sent");
        } else if (!member.equals(row.member())) {
          problems.add(
              "output of " + member + " names input " + where + ", a row of " + row.member());
        } else {
          texts.add(row.text());
        }
      }
      texts.sort(null);
      List<String> content = RepoModel.content(members.get(member));
      if (problems.isEmpty() && !texts.equals(content)) {
        problems.add(
            "input rows of "
                + member
                + "'s output: expected "
                + shorten(content.toString())
                + ", actual "
                + shorten(texts.toString()));
      }
      if (output.getInputCount() != -1 && output.getInputCount() != content.size()) {
        problems.add(
            "inputCount of "
                + member
                + "'s output: expected -1 or "
                + content.size()
                + ", actual "
                + output.getInputCount());
      }
    }
    return problems;
  }

  /**
   * The input rows of every output a second-stage job wrote: each is the current first-stage output
   * of a member of the group.
   */
  static List<String> groupsProvenance(
      ExpectedJob job,
      OutputReader groups,
      OutputReader upstream,
      Map<String, String> upstreamData) {
    List<String> problems = new ArrayList<>();
    for (String group : job.datums().keySet()) {
      Output output = groups.current(group);
      if (output == null || !output.getJobId().equals(job.jobId())) {
        continue;
      }
      SortedMap<String, String> expected = new TreeMap<>();
      upstreamData.forEach(
          (member, data) -> {
            if (ModelInput.groupOf(data).equals(group)) {
              expected.put(member, data);
            }
          });
      SortedMap<String, String> named = new TreeMap<>();
      for (InputRef input : output.getInputs()) {
        Output row = upstream.at(input.getPartition(), input.getOffset());
        if (!input.getTopic().equals(upstream.topicName()) || row == null) {
          problems.add(
              "output of group "
                  + group
                  + " names input "
                  + input.getTopic()
                  + "/"
                  + input.getPartition()
                  + "/"
                  + input.getOffset()
                  + ", not an output of the first stage");
        } else {
          named.put(
              row.getMember(), StandardCharsets.UTF_8.decode(row.getData().duplicate()).toString());
        }
      }
      if (!named.equals(expected)) {
        problems.add("inputs of group " + group + "'s output " + mapDifference(expected, named));
      }
    }
    return problems;
  }

  /** A sealed commit once complete: record count, rejected rows, changed members. */
  static List<String> commit(RepoModel repo, RepoModel.CommitInfo commit, JsonNode actual) {
    List<String> problems = new ArrayList<>();
    String name = "commit #" + commit.sequence();
    compare(
        problems,
        name + " rowCount",
        (long) repo.recordsOf(commit).size(),
        actual.path("rowCount").asLong());
    compare(
        problems, name + " rejected", repo.rejectedIn(commit), actual.path("rejected").asLong());
    long changed = repo.changedMembers(commit);
    compare(problems, name + " changedMembers", changed, actual.path("changedMembers").asLong());
    return problems;
  }

  /**
   * A member as of a commit: its rows, or where the model has none 404, or 410 "erased" once the
   * erasure log names the member.
   */
  static List<String> member(
      RepoModel repo, RepoModel.CommitInfo commit, String member, SoakDriver.MemberRead actual) {
    List<String> expected = repo.fitted(repo.membersAt(commit).get(member), commit.sequence());
    int expectedStatus = !expected.isEmpty() ? 200 : repo.everErased(member) ? 410 : 404;
    List<String> texts = new ArrayList<>();
    if (actual.status() == 200) {
      for (JsonNode row : actual.body().path("rows")) {
        String table = row.path("table").asText();
        List<String> values = new ArrayList<>();
        for (String column : SoakTables.columns(table, repo.taggedAt(commit.sequence()))) {
          JsonNode value = row.path("values").path(column);
          values.add(value.isMissingNode() || value.isNull() ? null : value.asText());
        }
        texts.add(SoakTables.rowText(table, values));
      }
    }
    texts.sort(null);
    List<String> problems = new ArrayList<>();
    if (!expected.equals(texts) || expectedStatus != actual.status()) {
      problems.add(
          "member "
              + member
              + " as of commit #"
              + commit.sequence()
              + ": expected "
              + describe(expectedStatus, expected)
              + ", actual "
              + describe(actual.status(), texts));
    }
    return problems;
  }

  private static String describe(int status, List<String> texts) {
    return switch (status) {
      case 200 -> shorten(texts.toString());
      case 404 -> "absent (404)";
      case 410 -> "erased (410)";
      default -> "status " + status;
    };
  }

  /** The members added, changed and removed between two commits. */
  static List<String> diff(
      RepoModel repo, RepoModel.CommitInfo from, RepoModel.CommitInfo to, JsonNode actual) {
    SortedMap<String, String> expected = repo.diff(from, to);
    SortedMap<String, String> changes = new TreeMap<>();
    List<String> listed = new ArrayList<>();
    actual
        .path("members")
        .forEach(
            m -> {
              listed.add(m.path("member").asText());
              changes.put(
                  m.path("member").asText(), m.path("change").asText().toLowerCase(Locale.ROOT));
            });
    List<String> problems = new ArrayList<>();
    // The API's order (README): shorter member keys first, then byte-wise; each member once.
    List<String> ordered = new ArrayList<>(changes.keySet());
    ordered.sort(
        Comparator.comparingInt((String m) -> m.getBytes(StandardCharsets.UTF_8).length)
            .thenComparing(Comparator.naturalOrder()));
    if (!listed.equals(ordered)) {
      problems.add(
          "diff of commits #"
              + from.sequence()
              + " and #"
              + to.sequence()
              + " listed its members as "
              + listed
              + ", not once each in key order "
              + ordered);
    }
    Map<String, Long> counts = new TreeMap<>();
    expected.values().forEach(change -> counts.merge(change, 1L, Long::sum));
    for (String kind : List.of("added", "changed", "removed")) {
      compare(
          problems,
          "diff of commits #" + from.sequence() + " and #" + to.sequence() + " count " + kind,
          counts.getOrDefault(kind, 0L),
          actual.path(kind).asLong());
    }
    if (!expected.equals(changes)) {
      problems.add(
          "diff of commits #"
              + from.sequence()
              + " and #"
              + to.sequence()
              + " "
              + mapDifference(expected, changes));
    }
    return problems;
  }

  private static void compare(List<String> problems, String what, Object expected, Object actual) {
    if (!Objects.equals(expected, actual)) {
      problems.add(what + ": expected " + expected + ", actual " + actual);
    }
  }

  /** The keys whose values differ, each with its expected and actual value. */
  static String mapDifference(Map<String, String> expected, Map<String, String> actual) {
    TreeSet<String> keys = new TreeSet<>(expected.keySet());
    keys.addAll(actual.keySet());
    StringBuilder text = new StringBuilder("differ at");
    for (String key : keys) {
      String want = expected.get(key);
      String got = actual.get(key);
      if (!Objects.equals(want, got)) {
        text.append("\n      ")
            .append(key)
            .append(": expected ")
            .append(want == null ? "none" : shorten(want))
            .append(", actual ")
            .append(got == null ? "none" : shorten(got));
      }
    }
    return text.toString();
  }

  private static String shorten(String text) {
    return text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT) + "...";
  }
}
