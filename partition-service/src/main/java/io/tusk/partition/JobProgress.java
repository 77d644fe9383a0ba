package io.tusk.partition;

import io.tusk.schemas.Job;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The job tracker's state of one job: its start (null until it arrives) and the datum results
 * counted so far.
 *
 * @param start the job as created by the aggregator, or null
 * @param processed datums that succeeded
 * @param failed datums that failed
 * @param finishedAt when the job was first seen done, or null
 */
record JobProgress(Job start, long processed, long failed, Long finishedAt) {

  /** A job nothing is known of yet. */
  static final JobProgress EMPTY = new JobProgress(null, 0, 0, null);

  JobProgress withStart(Job job) {
    return new JobProgress(job, processed, failed, finishedAt);
  }

  JobProgress withResult(boolean succeeded) {
    return succeeded
        ? new JobProgress(start, processed + 1, failed, finishedAt)
        : new JobProgress(start, processed, failed + 1, finishedAt);
  }

  JobProgress finished(long at) {
    return new JobProgress(start, processed, failed, at);
  }

  /**
   * A versioned binary serde; the job inside is encoded with the registry-backed Avro serde given.
   */
  static final class StoreSerde implements Serde<JobProgress> {
    private static final byte VERSION = 1;
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
        byte[] job = p.start() == null ? null : jobSerde.serializer().serialize(topic, p.start());
        ByteBuffer buffer = ByteBuffer.allocate(1 + 8 * 3 + 4 + (job == null ? 0 : job.length));
        buffer.put(VERSION).putLong(p.processed()).putLong(p.failed());
        buffer.putLong(p.finishedAt() == null ? -1L : p.finishedAt());
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
        long finishedAt = buffer.getLong();
        int jobLength = buffer.getInt();
        Job job = null;
        if (jobLength >= 0) {
          byte[] bytes = new byte[jobLength];
          buffer.get(bytes);
          job = jobSerde.deserializer().deserialize(topic, bytes);
        }
        return new JobProgress(job, processed, failed, finishedAt < 0 ? null : finishedAt);
      };
    }
  }
}
