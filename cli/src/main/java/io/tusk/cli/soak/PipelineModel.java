package io.tusk.cli.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The reference model of one pipeline: its spec (transform variant, error command), its current
 * outputs per member and the members whose last datum failed. A job processes exactly the members
 * whose desired output state (spec and content at the job's commit) differs from the current one (a
 * failed member keeps its older output, so it differs until a datum succeeds; the failed set is
 * what restarts re-run), and removal datums for members with an output that are absent; everything
 * else is skipped.
 */
final class PipelineModel {
  static final String SUCCESS = "SUCCESS";
  static final String FAILED = "FAILED";
  static final String RECOVERED = "RECOVERED";

  /** The soak's two stages. */
  enum Stage {
    ROWS,
    GROUPS
  }

  /** How a job picks its datums. */
  enum Mode {
    /** Seals, branch moves, creations, updates, plain re-runs: what differs, plus failures. */
    CHANGED,
    /** A re-run with reprocess over the commit the outputs reflect: every member, written. */
    REPROCESS,
    /** A re-run (with reprocess or not) over another commit: every member, nothing written. */
    COMPARE_ONLY
  }

  /**
   * A member's current output state.
   *
   * @param spec the spec whose transform computed it
   * @param content the member content it was computed from
   * @param data the output, or null when the datum was recovered (its output is removed)
   * @param acceptedAs the spec it counts as current for: its own, or the spec of an update that
   *     kept outputs ({@code keepOutputsOnUpdate}: later jobs use the new spec only for changed
   *     members)
   */
  record OutputState(String spec, String content, String data, String acceptedAs) {}

  private final String name;
  private final Stage stage;
  private String variant;
  private boolean errCmd;
  private final SortedMap<String, OutputState> outputs = new TreeMap<>();
  private final SortedSet<String> failed = new TreeSet<>();
  private final List<ExpectedJob> jobs = new ArrayList<>();
  private String processedCommit;
  private ExpectedJob lastWritingJob;
  private String lastWritingSpec;

  PipelineModel(String name, Stage stage, String variant, boolean errCmd) {
    this.name = Objects.requireNonNull(name, "name");
    this.stage = stage;
    this.variant = variant;
    this.errCmd = errCmd;
  }

  String name() {
    return name;
  }

  Stage stage() {
    return stage;
  }

  String variant() {
    return variant;
  }

  boolean errCmd() {
    return errCmd;
  }

  /** The spec's identity in the model: what a spec hash stands for. */
  String specId() {
    return variant + (errCmd ? "+err" : "");
  }

  /** The input commit the current outputs reflect (null before the first job). */
  String processedCommit() {
    return processedCommit;
  }

  /** The newest job that wrote outputs (null before the first). */
  ExpectedJob lastWritingJob() {
    return lastWritingJob;
  }

  /** True if the spec changed since {@link #lastWritingJob()} (a restart must be refused). */
  boolean specChangedSinceLastJob() {
    return lastWritingJob != null && !specId().equals(lastWritingSpec);
  }

  /** Every job the model ran, oldest first. */
  List<ExpectedJob> jobs() {
    return jobs;
  }

  SortedSet<String> failed() {
    return failed;
  }

  /** Member to current output data (members with no output, or a removed one, are absent). */
  SortedMap<String, String> currentData() {
    SortedMap<String, String> data = new TreeMap<>();
    outputs.forEach(
        (member, state) -> {
          if (state.data() != null) {
            data.put(member, state.data());
          }
        });
    return data;
  }

