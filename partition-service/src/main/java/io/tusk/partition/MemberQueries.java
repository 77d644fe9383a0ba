package io.tusk.partition;

import io.tusk.common.http.ApiException;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.TableLayout;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.Seal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The member side's history queries (docs/versioning-and-processing.md "Queries"): a member as of a
 * commit, the members that differ between two commits (from the per-commit changed-member sets,
 * never from all members), and one member's row changes between two commits. They read the member
 * topology's stores of the partition holding the member; every call blocks on store reads, so
 * callers run it off the event loop.
 */
final class MemberQueries {
  /** Most members one diff page may list. */
  static final int MAX_LIMIT = 10_000;

  /** The stores of one member partition, as the running application exposes them. */
  interface Stores {
    /**
     * The store {@code name} of member partition {@code partition}.
     *
     * @throws ApiException 503 while the store is not available here (e.g. rebalancing)
     */
    <K, V> ReadOnlyKeyValueStore<K, V> store(String name, int partition);
  }

  private final Function<String, Optional<RepoSpec>> repos;
  private final Stores stores;

  MemberQueries(Function<String, Optional<RepoSpec>> repos, Stores stores) {
    this.repos = Objects.requireNonNull(repos, "repos");
    this.stores = Objects.requireNonNull(stores, "stores");
  }

