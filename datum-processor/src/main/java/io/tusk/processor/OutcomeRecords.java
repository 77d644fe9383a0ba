package io.tusk.processor;

import io.tusk.common.member.Hashing;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.common.transform.TransformOutput;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Output;
import io.tusk.schemas.Row;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The records a datum's outcome writes in its transaction, as {@link DatumMapper} decides them: the
 * {@link Output} or a tombstone on {@code <pipeline>.output} with provenance headers, the {@link
 * DatumResult} on {@code tusk.datum-results}, the {@link DatumDone} on the member's {@code
 * <repo>.by-member} partition, and a failed datum's own records on {@code <pipeline>.failed}, each
 * kept under the producer's record size limit.
 */
final class OutcomeRecords {
  /**
   * Most input rows listed in {@link Output#getInputs()}. A reference takes some 20-100 bytes
   * (topic and table names, partition, offset), so 2,000 of them stay under about 200 KB: with an
   * output of up to {@link DatumExecution#MAX_OUTPUT_BYTES} the record stays under the default 1
   * MiB. A member with more rows gets the first 2,000 and {@link Output#getInputCount()}; the rest
   * are the member's rows as of the output's commit.
   */
  static final int MAX_INPUT_REFS = 2_000;

  /** Kafka's upper bound of a batch header (v2 format): a record alone in its batch pays it. */
  private static final int BATCH_OVERHEAD = 61;

  /** Kafka's upper bound of a record's own fields (length, attributes, deltas) in a batch. */
  private static final int RECORD_OVERHEAD = 21;

  /** Upper bound of a varint length prefix. */
  private static final int VARINT = 5;

  private final String pipeline;
  private final Topics topics;
  private final Topic<String, Output> outputs;
  private final Topic<String, DatumResult> results;
  private final String failedTopic;
  private final int maxRecordBytes;

  /**
   * @param pipeline the pipeline whose outcomes are written
   * @param topics typed topics (their serdes use the schema registry)
   * @param maxRecordBytes the largest record the producer may send
   */
  OutcomeRecords(String pipeline, Topics topics, int maxRecordBytes) {
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.outputs = topics.output(pipeline);
    this.results = topics.datumResults;
    this.failedTopic = TopicNames.failed(pipeline);
    if (maxRecordBytes <= 0) {
      throw new IllegalArgumentException("maxRecordBytes must be positive: " + maxRecordBytes);
    }
    this.maxRecordBytes = maxRecordBytes;
  }

  /** The largest record the producer may send. */
  int maxRecordBytes() {
    return maxRecordBytes;
  }

  /**
   * The output of a successful datum: the transform's data and hash, and the first {@link
   * #MAX_INPUT_REFS} input rows as positions on {@code sourceTopic}.
   */
  static Output output(Datum datum, TransformOutput result, String sourceTopic) {
    MemberObject member = datum.getMemberObject();
    List<Row> rows = member.getRows();
    int listed = Math.min(rows.size(), MAX_INPUT_REFS);
    List<InputRef> inputs = new ArrayList<>(listed);
    for (Row row : rows.subList(0, listed)) {
      inputs.add(
          InputRef.newBuilder()
              .setTopic(sourceTopic)
              .setPartition(row.getSourcePartition())
              .setOffset(row.getSourceOffset())
              .setTable(row.getTable())
              .build());
    }
    return Output.newBuilder()
        .setPipeline(datum.getPipeline())
        .setMember(member.getMember())
        .setJobId(datum.getJobId())
        .setCommitId(datum.getCommitId())
        .setGlobalId(datum.getGlobalId())
        .setDatumHash(datum.getDatumHash())
        .setContentType(result.contentType())
        .setData(ByteBuffer.wrap(result.data()))
        .setOutputHash(Hashing.bytesHash(result.data()))
        .setInputs(inputs)
        .setInputCount(listed < rows.size() ? rows.size() : -1L)
        .build();
  }

  /** The output on the compacted output topic, with its provenance headers. */
  ProducerRecord<byte[], byte[]> output(Output output) {
    return new ProducerRecord<>(
        outputs.name(),
        null,
        outputs.key(output.getMember()),
        outputs.value(output),
        provenanceOf(
            output.getPipeline(),
            output.getJobId(),
            output.getCommitId(),
            output.getGlobalId(),
            output.getDatumHash()));
  }

  /**
   * A null value on the compacted output topic: the member's output is gone. The removal datum of
   * an erased member adds the erasure request, so lineage purges the member's outputs and a derived
   * repo purges the row from every version.
   */
  ProducerRecord<byte[], byte[]> tombstone(Datum datum) {
    RecordHeaders headers = provenance(datum);
    if (datum.getErasure() != null) {
      headers.add(Headers.ERASURE, Headers.bytes(datum.getErasure()));
    }
    return new ProducerRecord<>(
        outputs.name(), null, outputs.key(datum.getMemberObject().getMember()), null, headers);
  }

  /** The datum's result, keyed by its job. */
  ProducerRecord<byte[], byte[]> result(DatumResult result) {
    return new ProducerRecord<>(
        results.name(), results.key(result.getJobId()), results.value(result));
  }

