package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link MemberQueries#mergeDiffs}: the diff page of a repo whose member partitions several
 * partition-service instances hold, from each instance's part.
 */
class DiffMergeTest {

  @Test
  void shouldListTheFirstMembersOfAllPartsInKeyOrderWithSummedCounts() {
    // Given two parts of a first page of 3, in key order (shorter keys first)
    JsonObject a = part(List.of("9", "100", "1000"), "1000", 1L, 4L, 0L);
    JsonObject b = part(List.of("10", "11"), null, 2L, 0L, 0L);

    // When they are merged
    JsonObject page = MemberQueries.mergeDiffs(List.of(a, b), 3);

    // Then the page holds the 3 first of all, the counts of both, and a next page
    assertThat(members(page)).containsExactly("9", "10", "11");
    assertThat(page.getLong("added")).isEqualTo(3L);
    assertThat(page.getLong("changed")).isEqualTo(4L);
    assertThat(page.getLong("removed")).isZero();
    assertThat(page.getString("next")).isEqualTo("11");
  }

  @Test
  void shouldHaveANextPageWhenAPartHadMoreThoughThePageIsNotFull() {
    // Given parts of a later page (no counts), one of which was cut at the limit
    JsonObject a = part(List.of("5"), "5", null, null, null);
    JsonObject b = part(List.of(), null, null, null, null);

    // When they are merged / Then the page says there is more, and has no counts
    JsonObject page = MemberQueries.mergeDiffs(List.of(a, b), 1);
    assertThat(members(page)).containsExactly("5");
    assertThat(page.getString("next")).isEqualTo("5");
    assertThat(page.getValue("added")).isNull();
  }

  @Test
  void shouldEndWhenNoPartHasMore() {
    JsonObject page =
        MemberQueries.mergeDiffs(
            List.of(part(List.of("1"), null, 1L, 0L, 0L), part(List.of("2"), null, 0L, 1L, 0L)), 5);
    assertThat(members(page)).containsExactly("1", "2");
    assertThat(page.getString("next")).isNull();
  }

  private static JsonObject part(
      List<String> members, String next, Long added, Long changed, Long removed) {
    JsonArray listed = new JsonArray();
    members.forEach(m -> listed.add(new JsonObject().put("member", m).put("change", "changed")));
    return new JsonObject()
        .put("from", "c1")
        .put("to", "c2")
        .put("added", added)
        .put("changed", changed)
        .put("removed", removed)
        .put("members", listed)
        .put("next", next);
  }

  private static List<String> members(JsonObject page) {
    return page.getJsonArray("members").stream()
        .map(m -> ((JsonObject) m).getString("member"))
        .toList();
  }
}
