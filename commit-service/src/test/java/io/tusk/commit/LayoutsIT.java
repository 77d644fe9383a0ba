package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Layout changes against the real broker: {@code PUT /repos/{repo}} starts a new layout version at
 * the next commit, which records it; the history lists every version; an unsafe change is a 409
 * naming it and changes nothing; a view of {@code tusk.repos} synced after the update has it.
 */
class LayoutsIT extends CommitServiceItBase {

  @Test
  void shouldStartANewLayoutAtTheNextCommitAndListEveryVersion() throws Exception {
    String repo = createRepo(1, 1);
    JsonObject first = seal(repo, null);
    assertThat(first.getInteger("layoutVersion")).isEqualTo(1);
    try (CompactedTopicView<RepoSpec> view =
        CompactedTopicView.start(
            settings.withInstanceId("it-layouts-" + suffix()), topics.repos, DEADLINE)) {

      // When a column is added with a default
      JsonObject v2 = repoBody(repo);
      JsonObject table = v2.getJsonArray("tables").getJsonObject(0);
      List<Object> columns = new ArrayList<>(table.getJsonArray("columns").getList());
      columns.add("PLAN");
      table
          .put("columns", new JsonArray(columns))
          .put("defaults", new JsonObject().put("PLAN", "x"));
      HttpResponse<Buffer> updated = put("/repos/" + repo, v2);

      // Then it is version 2 from the next commit's sequence, and a synced view has it at once
      assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
      JsonObject spec = updated.bodyAsJsonObject();
      assertThat(spec.getInteger("layoutVersion")).isEqualTo(2);
      assertThat(spec.getLong("layoutStartSequence")).isEqualTo(2L);
      assertThat(view.sync(Duration.ofSeconds(30))).isTrue();
      assertThat(view.get(repo).orElseThrow().getLayoutVersion()).isEqualTo(2);

      // And the same layout again changes nothing
      HttpResponse<Buffer> again = put("/repos/" + repo, v2);
      assertThat(again.bodyAsJsonObject().getInteger("layoutVersion")).isEqualTo(2);
      assertThat(again.bodyAsJsonObject().getBoolean("changed")).isFalse();
      assertThat(spec.getBoolean("changed")).isTrue();

      // And an unsafe change is refused naming it
      JsonObject narrowed = v2.copy();
      narrowed.getJsonArray("tables").getJsonObject(0).put("memberKey", "PLAN");
      assertError(put("/repos/" + repo, narrowed), 409, "member key of table 'CONDITION_ERA'");
      assertError(
          put("/repos/" + repo, v2.copy().put("partitions", 7)), 409, "partitions cannot change");
      assertError(put("/repos/" + repo, new JsonObject()), 400, "tables");

      // And the next commit is sealed under version 2, which the history starts there
      JsonObject second = seal(repo, null);
      assertThat(second.getInteger("layoutVersion")).isEqualTo(2);
      JsonArray layouts =
          get("/repos/" + repo + "/layouts").bodyAsJsonObject().getJsonArray("layouts");
      assertThat(layouts).hasSize(2);
      assertThat(layouts.getJsonObject(0).getString("startCommit"))
          .isEqualTo(first.getString("id"));
      assertThat(layouts.getJsonObject(1).getString("startCommit"))
          .isEqualTo(second.getString("id"));
      assertThat(layouts.getJsonObject(1).getJsonArray("changes").getList())
          .containsExactly("add column CONDITION_ERA.PLAN (older rows: default 'x')");
    }
  }
}
