package io.tusk.cli.soak;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One member's input to a job as the model sees it: a key that is equal exactly when the content
 * is, whether the transform fails on it, and the output it gives under a transform variant.
 */
record ModelInput(String contentKey, boolean fails, Function<String, String> outputOf) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The first stage's inputs: every member present at a commit. The content key is what the product
   * stores (and hashes); the transform reads the rows with the commit's layout.
   */
  static SortedMap<String, ModelInput> ofMembers(
      RepoModel repo, RepoModel.CommitInfo commit, boolean flakyFails) {
    SortedMap<String, ModelInput> inputs = new TreeMap<>();
    repo.membersAt(commit)
        .forEach(
            (member, rows) -> {
              List<String> read = repo.fitted(rows, commit.sequence());
              boolean fails =
                  rows.stream()
                      .anyMatch(row -> SoakOutputs.fails(row.table(), row.values(), flakyFails));
              inputs.put(
                  member,
                  new ModelInput(
                      String.join("\n", repo.storedContent(member, commit)),
                      fails,
                      variant -> SoakOutputs.rowsOutput(variant, member, read)));
            });
    return inputs;
  }

  /**
   * The second stage's inputs: the first stage's current outputs grouped by their group field (the
   * derived repo holds one row per upstream member with an output).
   */
  static SortedMap<String, ModelInput> ofGroups(Map<String, String> upstreamData) {
    SortedMap<String, SortedMap<String, String>> groups = new TreeMap<>();
    upstreamData.forEach(
        (member, data) ->
            groups.computeIfAbsent(groupOf(data), g -> new TreeMap<>()).put(member, data));
    SortedMap<String, ModelInput> inputs = new TreeMap<>();
    groups.forEach(
        (group, members) -> {
          StringBuilder key = new StringBuilder();
          members.forEach((m, d) -> key.append(m).append('\t').append(d).append('\n'));
          inputs.put(
              group,
              new ModelInput(
                  key.toString(), false, variant -> SoakOutputs.groupsOutput(group, members)));
        });
    return inputs;
  }

  /** The group field of a first-stage output the model expects. */
  static String groupOf(String data) {
    try {
      return JSON.readTree(data).path(SoakOutputs.GROUP_FIELD).asText();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the model made an output that is not JSON", e);
    }
  }
}
