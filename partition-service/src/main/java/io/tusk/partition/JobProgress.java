package io.tusk.partition;

import io.tusk.schemas.Job;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Consumer;
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
    return with(b -> b.job = newJob);
  }

  JobProgress withCounts(
      long newProcessed,
      long newFailed,
      long newRecovered,
      long newIdentical,
      long newDifferent,
      long newRestartResults) {
    return with(
        b -> {
          b.processed = newProcessed;
          b.failed = newFailed;
          b.recovered = newRecovered;
          b.identical = newIdentical;
          b.different = newDifferent;
          b.restartResults = newRestartResults;
        });
  }

  /** Opens the next restart round once all its parts are in. */
  JobProgress withRestartRound(long toProcess) {
    return with(
        b -> {
          b.restartOpen = true;
          b.restartToProcess = toProcess;
          b.restartRounds = restartRounds + 1;
        });
  }

  /** Whether the open restart round has all its results. */
  boolean restartRoundDone() {
    return restartOpen && restartResults >= restartToProcess;
  }

  /** Closes the finished restart round. */
  JobProgress withoutRestartRound() {
    return with(
        b -> {
          b.restartOpen = false;
          b.restartToProcess = 0;
          b.restartResults = restartResults - restartToProcess;
        });
  }

  /** A copy with the fields {@code change} sets; the others as they are. */
  private JobProgress with(Consumer<Builder> change) {
    Builder builder = new Builder(this);
    change.accept(builder);
    return builder.build();
  }

  /** The fields of a progress being changed or read: the one place that lists them all. */
  private static final class Builder {
    Job job;
    long processed;
    long failed;
    long recovered;
    long identical;
    long different;
    boolean restartOpen;
    long restartToProcess;
    long restartResults;
    int restartRounds;

    Builder(JobProgress from) {
      job = from.job;
      processed = from.processed;
      failed = from.failed;
      recovered = from.recovered;
      identical = from.identical;
      different = from.different;
      restartOpen = from.restartOpen;
      restartToProcess = from.restartToProcess;
      restartResults = from.restartResults;
      restartRounds = from.restartRounds;
    }

    JobProgress build() {
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
    }
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
        Builder read = new Builder(EMPTY);
        read.processed = buffer.getLong();
        read.failed = buffer.getLong();
        read.recovered = buffer.getLong();
        read.identical = buffer.getLong();
        read.different = buffer.getLong();
        read.restartOpen = buffer.get() == 1;
        read.restartToProcess = buffer.getLong();
        read.restartResults = buffer.getLong();
        read.restartRounds = buffer.getInt();
        int jobLength = buffer.getInt();
        if (jobLength >= 0) {
          byte[] bytes = new byte[jobLength];
          buffer.get(bytes);
          read.job = jobSerde.deserializer().deserialize(topic, bytes);
        }
        return read.build();
      };
    }
  }
}
