package io.tusk.partition;

import static io.tusk.partition.TopologyFixture.REPO;
import static io.tusk.partition.TopologyFixture.claim;
import static io.tusk.partition.TopologyFixture.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Commit;
import io.tusk.schemas.RepoPurge;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.RowOwnersPurge;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A repo's purge (issue 15, repo delete): the member partition's task drops every key of the repo
 * from its stores and leaves another repo's entries byte-identical.
 */
class RepoPurgeTest {
  private static final long SEED = 20261204L;
  private static final String OTHER = "other-repo";

  /** The stores keyed by repo: the member task's ({@link MemberStores#purge}) and row owners'. */
  private static final List<String> REPO_STORES =
      List.of(
          PartitionStores.PENDING_ROWS,
          PartitionStores.PENDING_REJECTS,
          PartitionStores.PENDING_DELETES,
          PartitionStores.BARRIERS,
          PartitionStores.SEALS,
          PartitionStores.PROGRESS,
          PartitionStores.COMMIT_INDEX,
          PartitionStores.MEMBER_VERSIONS,
          PartitionStores.MEMBER_CHUNKS,
          PartitionStores.MEMBER_DELTAS,
          PartitionStores.CHANGED_MEMBERS,
          PartitionStores.DATUM_STATES,
          PartitionStores.FAILED_DATUMS,
          PartitionStores.JOB_QUEUE,
          PartitionStores.PIPELINE_JOBS,
          PartitionStores.PENDING_RELEASES,
          PartitionStores.RELEASE_MARKERS,
          PartitionStores.PENDING_ERASURES,
          PartitionStores.MEMBER_ERASURES,
          // The row-owner task's (RowOwnerProcessor, purged by a RowOwnersPurge)
          PartitionStores.ROW_OWNERS,
          PartitionStores.CLAIM_MARKERS,
          PartitionStores.CONTESTED_KEYS);

  private final TopologyFixture f = new TopologyFixture();
  private final StoreScan scan = new StoreScan(f.topics);

  @AfterEach
  void tearDown() {
    f.close();
  }

  @Test
  void purgeEmptiesTheRepoAndLeavesAnotherByteIdentical() {
    Random random = new Random(SEED);
    System.out.println("seed " + SEED);
    f.specs.put(OTHER, TopologyFixture.spec(OTHER));
    // Given two repos on the same member partition, each with two commits of random rows, and
    // rows of a third commit still pending in both
    long[] offsets = new long[3];
    long[] otherOffsets = new long[3];
    for (long sequence = 1; sequence <= 3; sequence++) {
      long[] start = offsets.clone();
      long[] otherStart = otherOffsets.clone();
      for (int i = 0; i < 20; i++) {
        int p = random.nextInt(3);
        f.row(REPO, claim(p, offsets[p]++, "m" + random.nextInt(8), "c" + i, "" + i));
        int q = random.nextInt(3);
        f.row(OTHER, claim(q, otherOffsets[q]++, "m" + random.nextInt(8), "c" + i, "" + i));
      }
      if (sequence < 3) {
        seal(commit(REPO, sequence, start, offsets));
        seal(
            Commit.newBuilder(commit(OTHER, sequence, otherStart, otherOffsets))
                .setJobs(List.of())
                .build());
      }
    }
    assertThat(keysOf(REPO)).as("the repo's keys before the purge").isNotEmpty();
    Map<String, Map<String, String>> otherBefore = entriesOf(OTHER);
    assertThat(otherBefore).as("the other repo's keys").isNotEmpty();

    assertThat(entriesOf(REPO))
        .as("row owners of the repo")
        .containsKey(PartitionStores.ROW_OWNERS);

    // When the repo is purged, as the commit service does: by-member and row-owners partitions
    f.event(REPO, null, new RepoPurge(TopologyFixture.NOW));
    f.driver
        .createInputTopic(
            TopicNames.rowOwners(REPO),
            f.topics.keySerde().serializer(),
            f.topics.rowOwnerEventSerde().serializer())
        .pipeInput(null, new RowOwnerEvent(new RowOwnersPurge(TopologyFixture.NOW)));

    // Then no store of the member task holds a key of the repo, and the other repo's entries are
    // byte-identical
    assertThat(keysOf(REPO)).as("the repo's keys after the purge").isEmpty();
    assertThat(entriesOf(OTHER)).isEqualTo(otherBefore);
  }

  private void seal(Commit commit) {
    f.seal(commit.getRepo(), commit, 1);
    f.barriersAtEnd(commit);
  }

  /** "store: key" of every member-task entry whose key belongs to {@code repo}. */
  private List<String> keysOf(String repo) {
    return entriesOf(repo).entrySet().stream()
        .flatMap(e -> e.getValue().keySet().stream().map(k -> e.getKey() + ": " + k))
        .toList();
  }

  /**
   * Per member-task store, the entries (key hex to value hex) whose key belongs to {@code repo}.
   */
  private Map<String, Map<String, String>> entriesOf(String repo) {
    byte[] prefix = StoreKeys.repo(repo).get();
    byte[] name = repo.getBytes(StandardCharsets.UTF_8);
    Map<String, Map<String, String>> found = new TreeMap<>();
    for (StoreScan.Entry e : scan.all(f.driver)) {
      if (!REPO_STORES.contains(e.store())) {
        continue;
      }
      boolean ofRepo =
          e.store().equals(PartitionStores.PROGRESS)
              ? Arrays.equals(e.key(), name)
              : startsWith(e.key(), prefix);
      if (ofRepo) {
        found
            .computeIfAbsent(e.store(), s -> new TreeMap<>())
            .put(
                Bytes.wrap(e.key()).toString(),
                e.value() == null ? "" : Bytes.wrap(e.value()).toString());
      }
    }
    return found;
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(Arrays.copyOf(bytes, prefix.length), prefix);
  }
}
