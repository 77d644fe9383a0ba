package io.tusk.processor;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.common.transform.MemberDatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Output;
import io.tusk.schemas.Row;
import io.tusk.schemas.registry.SchemaRegistryException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The pure part of step 5 of the commit protocol: one record of {@code <pipeline>.datums} in, the
 * records its transaction writes out. A success gives the {@link Output} (value and provenance
 * headers) and a SUCCESS {@link DatumResult}; a transform that throws, or a datum of an unknown
 * repo, gives a FAILED result and the datum's bytes on {@code <pipeline>.failed}; a record that is
 * not a datum goes to {@code <pipeline>.failed} only. Needs no broker: tests call it directly.
 *
 * <p>Not thread-safe (it holds the thread's transform instance).
 */
public final class DatumMapper {
  /** Header on {@code <pipeline>.failed}: why the datum failed (exception class and message). */
  public static final String ERROR_HEADER = Headers.ERROR;

  /** Errors are stored in results and headers; a runaway message must not bloat either. */
  private static final int MAX_ERROR_LENGTH = 1000;

  private final String processorId;
  private final Transform transform;
  private final Function<String, Optional<RepoLayout>> layouts;
  private final Topic<String, Datum> datums;
  private final Topic<String, Output> outputs;
  private final Topic<String, DatumResult> results;
  private final String failedTopic;
  private final Clock clock;

  /**
   * @param pipeline the pipeline whose datums are mapped
   * @param processorId this worker's ID, stamped on results ({@code <instance>-<thread>})
   * @param transform this worker's own transform instance
   * @param layouts the layout of a repo by name, empty when the repo is unknown
   * @param topics typed topics (their serdes use the schema registry)
   * @param clock source of {@code startedAt}
   */
  public DatumMapper(
      String pipeline,
      String processorId,
      Transform transform,
      Function<String, Optional<RepoLayout>> layouts,
      Topics topics,
      Clock clock) {
    Objects.requireNonNull(pipeline, "pipeline");
    this.processorId = Objects.requireNonNull(processorId, "processorId");
    this.transform = Objects.requireNonNull(transform, "transform");
    this.layouts = Objects.requireNonNull(layouts, "layouts");
    this.datums = topics.datums(pipeline);
    this.outputs = topics.output(pipeline);
    this.results = topics.datumResults;
    this.failedTopic = TopicNames.failed(pipeline);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Maps one datum record.
   *
   * @throws org.apache.kafka.common.KafkaException if the schema registry cannot be reached (a
   *     transient failure: the caller retries the whole poll); never for bad data or a failing
   *     transform
   */
  public DatumOutcome map(ConsumerRecord<byte[], byte[]> record) {
    long startedAt = clock.millis();
    long start = System.nanoTime();
    Datum datum;
    try {
      datum = datums.readValue(record.value());
    } catch (RuntimeException e) {
      rethrowIfRegistryUnavailable(e);
      return invalid(record, "undecodable datum: " + describe(e));
    }
    if (datum == null) {
      return invalid(record, "empty datum record");
    }

    TransformOutput result = null;
    String error = null;
    try {
      result = transform(datum);
    } catch (Exception | StackOverflowError | LinkageError e) {
      // User code may throw anything short of a VM failure; the datum fails, the worker goes on.
      error = describe(e);
    }
    long durationMicros = (System.nanoTime() - start) / 1_000;

    DatumResult.Builder datumResult =
        DatumResult.newBuilder()
            .setJobId(datum.getJobId())
            .setPipeline(datum.getPipeline())
            .setMember(datum.getMemberObject().getMember())
            .setDatumHash(datum.getDatumHash())
            .setAttempts(1)
            .setProcessorId(processorId)
            .setStartedAt(startedAt)
            .setDurationMicros(durationMicros);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(2);
    if (error != null) {
      DatumResult failed = datumResult.setState(DatumState.FAILED).setError(error).build();
      records.add(resultRecord(failed));
      records.add(failedRecord(record, error, datum));
      return new DatumOutcome(DatumOutcome.Kind.FAILED, null, failed, error, records);
    }
    Output output = output(datum, result);
    DatumResult succeeded =
        datumResult.setState(DatumState.SUCCESS).setOutputHash(output.getOutputHash()).build();
    records.add(outputRecord(output));
    records.add(resultRecord(succeeded));
    return new DatumOutcome(DatumOutcome.Kind.SUCCESS, output, succeeded, null, records);
  }

  private TransformOutput transform(Datum datum) throws Exception {
    String repo = datum.getMemberObject().getRepo();
    RepoLayout layout =
        layouts
            .apply(repo)
            .orElseThrow(() -> new IllegalStateException("datum names unknown repo " + repo));
    TransformOutput output = transform.apply(new MemberDatumInput(datum, layout));
    if (output == null) {
      throw new IllegalStateException("transform " + transform.name() + " returned no output");
    }
    return output;
  }

  private static Output output(Datum datum, TransformOutput result) {
    MemberObject member = datum.getMemberObject();
    String sourceTopic = TopicNames.updates(member.getRepo());
    List<InputRef> inputs = new ArrayList<>(member.getRows().size());
    for (Row row : member.getRows()) {
      inputs.add(
          new InputRef(
              sourceTopic, row.getSourcePartition(), row.getSourceOffset(), row.getTable()));
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
        .build();
  }

  private ProducerRecord<byte[], byte[]> outputRecord(Output output) {
    RecordHeaders headers =
        provenance(
            output.getPipeline(),
            output.getJobId(),
            output.getCommitId(),
            output.getGlobalId(),
            output.getDatumHash());
    return new ProducerRecord<>(
        outputs.name(), null, outputs.key(output.getMember()), outputs.value(output), headers);
  }

  private ProducerRecord<byte[], byte[]> resultRecord(DatumResult result) {
    return new ProducerRecord<>(
        results.name(), results.key(result.getJobId()), results.value(result));
  }

  /** The datum's original bytes with the error and, when known, its provenance. */
  private ProducerRecord<byte[], byte[]> failedRecord(
      ConsumerRecord<byte[], byte[]> record, String error, Datum datum) {
    RecordHeaders headers =
        datum == null
            ? new RecordHeaders()
            : provenance(
                datum.getPipeline(),
                datum.getJobId(),
                datum.getCommitId(),
                datum.getGlobalId(),
                datum.getDatumHash());
    headers.add(ERROR_HEADER, Headers.bytes(error));
    headers.add(Headers.SOURCE_TOPIC, Headers.bytes(record.topic()));
    headers.add(Headers.SOURCE_PARTITION, Headers.bytes(Integer.toString(record.partition())));
    headers.add(Headers.SOURCE_OFFSET, Headers.bytes(Long.toString(record.offset())));
    return new ProducerRecord<>(failedTopic, null, record.key(), record.value(), headers);
  }

  private DatumOutcome invalid(ConsumerRecord<byte[], byte[]> record, String error) {
    return new DatumOutcome(
        DatumOutcome.Kind.INVALID, null, null, error, List.of(failedRecord(record, error, null)));
  }

  private static RecordHeaders provenance(
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
   * A registry that cannot be reached (or answers 5xx) is an outage, not bad data: the poll must be
   * retried rather than the datum written off.
   */
  private static void rethrowIfRegistryUnavailable(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SchemaRegistryException registry
          && (registry.status() < 0 || registry.status() >= 500)) {
        throw e;
      }
    }
  }

  /** Exception class and message: enough to act on, and never row values from our own code. */
  static String describe(Throwable e) {
    String text = e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    return text.length() <= MAX_ERROR_LENGTH ? text : text.substring(0, MAX_ERROR_LENGTH) + "...";
  }
}
