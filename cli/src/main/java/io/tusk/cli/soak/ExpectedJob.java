package io.tusk.cli.soak;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the reference model says one job must do: how many datums it has in all and the state each
 * processed member must end in (SUCCESS, FAILED or RECOVERED); every other datum is skipped.
 *
 * @param compareOnly a re-run over another commit than the current outputs': it must write no
 *     output
 */
record ExpectedJob(
    String jobId,
    String commitId,
    long total,
    SortedMap<String, String> datums,
    boolean compareOnly) {

  ExpectedJob {
    datums = new TreeMap<>(datums);
  }

  long toProcess() {
    return datums.size();
  }

  long skipped() {
    return total - datums.size();
  }

  long count(String state) {
    return datums.values().stream().filter(state::equals).count();
  }

  String state() {
    return count(PipelineModel.FAILED) > 0 ? "FAILURE" : "SUCCESS";
  }

  /** The same job after a restart re-ran some of its datums. */
  ExpectedJob restarted(Map<String, String> rerun) {
    SortedMap<String, String> updated = new TreeMap<>(datums);
    updated.putAll(rerun);
    return new ExpectedJob(jobId, commitId, total, updated, compareOnly);
  }
}