  /** Runs a job over {@code inputs} (every member present at the commit) and applies it. */
  ExpectedJob run(String jobId, String commitId, Map<String, ModelInput> inputs, Mode mode) {
    boolean write = mode != Mode.COMPARE_ONLY;
    SortedMap<String, String> datums = new TreeMap<>();
    long total = inputs.size();
    for (Map.Entry<String, ModelInput> entry : inputs.entrySet()) {
      String member = entry.getKey();
      OutputState current = outputs.get(member);
      boolean differs =
          current == null
              || !current.content().equals(entry.getValue().contentKey())
              || !current.acceptedAs().equals(specId());
      if (mode != Mode.CHANGED || differs) {
        datums.put(member, process(member, entry.getValue(), write));
      }
    }
    if (write) {
      for (String member : new ArrayList<>(outputs.keySet())) {
        if (!inputs.containsKey(member)) {
          // Absent at the commit: a removal datum if it has an output (a recovered datum has
          // none: its state is simply dropped).
          if (outputs.remove(member).data() != null) {
            datums.put(member, SUCCESS);
            total++;
          }
          failed.remove(member);
        }
      }
      failed.retainAll(inputs.keySet());
    }
    ExpectedJob job = new ExpectedJob(jobId, commitId, total, datums, !write);
    jobs.add(job);
    if (write) {
      processedCommit = commitId;
      lastWritingJob = job;
      lastWritingSpec = specId();
    }
    return job;
  }

  /**
   * Restarts the failed datums of the last writing job over {@code inputs} (the members at its
   * commit) and applies the results.
   */
  ExpectedJob restart(Map<String, ModelInput> inputs) {
    SortedMap<String, String> rerun = new TreeMap<>();
    lastWritingJob
        .datums()
        .forEach(
            (member, state) -> {
              if (state.equals(FAILED) && failed.contains(member) && inputs.containsKey(member)) {
                rerun.put(member, process(member, inputs.get(member), true));
              }
            });
    lastWritingJob = lastWritingJob.restarted(rerun);
    for (int i = 0; i < jobs.size(); i++) {
      if (jobs.get(i).jobId().equals(lastWritingJob.jobId())) {
        jobs.set(i, lastWritingJob);
      }
    }
    return lastWritingJob;
  }

  /** A spec update: the next jobs run the new transform. */
  void update(String newVariant, boolean newErrCmd, boolean keepOutputs) {
    String previous = specId();
    variant = newVariant;
    errCmd = newErrCmd;
    // Kept outputs (those current for the previous spec) count as the new spec's for unchanged
    // members; an older output a failed member kept is not one of them. Otherwise an output is
    // current only for the spec that computed it (an update back to that spec needs no new run).
    outputs.replaceAll(
        (member, state) ->
            new OutputState(
                state.spec(),
                state.content(),
                state.data(),
                !keepOutputs
                    ? state.spec()
                    : state.acceptedAs().equals(previous) ? specId() : state.acceptedAs()));
  }

  /**
   * After a mismatch (with --keep-going): takes the product's outputs and failed datums as the
   * current state, so later checks test later operations rather than repeat this difference.
   */
  void adopt(Map<String, String> actualData, Map<String, String> jobDatums) {
    TreeSet<String> members = new TreeSet<>(outputs.keySet());
    members.addAll(actualData.keySet());
    for (String member : members) {
      OutputState state = outputs.get(member);
      String expected = state == null ? null : state.data();
      String actual = actualData.get(member);
      if (!Objects.equals(expected, actual)) {
        if (actual == null) {
          outputs.remove(member);
        } else {
          outputs.put(member, new OutputState("?", "?", actual, "?"));
        }
      }
    }
    jobDatums.forEach(
        (member, state) -> {
          if (state.equals(FAILED)) {
            failed.add(member);
          } else {
            failed.remove(member);
          }
        });
  }

  private String process(String member, ModelInput input, boolean write) {
    if (input.fails()) {
      if (errCmd) {
        if (write) {
          outputs.put(member, new OutputState(specId(), input.contentKey(), null, specId()));
          failed.remove(member);
        }
        return RECOVERED;
      }
      if (write) {
        failed.add(member);
      }
      return FAILED;
    }
    if (write) {
      outputs.put(
          member,
          new OutputState(specId(), input.contentKey(), input.outputOf().apply(variant), specId()));
      failed.remove(member);
    }
    return SUCCESS;
  }
}
