package io.tusk.lineage;

import io.tusk.common.Ids;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitStats;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Output;
import io.tusk.schemas.PartitionOffset;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Records as Tusk's writers produce them, for the tests. */
final class Fixtures {
  static final long T0 = 1_700_000_000_000L;

  private Fixtures() {}

  /** A commit as sealed: no stats yet, one job for {@code pipeline}. */
  static Commit sealedCommit(String id, String repo, String jobId, String pipeline) {
    return Commit.newBuilder()
        .setId(id)
        .setRepo(repo)
        .setSequence(1)
        .setParent(null)
        .setGlobalId(id)
        .setCreatedAt(T0)
        .setStartOffsets(List.of(new PartitionOffset(0, 0L)))
        .setEndOffsets(List.of(new PartitionOffset(0, 42L)))
        .setJobs(
            List.of(
                JobRef.newBuilder()
                    .setPipeline(pipeline)
                    .setJobId(jobId)
                    .setSpecHash("spec-hash")
                    .build()))
        .setStats(null)
        .build();
  }

  /** The same commit once complete, with its stats. */
  static Commit completedCommit(Commit sealed) {
    return Commit.newBuilder(sealed).setStats(new CommitStats(40L, 2L, 10L, 3L, T0 + 500)).build();
  }

  static Job job(String id, String commitId, String pipeline, JobState state, long processed) {
    return Job.newBuilder()
        .setId(id)
        .setPipeline(pipeline)
        .setRepo("claims")
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setState(state)
        .setTotal(10)
        .setToProcess(3)
        .setProcessed(processed)
        .setSkipped(7)
        .setFailed(0)
        .setRecovered(0)
        .setCreatedAt(T0 + 600)
        .setFinishedAt(state == JobState.SUCCESS ? T0 + 900 : null)
        .build();
  }

  static Output output(
      String pipeline,
      String member,
      String jobId,
      String commitId,
      String contentType,
      String data,
      List<InputRef> inputs) {
    return Output.newBuilder()
        .setPipeline(pipeline)
        .setMember(member)
        .setJobId(jobId)
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setDatumHash("datum-" + member + "-" + jobId.substring(0, 4))
        .setContentType(contentType)
        .setData(ByteBuffer.wrap(data.getBytes(StandardCharsets.UTF_8)))
        .setOutputHash("out-" + data.hashCode())
        .setInputs(inputs)
        .build();
  }

  static DatumResult datumResult(
      String jobId, String member, DatumState state, String log, boolean restart) {
    return DatumResult.newBuilder()
        .setJobId(jobId)
        .setPipeline("risk")
        .setMember(member)
        .setDatumHash("datum-" + member)
        .setState(state)
        .setAttempts(state == DatumState.FAILED ? 3 : 1)
        .setProcessorId("processor-1")
        .setStartedAt(T0 + 700)
        .setDurationMicros(1500)
        .setError(state == DatumState.FAILED ? "exit code 1" : null)
        .setRepo("claims")
        .setLog(log)
        .setRestart(restart)
        .build();
  }

  /** A job with its input commit's global ID, pipeline, creation time and state. */
  static Job job(
      String id,
      String commitId,
      String globalId,
      String pipeline,
      long createdAt,
      JobState state) {
    return Job.newBuilder(job(id, commitId, pipeline, state, 0))
        .setGlobalId(globalId)
        .setCreatedAt(createdAt)
        .setFinishedAt(state == JobState.RUNNING ? null : createdAt + 300)
        .build();
  }

  /** An output commit of a derived repo, sealed by the end of {@code sourceJob}. */
  static Commit outputCommit(String id, String repo, String sourceJob, String globalId, long seq) {
    return Commit.newBuilder(sealedCommit(id, repo, Ids.newId(), "downstream"))
        .setSequence(seq)
        .setGlobalId(globalId)
        .setSourceJob(sourceJob)
        .setCreatedAt(T0 + seq)
        .build();
  }

  static InputRef inputRef(String topic, int partition, long offset, String table) {
    return new InputRef(topic, partition, offset, table);
  }
}