  /** The by-member partition of {@code member} (the producer's default partitioner). */
  static int partitionOf(String member, int partitions) {
    return Utils.toPositive(Utils.murmur2(member.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /**
   * {@code GET /repos/{repo}/members/{member}?at=}: the member's version as of commit {@code at}
   * (latest without it).
   */
  JsonObject member(String repo, String member, String at) {
    RepoSpec spec = spec(repo);
    int partition = partitionOf(member, spec.getMemberPartitions());
    long sequence = at == null ? Long.MAX_VALUE : sequenceOf(repo, at, partition, "at");
    MemberObject version = versionAsOf(repo, member, sequence, partition);
    if (!MemberVersions.present(version)) {
      throw ApiException.notFound(
          "member "
              + member
              + " of repo "
              + repo
              + (at == null ? " does not exist" : " does not exist as of commit " + at));
    }
    // Shown in the layout of the commit asked about: older columns as of older commits, and the
    // added columns' defaults for rows stored before the layout added them.
    RepoLayout layout = new RepoLayout(spec).at(sequence);
    return memberJson(version, layout.fit(versions(partition).rows(version)), layout);
  }

  /**
   * {@code GET /repos/{repo}/diff?from=&to=&limit=&after=}: the members whose content differs
   * between the two commits, in key order (shorter names first, then byte-wise: {@link
   * StoreKeys#MEMBER_ORDER}), a page of at most {@code limit} after {@code after}.
   *
   * <p>Candidates are the members of the per-commit changed sets between the two commits, read as
   * one stream in key order (a merge of the sets' store iterators), so a page costs what it lists
   * and the unchanged candidates before its end, never the whole diff. The counts cover the whole
   * diff and come with the first page only (one full pass); later pages answer them null.
   */
  JsonObject diff(String repo, String from, String to, int limit, String after) {
    return diff(repo, from, to, limit, after, allPartitions(repo));
  }

  /**
   * {@link #diff(String, String, String, int, String)} over the members of {@code partitions} only:
   * one instance's part of a diff whose partitions several instances hold ({@link #mergeDiffs}
   * joins the parts).
   */
  JsonObject diff(
      String repo, String from, String to, int limit, String after, Set<Integer> partitions) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw ApiException.badRequest("limit must be between 1 and " + MAX_LIMIT);
    }
    RepoSpec spec = spec(repo);
    int count = spec.getMemberPartitions();
    for (int p : partitions) {
      if (p < 0 || p >= count) {
        throw ApiException.badRequest(
            "partitions: "
                + p
                + " is not a member partition of repo "
                + repo
                + " (0-"
                + (count - 1)
                + ")");
      }
    }
    long[] fromSeq = new long[count];
    long[] toSeq = new long[count];
    for (int p : partitions) {
      fromSeq[p] = sequenceOf(repo, from, p, "from");
      toSeq[p] = sequenceOf(repo, to, p, "to");
    }
    boolean counting = after == null;
    Map<String, Long> counts =
        new LinkedHashMap<>(Map.of("added", 0L, "changed", 0L, "removed", 0L));
    JsonArray members = new JsonArray();
    String next = null;
    try (Candidates candidates = new Candidates(repo, partitions, fromSeq, toSeq, after)) {
      for (Candidate candidate = candidates.next();
          candidate != null;
          candidate = candidates.next()) {
        int p = candidate.partition();
        String member = candidate.member();
        String change =
            change(
                versionAsOf(repo, member, fromSeq[p], p), versionAsOf(repo, member, toSeq[p], p));
        if (change.equals("unchanged")) {
          continue;
        }
        if (counting) {
          counts.merge(change, 1L, Long::sum);
        }
        if (members.size() < limit) {
          members.add(new JsonObject().put("member", member).put("change", change));
        } else {
          next = members.getJsonObject(members.size() - 1).getString("member");
          if (!counting) {
            break;
          }
        }
      }
    }
    return new JsonObject()
        .put("from", from)
        .put("to", to)
        .put("added", counting ? counts.get("added") : null)
        .put("changed", counting ? counts.get("changed") : null)
        .put("removed", counting ? counts.get("removed") : null)
        .put("members", members)
        .put("next", next);
  }

  /** Every member partition of {@code repo} (404 for an unknown repo). */
  Set<Integer> allPartitions(String repo) {
    Set<Integer> all = new java.util.TreeSet<>();
    for (int p = 0; p < spec(repo).getMemberPartitions(); p++) {
      all.add(p);
    }
    return all;
  }

  /** The member partition of {@code member} of {@code repo} (404 for an unknown repo). */
  int partitionOf(String repo, String member) {
    return partitionOf(member, spec(repo).getMemberPartitions());
  }

  /**
   * One diff page from the parts of several instances, each over its own partitions and each a page
   * of at most {@code limit} members after the same {@code after}: the first {@code limit} members
   * of all parts in key order, the counts summed (first page), and a {@code next} when any part had
   * more or the parts together list more than the page holds.
   */
  static JsonObject mergeDiffs(List<JsonObject> parts, int limit) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    List<JsonObject> members = new ArrayList<>();
    boolean more = false;
    boolean counted = true;
    long added = 0;
    long changed = 0;
    long removed = 0;
    for (JsonObject part : parts) {
      part.getJsonArray("members").forEach(m -> members.add((JsonObject) m));
      more |= part.getString("next") != null;
      if (part.getValue("added") == null) {
        counted = false;
      } else {
        added += part.getLong("added");
        changed += part.getLong("changed");
        removed += part.getLong("removed");
      }
    }
    members.sort(
        java.util.Comparator.comparing(m -> m.getString("member"), StoreKeys.MEMBER_ORDER));
    more |= members.size() > limit;
    List<JsonObject> page = members.subList(0, Math.min(limit, members.size()));
    JsonObject first = parts.get(0);
    return new JsonObject()
        .put("from", first.getValue("from"))
        .put("to", first.getValue("to"))
        .put("added", counted ? added : null)
        .put("changed", counted ? changed : null)
        .put("removed", counted ? removed : null)
        .put("members", new JsonArray(new ArrayList<>(page)))
        .put(
            "next", more && !page.isEmpty() ? page.get(page.size() - 1).getString("member") : null);
  }

  /** A candidate member of a diff and its partition. */
  private record Candidate(String member, int partition) {}

  /**
   * The members of the changed sets of every commit between two commits (per partition: the sets of
   * the sequences above the lower and up to the higher), after {@code after}, in key order ({@link
   * StoreKeys#MEMBER_ORDER}, the order each set's range iterates in), each once: a merge of one
   * store iterator per partition and commit.
   */
  private final class Candidates implements AutoCloseable {
    private final java.util.PriorityQueue<Source> queue =
        new java.util.PriorityQueue<>(
            java.util.Comparator.comparing(Source::member, StoreKeys.MEMBER_ORDER));
    private final List<KeyValueIterator<Bytes, Long>> open = new ArrayList<>();

    private record Source(String member, int partition, KeyValueIterator<Bytes, Long> iterator) {}

