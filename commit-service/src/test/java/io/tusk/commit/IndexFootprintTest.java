package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.PartitionOffset;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the commit service keeps in memory per commit and per job (issue 8): a heap measurement of
 * the indexes with 10,000 realistic commits (6 update partitions, one job, stats) and jobs, next to
 * the same records held as objects, as the service held them before (a view map of every record
 * besides the index). Figures are logged; the bounds leave room for JVM differences.
 */
class IndexFootprintTest {
  private static final Logger log = LoggerFactory.getLogger(IndexFootprintTest.class);
  private static final int COUNT = 10_000;
  private static final long SEED = 20261204L;

  @Test
  void shouldKeepACommitAndAJobInWellUnderAKilobyteWhenIndexed() {
    // Given 10,000 commits and 10,000 jobs (fixed seed)
    Random random = new Random(SEED);
    List<Commit> commits = new ArrayList<>();
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      commits.add(commit(random, i + 1));
      jobs.add(job(random, commits.get(i)));
    }

    // When each kind is indexed, and held as objects in a map
    long commitBytes =
        bytesPer(
            () -> {
              CommitIndex index = new CommitIndex();
              commits.forEach(c -> index.record(c.getId(), c));
              return index;
            });
    long jobBytes =
        bytesPer(
            () -> {
              JobIndex index = new JobIndex();
              jobs.forEach(j -> index.record(j.getId(), j));
              return index;
            });
    long commitObjectBytes = bytesPer(() -> asObjects(commits, i -> commits.get(i).getId()));
    long jobObjectBytes = bytesPer(() -> asObjects(jobs, i -> jobs.get(i).getId()));
    log.info(
        "Heap per commit: {} B indexed, {} B as objects; per job: {} B indexed, {} B as objects",
        commitBytes,
        commitObjectBytes,
        jobBytes,
        jobObjectBytes);

    // Then a commit and a job each take well under a kilobyte (tens of thousands: tens of MB),
    // less than their objects do
    assertThat(commitBytes).isLessThan(700).isLessThan(commitObjectBytes / 2);
    assertThat(jobBytes).isLessThan(600).isLessThan(jobObjectBytes);
  }

  /** Heap retained by what {@code build} makes, per record, measured after full collections. */
  private static long bytesPer(java.util.function.Supplier<Object> build) {
    long before = usedHeap();
    Object built = build.get();
    long after = usedHeap();
    Reference.reachabilityFence(built);
    return (after - before) / COUNT;
  }

  /**
   * Copies of the records as fresh objects, by ID: what a topic view held (decoded from the topic,
   * so nothing is shared with the test's lists).
   */
  private static <T extends org.apache.avro.specific.SpecificRecord> Map<String, T> asObjects(
      List<T> records, IntFunction<String> id) {
    @SuppressWarnings("unchecked")
    AvroBytes<T> codec = AvroBytes.of((Class<T>) records.get(0).getClass());
    Map<String, T> held = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      held.put(new String(id.apply(i)), codec.decode(codec.encode(records.get(i))));
    }
    return held;
  }

  private static long usedHeap() {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }

  private static String id(Random random) {
    return String.format("%016x%016x", random.nextLong(), random.nextLong());
  }

  private static Commit commit(Random random, long sequence) {
    String id = id(random);
    List<PartitionOffset> start = new ArrayList<>();
    List<PartitionOffset> end = new ArrayList<>();
    for (int p = 0; p < 6; p++) {
      long offset = sequence * 100_000 + random.nextInt(100_000);
      start.add(new PartitionOffset(p, offset - 50_000));
      end.add(new PartitionOffset(p, offset));
    }
    return Commit.newBuilder()
        .setId(id)
        .setRepo("claims")
        .setSequence(sequence)
        .setParent(id(random))
        .setGlobalId(id)
        .setCreatedAt(1_765_000_000_000L + sequence)
        .setStartOffsets(start)
        .setEndOffsets(end)
        .setJobs(
            List.of(
                JobRef.newBuilder()
                    .setPipeline("claims-insights")
                    .setJobId(id(random))
                    .setSpecHash(id(random) + id(random))
                    .setMode(JobMode.INCREMENTAL)
                    .setKind(JobKind.COMMIT)
                    .build()))
        .setStats(
            CommitStats.newBuilder()
                .setRows(300_000)
                .setRejected(12)
                .setMembers(1_000_000)
                .setChangedMembers(10_000)
                .setCompletedAt(1_765_000_000_000L + sequence)
                .build())
        .build();
  }

  private static Job job(Random random, Commit commit) {
    return Job.newBuilder()
        .setId(commit.getJobs().get(0).getJobId())
        .setPipeline("claims-insights")
        .setRepo("claims")
        .setCommitId(commit.getId())
        .setGlobalId(commit.getGlobalId())
        .setState(JobState.SUCCESS)
        .setTotal(1_000_000)
        .setToProcess(10_000)
        .setProcessed(10_000)
        .setSkipped(990_000)
        .setFailed(0)
        .setCreatedAt(commit.getCreatedAt())
        .setFinishedAt(commit.getCreatedAt() + random.nextInt(60_000))
        .setSequence(commit.getSequence())
        .setSpecHash(commit.getJobs().get(0).getSpecHash())
        .build();
  }
}
