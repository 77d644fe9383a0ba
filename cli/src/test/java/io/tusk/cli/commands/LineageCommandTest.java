package io.tusk.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * How {@code tusk lineage} prints answers shaped as docs/lineage.md gives them, for the parts the
 * end-to-end run ({@code LineageCommandIT}) does not reach: upstream nodes with their data and
 * rows' content, nodes left unexpanded, text outputs.
 */
class LineageCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldIndentUpstreamNodesUnderTheRowsThatAreThem() throws Exception {
    // Given a node whose first row is an upstream output (itself with a source row) and whose
    // second row is an upstream output beyond the depth
    JsonNode node =
        JSON.readTree(
            """
            {"pipeline": "cohorts", "member": "C1",
             "output": {"outputHash": "h2", "jobId": "j2", "commitId": "c2", "removed": false,
                        "position": {"topic": "cohorts.output", "partition": 0, "offset": 7}},
             "job": {"id": "j2", "state": "SUCCESS", "kind": "COMMIT", "mode": "INCREMENTAL"},
             "commit": {"id": "c2", "repo": "insights-by-cohort", "sequence": 2},
             "repo": "insights-by-cohort", "inputCount": 5, "inputsTruncated": true,
             "inputs": [
               {"topic": "insights.output", "partition": 1, "offset": 4, "table": "output",
                "upstream": {"pipeline": "insights", "member": "P1",
                  "output": {"outputHash": "h1", "position": {}, "data": {"score": 3}},
                  "job": {"id": "j1", "state": "SUCCESS"},
                  "commit": {"id": "c1", "repo": "omop", "sequence": 5},
                  "inputCount": 1,
                  "inputs": [{"topic": "omop.updates", "partition": 2, "offset": 9,
                              "table": "PERSON",
                              "content": {"encoding": "utf-8", "value": "P1,1970\\n"}}]}},
               {"topic": "insights.output", "partition": 0, "offset": 2, "table": "output",
                "upstream": {"pipeline": "insights", "member": "P2",
                             "output": {"outputHash": "h3"}, "truncated": true}}]}
            """);

    // When it is printed
    String out = print((o, n) -> LineageProvenance.printNode(o, n, ""), node);

    // Then the upstream node sits under its row, its source row under it, with the content
    assertThat(out)
        .contains("output cohorts/C1 hash h2\n")
        .contains("  job j2 SUCCESS (COMMIT INCREMENTAL)")
        .contains("  input commit c2 of repo insights-by-cohort (sequence 2)")
        .contains("  input rows: 5\n")
        .containsPattern("\n {6}upstream:\n {6}output insights/P1 hash h1\n")
        .contains("\n        data: {\"score\":3}\n")
        .contains("\n        job j1 SUCCESS")
        .containsPattern("\n {10}omop\\.updates +2 +9  PERSON\n {12}content: P1,1970\n")
        .contains(
            "\n      upstream output insights/P2 hash h3 (not expanded: --depth reached or node"
                + " limit)\n")
        // And the rows the service left out are counted
        .contains("\n    ... 3 more (--limit shows more per node)\n");
  }

  @Test
  void shouldPrintTheWholeDataWhenAnOutputIsNotAJsonObject() throws Exception {
    // Given the first version of a text output
    JsonNode changes =
        JSON.readTree(
            """
            {"pipeline": "report", "member": "P1", "from": null,
             "to": {"jobId": "j1", "commitId": "c1"},
             "inputs": {"added": [{"topic": "omop.updates", "partition": 0, "offset": 3,
                                   "table": "PERSON"}], "removed": [], "unchanged": 0},
             "output": {"changed": true, "before": null, "after": "line 1", "fields": null}}
            """);

    // When it is printed
    String out = print(LineageChanges::printChanges, changes);

    // Then it says it is the first version, the added row and the new data
    assertThat(out)
        .contains("output report/P1: job j1 (commit c1), its first version\n")
        .contains("input rows: 1 added, 0 removed, 0 unchanged\n")
        .contains("  + omop.updates partition 0 offset 3 (table PERSON)\n")
        .contains("output changed: yes\n")
        .contains("  after:  line 1\n")
        .doesNotContain("before:");
  }

  private static String print(BiConsumer<PrintWriter, JsonNode> printer, JsonNode node) {
    StringWriter text = new StringWriter();
    try (PrintWriter out = new PrintWriter(text)) {
      printer.accept(out, node);
    }
    return text.toString().replace(System.lineSeparator(), "\n");
  }
}