    Candidates(String repo, Set<Integer> partitions, long[] fromSeq, long[] toSeq, String after) {
      for (int p : partitions) {
        ReadOnlyKeyValueStore<Bytes, Long> changed =
            stores.store(PartitionStores.CHANGED_MEMBERS, p);
        long low = Math.min(fromSeq[p], toSeq[p]);
        long high = Math.max(fromSeq[p], toSeq[p]);
        for (long s = low + 1; s <= high; s++) {
          Bytes prefix = StoreKeys.changedSet(repo, s);
          Bytes start = after == null ? prefix : StoreKeys.changed(repo, s, after);
          KeyValueIterator<Bytes, Long> iterator =
              changed.range(start, StoreKeys.upperBound(prefix));
          open.add(iterator);
          advance(iterator, p, after);
        }
      }
    }

    private void advance(KeyValueIterator<Bytes, Long> iterator, int partition, String after) {
      while (iterator.hasNext()) {
        String member = StoreKeys.decodeChanged(iterator.next().key).member();
        if (after == null || StoreKeys.MEMBER_ORDER.compare(member, after) > 0) {
          queue.add(new Source(member, partition, iterator));
          return;
        }
      }
    }

    /** The next candidate, or null when there is none. */
    Candidate next() {
      Source first = queue.poll();
      if (first == null) {
        return null;
      }
      advance(first.iterator(), first.partition(), first.member());
      while (!queue.isEmpty() && queue.peek().member().equals(first.member())) {
        Source same = queue.poll();
        advance(same.iterator(), same.partition(), same.member());
      }
      return new Candidate(first.member(), first.partition());
    }

    @Override
    public void close() {
      open.forEach(KeyValueIterator::close);
    }
  }

  /** {@code GET /repos/{repo}/diff/{member}?from=&to=}: one member's row changes. */
  JsonObject memberDiff(String repo, String member, String from, String to) {
    RepoSpec spec = spec(repo);
    int p = partitionOf(member, spec.getMemberPartitions());
    long toSequence = sequenceOf(repo, to, p, "to");
    MemberObject before = versionAsOf(repo, member, sequenceOf(repo, from, p, "from"), p);
    MemberObject after = versionAsOf(repo, member, toSequence, p);
    // Both sides in the layout of "to", so a layout change alone changes no row.
    RepoLayout layout = new RepoLayout(spec).at(toSequence);
    if (!MemberVersions.present(before) && !MemberVersions.present(after)) {
      throw ApiException.notFound(
          "member " + member + " of repo " + repo + " exists at neither commit");
    }
    List<Row> oldRows =
        MemberVersions.present(before) ? layout.fit(versions(p).rows(before)) : List.of();
    List<Row> newRows =
        MemberVersions.present(after) ? layout.fit(versions(p).rows(after)) : List.of();
    Map<List<Object>, Row> oldKeyed = new HashMap<>();
    Map<List<Object>, List<Row>> oldPlain = new HashMap<>();
    index(oldRows, layout, oldKeyed, oldPlain);
    JsonArray added = new JsonArray();
    JsonArray replaced = new JsonArray();
    for (Row row : newRows) {
      List<Object> key = keyOf(row, layout);
      if (key != null) {
        Row old = oldKeyed.remove(key);
        if (old == null) {
          added.add(rowJson(row, layout));
        } else if (!old.getValues().equals(row.getValues())) {
          replaced.add(
              new JsonObject()
                  .put("before", rowJson(old, layout))
                  .put("after", rowJson(row, layout)));
        }
      } else {
        List<Row> same = oldPlain.get(List.of(row.getTable(), row.getValues()));
        if (same == null || same.isEmpty()) {
          added.add(rowJson(row, layout));
        } else {
          same.remove(same.size() - 1);
        }
      }
    }
    JsonArray removed = new JsonArray();
    oldKeyed.values().forEach(row -> removed.add(rowJson(row, layout)));
    oldPlain.values().forEach(rows -> rows.forEach(row -> removed.add(rowJson(row, layout))));
    return new JsonObject()
        .put("member", member)
        .put("change", change(before, after))
        .put("added", added)
        .put("replaced", replaced)
        .put("removed", removed);
  }

  private static void index(
      List<Row> rows,
      RepoLayout layout,
      Map<List<Object>, Row> keyed,
      Map<List<Object>, List<Row>> plain) {
    for (Row row : rows) {
      List<Object> key = keyOf(row, layout);
      if (key != null) {
        keyed.put(key, row);
      } else {
        plain
            .computeIfAbsent(List.of(row.getTable(), row.getValues()), k -> new ArrayList<>())
            .add(row);
      }
    }
  }