  /** The datum's outcome for the member side. */
  ProducerRecord<byte[], byte[]> done(Datum datum, boolean succeeded, String outputHash) {
    MemberObject member = datum.getMemberObject();
    return done(
        member.getRepo(),
        member.getMember(),
        datum.getJobId(),
        datum.getDatumHash(),
        succeeded,
        outputHash);
  }

  /** The outcome for the member side, on the member's partition of the repo's by-member topic. */
  ProducerRecord<byte[], byte[]> done(
      String repo,
      String member,
      String jobId,
      String datumHash,
      boolean succeeded,
      String outputHash) {
    Topic<String, MemberEvent> byMember = topics.byMember(repo);
    DatumDone done =
        DatumDone.newBuilder()
            .setPipeline(pipeline)
            .setMember(member)
            .setJobId(jobId)
            .setDatumHash(datumHash)
            .setSucceeded(succeeded)
            .setOutputHash(outputHash)
            .build();
    return new ProducerRecord<>(
        byMember.name(),
        byMember.key(member),
        byMember.value(MemberEvent.newBuilder().setEvent(done).build()));
  }

  /**
   * The records of a datum that failed: its FAILED result, its records on the failed topic and,
   * unless it only compared outputs, a DatumDone that it did not succeed.
   */
  List<ProducerRecord<byte[], byte[]>> failure(
      DatumUnit unit, Datum datum, DatumResult failed, String error, int attempts, String stderr) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    records.add(result(failed));
    records.addAll(failedRecords(unit, provenance(datum), error, attempts, stderr));
    if (!datum.getCompareOnly()) {
      records.add(done(datum, false, null));
    }
    return records;
  }

  /**
   * The unit's original records (every part of a datum in parts) with the error, attempts, stderr,
   * {@code provenance} and their source position. A record that would be too large to send loses
   * its stderr header, then its value (its source position still finds it on the datum topic).
   */
  List<ProducerRecord<byte[], byte[]>> failedRecords(
      DatumUnit unit, RecordHeaders provenance, String error, int attempts, String stderr) {
    List<ProducerRecord<byte[], byte[]>> failed = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record : unit.records()) {
      RecordHeaders headers = new RecordHeaders(provenance.toArray());
      headers.add(Headers.ERROR, Headers.bytes(error));
      headers.add(Headers.ATTEMPTS, Headers.bytes(Integer.toString(attempts)));
      addSource(headers, record);
      ProducerRecord<byte[], byte[]> plain =
          new ProducerRecord<>(failedTopic, null, record.key(), record.value(), headers);
      ProducerRecord<byte[], byte[]> chosen = plain;
      if (!stderr.isEmpty()) {
        RecordHeaders withStderr = new RecordHeaders(headers.toArray());
        withStderr.add(Headers.STDERR, Headers.bytes(stderr));
        chosen = new ProducerRecord<>(failedTopic, null, record.key(), record.value(), withStderr);
        if (size(chosen) > maxRecordBytes) {
          chosen = plain;
        }
      }
      if (size(chosen) > maxRecordBytes) {
        headers.add(
            Headers.OMITTED,
            Headers.bytes(
                "value of "
                    + record.value().length
                    + " bytes left out to stay under "
                    + maxRecordBytes
                    + " bytes; see the source position"));
        chosen = new ProducerRecord<>(failedTopic, null, record.key(), null, headers);
      }
      failed.add(chosen);
    }
    return failed;
  }

  private static void addSource(RecordHeaders headers, ConsumerRecord<byte[], byte[]> record) {
    headers.add(Headers.SOURCE_TOPIC, Headers.bytes(record.topic()));
    headers.add(Headers.SOURCE_PARTITION, Headers.bytes(Integer.toString(record.partition())));
    headers.add(Headers.SOURCE_OFFSET, Headers.bytes(Long.toString(record.offset())));
  }

  private static RecordHeaders provenance(Datum datum) {
    return provenanceOf(
        datum.getPipeline(),
        datum.getJobId(),
        datum.getCommitId(),
        datum.getGlobalId(),
        datum.getDatumHash());
  }

  private static RecordHeaders provenanceOf(
      String pipeline, String jobId, String commitId, String globalId, String datumHash) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.PIPELINE, Headers.bytes(pipeline));
    headers.add(Headers.JOB_ID, Headers.bytes(jobId));
    headers.add(Headers.COMMIT_ID, Headers.bytes(commitId));
    headers.add(Headers.GLOBAL_ID, Headers.bytes(globalId));
    headers.add(Headers.DATUM_HASH, Headers.bytes(datumHash));
    return headers;
  }

  /**
   * An upper bound of the bytes the producer counts for a record alone in its batch (Kafka's own
   * estimate: batch header, record overhead, length-prefixed key, value and headers).
   */
  static long size(ProducerRecord<byte[], byte[]> record) {
    long size =
        BATCH_OVERHEAD
            + RECORD_OVERHEAD
            + VARINT
            + (record.key() == null ? 0 : record.key().length)
            + VARINT
            + (record.value() == null ? 0 : record.value().length)
            + VARINT;
    for (Header header : record.headers()) {
      size +=
          VARINT
              + header.key().getBytes(StandardCharsets.UTF_8).length
              + VARINT
              + (header.value() == null ? 0 : header.value().length);
    }
    return size;
  }
}
