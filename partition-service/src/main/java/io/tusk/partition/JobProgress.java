package io.tusk.partition;

import io.tusk.schemas.Job;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The job tracker's state of one job: the job once every member partition's part is in (null
 * before), the datum results counted so far (results may arrive before the job exists), and the
 * open restart round of a FAILED_ONLY re-run of the job's failed datums.
 *
 * @param job the job with its last written counts and state, or null
 * @param processed results SUCCESS
 * @param failed results FAILED, less those superseded by a restart
 * @param recovered results RECOVERED
 * @param identical REPROCESS results whose output equals the earlier one
 * @param different REPROCESS results whose output differs from the earlier one
 * @param restartOpen whether every part of a restart round is in and its results are awaited
 * @param restartToProcess datums the open restart round emitted
 * @param restartResults restart results counted and not yet matched by a finished round
 * @param restartRounds restart rounds started so far (the current one's number while one is open)
 */
record JobProgress(
    Job job,
    long processed,
    long failed,
    long recovered,
    long identical,
    long different,
    boolean restartOpen,
    long restartToProcess,
    long restartResults,
    int restartRounds) {

  /** A job nothing is known of yet. */
  static final JobProgress EMPTY = new JobProgress(null, 0, 0, 0, 0, 0, false, 0, 0, 0);

  /** Datums with a result. */
  long done() {
    return processed + failed + recovered;
  }

  /** Whether the job ended (SUCCESS, FAILURE or KILLED). */
  boolean ended() {
    return job != null && job.getFinishedAt() != null;
  }

  JobProgress withJob(Job newJob) {
    return new JobProgress(
        newJob,
        processed,
        failed,
        recovered,
        identical,
        different,
        restartOpen,
        restartToProcess,
        restartResults,
        restartRounds);
  }

  JobProgress withCounts(
      long newProcessed,
      long newFailed,
      long newRecovered,
      long newIdentical,
      long newDifferent,
      long newRestartResults) {
    return new JobProgress(
        job,
        newProcessed,
        newFailed,
        newRecovered,
        newIdentical,
        newDifferent,
        restartOpen,
        restartToProcess,
        newRestartResults,
        restartRounds);
  }

  /** Opens the next restart round once all its parts are in. */
  JobProgress withRestartRound(long toProcess) {
    return new JobProgress(
        job,
        processed,
        failed,
        recovered,
        identical,
        different,
        true,
        toProcess,
        restartResults,
        restartRounds + 1);
  }

  /** Whether the open restart round has all its results. */
  boolean restartRoundDone() {
    return restartOpen && restartResults >= restartToProcess;
  }

  /** Closes the finished restart round. */
  JobProgress withoutRestartRound() {
    return new JobProgress(
        job,
        processed,
        failed,
        recovered,
        identical,
        different,
        false,
        0,
        restartResults - restartToProcess,
        restartRounds);
  }

  /**
   * A versioned binary serde; the job inside is encoded with the registry-backed Avro serde given.
   */
  static final class StoreSerde implements Serde<JobProgress> {
    private static final byte VERSION = 3;
    private final Serde<Job> jobSerde;

    StoreSerde(Serde<Job> jobSerde) {
      this.jobSerde = Objects.requireNonNull(jobSerde, "jobSerde");
    }

    @Override
    public Serializer<JobProgress> serializer() {
      return (topic, p) -> {
        if (p == null) {
          return null;
        }
        byte[] job = p.job() == null ? null : jobSerde.serializer().serialize(topic, p.job());
        ByteBuffer buffer =
            ByteBuffer.allocate(1 + 8 * 7 + 1 + 4 + 4 + (job == null ? 0 : job.length));
        buffer.put(VERSION);
        buffer.putLong(p.processed()).putLong(p.failed()).putLong(p.recovered());
        buffer.putLong(p.identical()).putLong(p.different());
        buffer.put((byte) (p.restartOpen() ? 1 : 0));
        buffer.putLong(p.restartToProcess()).putLong(p.restartResults());
        buffer.putInt(p.restartRounds());
        buffer.putInt(job == null ? -1 : job.length);
        if (job != null) {
          buffer.put(job);
        }
        return buffer.array();
      };
    }

    @Override
    public Deserializer<JobProgress> deserializer() {
      return (topic, data) -> {
        if (data == null) {
          return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(data);
        byte version = buffer.get();
        if (version != VERSION) {
          throw new SerializationException("unknown job progress format version " + version);
        }
        long processed = buffer.getLong();
        long failed = buffer.getLong();
        long recovered = buffer.getLong();
        long identical = buffer.getLong();
        long different = buffer.getLong();
        boolean restartOpen = buffer.get() == 1;
        long restartToProcess = buffer.getLong();
        long restartResults = buffer.getLong();
        int restartRounds = buffer.getInt();
        int jobLength = buffer.getInt();
        Job job = null;
        if (jobLength >= 0) {
          byte[] bytes = new byte[jobLength];
          buffer.get(bytes);
          job = jobSerde.deserializer().deserialize(topic, bytes);
        }
        return new JobProgress(
            job,
            processed,
            failed,
            recovered,
            identical,
            different,
            restartOpen,
            restartToProcess,
            restartResults,
            restartRounds);
      };
    }
  }
}