  private static List<Object> keyOf(Row row, RepoLayout layout) {
    TableLayout table = layout.table(row.getTable());
    return table != null && table.hasRowKey()
        ? List.of(row.getTable(), table.rowKeyOf(row.getValues()))
        : null;
  }

  private static String change(MemberObject before, MemberObject after) {
    boolean was = MemberVersions.present(before);
    boolean is = MemberVersions.present(after);
    if (!was && is) {
      return "added";
    }
    if (was && !is) {
      return "removed";
    }
    return was && !before.getHash().equals(after.getHash()) ? "changed" : "unchanged";
  }

  private RepoSpec spec(String repo) {
    return repos
        .apply(repo)
        .orElseThrow(() -> ApiException.notFound("repo " + repo + " does not exist"));
  }

  /**
   * The sequence of commit {@code commitId} in member partition {@code partition}: 404 when the
   * partition has not completed such a commit, 410 when it is older than the history retention.
   */
  private long sequenceOf(String repo, String commitId, int partition, String parameter) {
    if (commitId == null || commitId.isBlank()) {
      throw ApiException.badRequest("parameter " + parameter + " (a commit ID) is required");
    }
    ReadOnlyKeyValueStore<Bytes, CommitMark> marks =
        stores.store(PartitionStores.COMMIT_INDEX, partition);
    CommitMark mark = marks.get(StoreKeys.named(repo, commitId));
    if (mark == null) {
      if (!sealedHere(repo, commitId, partition)) {
        throw ApiException.notFound(
            "commit " + commitId + " (" + parameter + ") of repo " + repo + " is unknown");
      }
      // Sealed, not complete yet in this partition: "try again", never "no such thing" (503 gets
      // Retry-After from the shared error handler).
      throw ApiException.unavailable(
          "commit "
              + commitId
              + " ("
              + parameter
              + ") of repo "
              + repo
              + " is not complete yet; retry shortly");
    }
    ReadOnlyKeyValueStore<String, Progress> progress =
        stores.store(PartitionStores.PROGRESS, partition);
    Progress current = progress.get(repo);
    if (current != null && mark.sequence() < current.floor()) {
      throw new ApiException(
          410,
          "gone",
          "commit "
              + commitId
              + " ("
              + parameter
              + ") is older than the repo's history retention of "
              + spec(repo).getHistoryRetention()
              + " commits");
    }
    return mark.sequence();
  }

  /** Whether the commit is sealed and waits to complete here (its seal is pending). */
  private boolean sealedHere(String repo, String commitId, int partition) {
    ReadOnlyKeyValueStore<Bytes, Seal> seals = stores.store(PartitionStores.SEALS, partition);
    Bytes prefix = StoreKeys.repo(repo);
    try (KeyValueIterator<Bytes, Seal> pending =
        seals.range(prefix, StoreKeys.upperBound(prefix))) {
      while (pending.hasNext()) {
        if (pending.next().value.getCommit().getId().equals(commitId)) {
          return true;
        }
      }
    }
    return false;
  }

  private MemberObject versionAsOf(String repo, String member, long sequence, int partition) {
    return versions(partition).asOf(repo, member, sequence);
  }

  private MemberVersions versions(int partition) {
    return new MemberVersions(
        stores.store(PartitionStores.MEMBER_VERSIONS, partition),
        stores.store(PartitionStores.MEMBER_CHUNKS, partition),
        stores.store(PartitionStores.MEMBER_DELTAS, partition));
  }

  private static JsonObject memberJson(MemberObject version, List<Row> rowList, RepoLayout layout) {
    JsonArray rows = new JsonArray();
    rowList.forEach(row -> rows.add(rowJson(row, layout)));
    return new JsonObject()
        .put("repo", version.getRepo())
        .put("member", version.getMember())
        .put("commitId", version.getCommitId())
        .put("sequence", version.getSequence())
        .put("hash", version.getHash())
        .put("rows", rows);
  }

  private static JsonObject rowJson(Row row, RepoLayout layout) {
    JsonObject values = new JsonObject();
    TableLayout table = layout.table(row.getTable());
    List<String> columns = table == null ? List.of() : table.spec().getColumns();
    for (int i = 0; i < row.getValues().size(); i++) {
      values.put(i < columns.size() ? columns.get(i) : "column" + i, row.getValues().get(i));
    }
    return new JsonObject()
        .put("table", row.getTable())
        .put("values", values)
        .put("partition", row.getSourcePartition())
        .put("offset", row.getSourceOffset());
  }
}
