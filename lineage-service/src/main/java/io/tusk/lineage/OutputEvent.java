package io.tusk.lineage;

import io.tusk.schemas.Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One record of a {@code <pipeline>.output} topic as the indexes keep it: who wrote it (pipeline,
 * member, job, commit, global ID, datum), where ({@code topic}, {@code partition}, {@code offset})
 * and when ({@code timestamp}, the record's), and the {@link Output} itself.
 *
 * <p>A removal (the tombstone of a member removed from the input) has {@code removed} set and no
 * output; its provenance comes from the tombstone's headers. Entries of the rows index carry no
 * output either: they only point at one.
 *
 * <p>The tombstone of an erased member's removal datum names the erasure request ({@code erasure}):
 * the indexes purge what they hold of the member's outputs on it. A redaction ({@link #redaction})
 * replaces the rows-index entry of a purged output's position: it keeps the request and the
 * pipeline, never the member, the job or the data.
 *
 * @param output the output, or null for a removal or a pointer
 * @param erasure the erasure request of an erased member's tombstone or of a redaction, else null
 */
record OutputEvent(
    String pipeline,
    String member,
    String jobId,
    String commitId,
    String globalId,
    String datumHash,
    String topic,
    int partition,
    long offset,
    long timestamp,
    boolean removed,
    Output output,
    String erasure) {

  OutputEvent {
    Objects.requireNonNull(pipeline, "pipeline");
    Objects.requireNonNull(member, "member");
    jobId = Objects.requireNonNullElse(jobId, "");
    commitId = Objects.requireNonNullElse(commitId, "");
    globalId = Objects.requireNonNullElse(globalId, "");
    datumHash = Objects.requireNonNullElse(datumHash, "");
    Objects.requireNonNull(topic, "topic");
  }

  /** An event that names no erasure. */
  OutputEvent(
      String pipeline,
      String member,
      String jobId,
      String commitId,
      String globalId,
      String datumHash,
      String topic,
      int partition,
      long offset,
      long timestamp,
      boolean removed,
      Output output) {
    this(
        pipeline, member, jobId, commitId, globalId, datumHash, topic, partition, offset, timestamp,
        removed, output, null);
  }

  /**
   * What the rows index keeps at the position of an output purged by erasure {@code erasure}: the
   * request and the pipeline; no member, job, commit, data or inputs.
   */
  static OutputEvent redaction(
      String pipeline, String erasure, String topic, int partition, long offset) {
    return new OutputEvent(
        pipeline, "", "", "", "", "", topic, partition, offset, 0L, true, null, erasure);
  }

  /** True for the tombstone of an erased member's removal datum. */
  boolean erases() {
    return erasure != null && !member.isEmpty();
  }

  /** True for the redaction of a purged output ({@link #redaction}). */
  boolean redacted() {
    return erasure != null && member.isEmpty();
  }

  /** The event of an output record read at {@code topic/partition/offset}. */
  static OutputEvent of(Output output, String topic, int partition, long offset, long timestamp) {
    return new OutputEvent(
        output.getPipeline(),
        output.getMember(),
        output.getJobId(),
        output.getCommitId(),
        output.getGlobalId(),
        output.getDatumHash(),
        topic,
        partition,
        offset,
        timestamp,
        false,
        output);
  }

  /** The same event without its output: what the rows index points with. */
  OutputEvent pointer() {
    return output == null
        ? this
        : new OutputEvent(
            pipeline, member, jobId, commitId, globalId, datumHash, topic, partition, offset,
            timestamp, removed, null, erasure);
  }

  /** The routing key of the row this output was written as: {@code topic/partition/offset}. */
  String position() {
    return position(topic, partition, offset);
  }

  /** The routing key of a row: {@code topic/partition/offset} (topic names have no '/'). */
  static String position(String topic, int partition, long offset) {
    return topic + "/" + partition + "/" + offset;
  }

  /**
   * A serde that writes the provenance fields, then the output through {@code outputs} (the
   * registry's wire format, so outputs of older schema versions stay readable).
   */
  static Serde<OutputEvent> serde(Serde<Output> outputs) {
    Serializer<Output> outputWriter = outputs.serializer();
    Deserializer<Output> outputReader = outputs.deserializer();
    Serializer<OutputEvent> serializer =
        (topic, event) -> event == null ? null : write(topic, event, outputWriter);
    Deserializer<OutputEvent> deserializer =
        (topic, bytes) -> bytes == null ? null : read(topic, bytes, outputReader);
    return Serdes.serdeFrom(serializer, deserializer);
  }

  private static byte[] write(String topic, OutputEvent event, Serializer<Output> outputs) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      // Format 2 adds the erasure; format 1 (no erasure) stays readable.
      out.writeByte(2);
      out.writeUTF(event.pipeline);
      out.writeUTF(event.member);
      out.writeUTF(event.jobId);
      out.writeUTF(event.commitId);
      out.writeUTF(event.globalId);
      out.writeUTF(event.datumHash);
      out.writeUTF(event.topic);
      out.writeInt(event.partition);
      out.writeLong(event.offset);
      out.writeLong(event.timestamp);
      out.writeBoolean(event.removed);
      byte[] output = event.output == null ? null : outputs.serialize(topic, event.output);
      out.writeInt(output == null ? -1 : output.length);
      if (output != null) {
        out.write(output);
      }
      out.writeBoolean(event.erasure != null);
      if (event.erasure != null) {
        out.writeUTF(event.erasure);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static OutputEvent read(String topic, byte[] bytes, Deserializer<Output> outputs) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte version = in.readByte();
      if (version != 1 && version != 2) {
        throw new SerializationException("unknown output event format " + version);
      }
      String pipeline = in.readUTF();
      String member = in.readUTF();
      String jobId = in.readUTF();
      String commitId = in.readUTF();
      String globalId = in.readUTF();
      String datumHash = in.readUTF();
      String eventTopic = in.readUTF();
      int partition = in.readInt();
      long offset = in.readLong();
      long timestamp = in.readLong();
      boolean removed = in.readBoolean();
      int length = in.readInt();
      Output output = null;
      if (length >= 0) {
        byte[] data = in.readNBytes(length);
        output = outputs.deserialize(topic, data);
      }
      String erasure = version >= 2 && in.readBoolean() ? in.readUTF() : null;
      return new OutputEvent(
          pipeline,
          member,
          jobId,
          commitId,
          globalId,
          datumHash,
          eventTopic,
          partition,
          offset,
          timestamp,
          removed,
          output,
          erasure);
    } catch (IOException e) {
      throw new SerializationException("cannot read an output event", e);
    }
  }
}
