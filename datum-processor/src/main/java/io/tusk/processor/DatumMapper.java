package io.tusk.processor;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.common.transform.TransformOutput;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.MemberEvent;
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
 * records its transaction writes out (docs/versioning-and-processing.md, "Datum processor"):
 *
 * <ul>
 *   <li>SUCCESS: the {@link Output} on {@code <pipeline>.output} (value and provenance headers);
 *   <li>RECOVERED (every try failed, the error command succeeded): no output;
 *   <li>FAILED: the datum's bytes on {@code <pipeline>.failed} with the error, attempt count and
 *       the end of stderr in headers;
 *   <li>a removal datum (no rows, hash ""): a tombstone on {@code <pipeline>.output} with
 *       provenance headers, SUCCESS, without running the transform;
 * </ul>
 *
 * and for each of them a {@link DatumResult} on {@code tusk.datum-results} (key: job ID) and a
 * {@link DatumDone} on {@code <repo>.by-member} (key: member), so the member side learns the
 * outcome in the same transaction as the output. A record that is not a datum goes to {@code
 * <pipeline>.failed} only. Needs no broker: tests call it directly.
 *
 * <p>Not thread-safe (it drives the thread's transform).
 */
public final class DatumMapper implements AutoCloseable {
  /** Header on {@code <pipeline>.failed}: why the datum failed. */
  public static final String ERROR_HEADER = Headers.ERROR;

  private final String processorId;
  private final DatumExecution execution;
  private final Function<String, Optional<RepoLayout>> layouts;
  private final Topics topics;
  private final Topic<String, Datum> datums;
  private final Topic<String, Output> outputs;
  private final Topic<String, DatumResult> results;
  private final String failedTopic;
  private final Clock clock;

  /**
   * @param pipeline the pipeline whose datums are mapped
   * @param processorId this worker's ID, stamped on results ({@code <instance>-<thread>})
   * @param execution this worker's own execution of the transform (closed with the mapper)
   * @param layouts the layout of a repo by name, empty when the repo is unknown
   * @param topics typed topics (their serdes use the schema registry)
   * @param clock source of {@code startedAt}
   */
  public DatumMapper(
      String pipeline,
      String processorId,
      DatumExecution execution,
      Function<String, Optional<RepoLayout>> layouts,
      Topics topics,
      Clock clock) {
    Objects.requireNonNull(pipeline, "pipeline");
    this.processorId = Objects.requireNonNull(processorId, "processorId");
    this.execution = Objects.requireNonNull(execution, "execution");
    this.layouts = Objects.requireNonNull(layouts, "layouts");
    this.topics = Objects.requireNonNull(topics, "topics");
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
    MemberObject member = datum.getMemberObject();
    DatumResult.Builder result =
        DatumResult.newBuilder()
            .setJobId(datum.getJobId())
            .setPipeline(datum.getPipeline())
            .setMember(member.getMember())
            .setRepo(member.getRepo())
            .setDatumHash(datum.getDatumHash())
            .setProcessorId(processorId)
            .setStartedAt(startedAt)
            .setRestart(datum.getMode() == JobMode.FAILED_ONLY);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(3);

    if (isRemoval(member)) {
      DatumResult removed =
          result
              .setState(DatumState.SUCCESS)
              .setAttempts(0)
              .setDurationMicros(micros(start))
              .build();
      records.add(tombstone(datum));
      records.add(resultRecord(removed));
      records.add(done(datum, true, null));
      return new DatumOutcome(DatumOutcome.Kind.REMOVED, null, removed, null, records);
    }

    Optional<RepoLayout> layout = layouts.apply(member.getRepo());
    DatumExecution.Result execution =
        layout.isPresent()
            ? this.execution.execute(datum, layout.get())
            : new DatumExecution.Result(
                DatumState.FAILED,
                null,
                1,
                "datum names unknown repo " + member.getRepo(),
                "",
                null);
    result
        .setAttempts(execution.attempts())
        .setDurationMicros(micros(start))
        .setLog(execution.log());

    switch (execution.state()) {
      case SUCCESS -> {
        // A success implies a known repo; its rows may live on another topic than <repo>.updates
        // (a derived repo reads <pipeline>.output), and lineage follows the topic named here.
        Output output =
            output(datum, execution.output(), TopicNames.updatesOf(layout.orElseThrow().spec()));
        result.setState(DatumState.SUCCESS).setOutputHash(output.getOutputHash());
        if (datum.getMode() == JobMode.REPROCESS && datum.getExpectedOutputHash() != null) {
          result.setIdentical(datum.getExpectedOutputHash().equals(output.getOutputHash()));
        }
        DatumResult succeeded = result.build();
        records.add(outputRecord(output));
        records.add(resultRecord(succeeded));
        records.add(done(datum, true, output.getOutputHash()));
        return new DatumOutcome(DatumOutcome.Kind.SUCCESS, output, succeeded, null, records);
      }
      case RECOVERED -> {
        DatumResult recovered =
            result.setState(DatumState.RECOVERED).setError(execution.error()).build();
        records.add(resultRecord(recovered));
        records.add(done(datum, true, null));
        return new DatumOutcome(
            DatumOutcome.Kind.RECOVERED, null, recovered, execution.error(), records);
      }
      default -> {
        String error =
            execution.stderr().isEmpty()
                ? execution.error()
                : execution.error() + "\n-- stderr (end) --\n" + execution.stderr();
        DatumResult failed = result.setState(DatumState.FAILED).setError(error).build();
        records.add(resultRecord(failed));
        records.add(failedRecord(record, execution, datum));
        records.add(done(datum, false, null));
        return new DatumOutcome(DatumOutcome.Kind.FAILED, null, failed, execution.error(), records);
      }
    }
  }

  /** A removal datum: the member's rows were all deleted as of the job's commit. */
  static boolean isRemoval(MemberObject member) {
    return member.getRows().isEmpty() && member.getHash().isEmpty();
  }

  private static long micros(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000;
  }

  private static Output output(Datum datum, TransformOutput result, String sourceTopic) {
    MemberObject member = datum.getMemberObject();
    List<InputRef> inputs = new ArrayList<>(member.getRows().size());
    for (Row row : member.getRows()) {
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

  /** A null value on the compacted output topic: the member's output is gone. */
  private ProducerRecord<byte[], byte[]> tombstone(Datum datum) {
    RecordHeaders headers =
        provenance(
            datum.getPipeline(),
            datum.getJobId(),
            datum.getCommitId(),
            datum.getGlobalId(),
            datum.getDatumHash());
    return new ProducerRecord<>(
        outputs.name(), null, outputs.key(datum.getMemberObject().getMember()), null, headers);
  }

  private ProducerRecord<byte[], byte[]> resultRecord(DatumResult result) {
    return new ProducerRecord<>(
        results.name(), results.key(result.getJobId()), results.value(result));
  }

  /** The outcome for the member side, on the member's partition of the repo's by-member topic. */
  private ProducerRecord<byte[], byte[]> done(Datum datum, boolean succeeded, String outputHash) {
    MemberObject member = datum.getMemberObject();
    Topic<String, MemberEvent> byMember = topics.byMember(member.getRepo());
    DatumDone done =
        DatumDone.newBuilder()
            .setPipeline(datum.getPipeline())
            .setMember(member.getMember())
            .setJobId(datum.getJobId())
            .setDatumHash(datum.getDatumHash())
            .setSucceeded(succeeded)
            .setOutputHash(outputHash)
            .build();
    return new ProducerRecord<>(
        byMember.name(),
        byMember.key(member.getMember()),
        byMember.value(MemberEvent.newBuilder().setEvent(done).build()));
  }

  /** The datum's original bytes with the error, attempts, stderr and its provenance. */
  private ProducerRecord<byte[], byte[]> failedRecord(
      ConsumerRecord<byte[], byte[]> record, DatumExecution.Result execution, Datum datum) {
    RecordHeaders headers =
        provenance(
            datum.getPipeline(),
            datum.getJobId(),
            datum.getCommitId(),
            datum.getGlobalId(),
            datum.getDatumHash());
    headers.add(ERROR_HEADER, Headers.bytes(execution.error()));
    headers.add(Headers.ATTEMPTS, Headers.bytes(Integer.toString(execution.attempts())));
    if (!execution.stderr().isEmpty()) {
      headers.add(Headers.STDERR, Headers.bytes(execution.stderr()));
    }
    addSource(headers, record);
    return new ProducerRecord<>(failedTopic, null, record.key(), record.value(), headers);
  }

  private DatumOutcome invalid(ConsumerRecord<byte[], byte[]> record, String error) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(ERROR_HEADER, Headers.bytes(error));
    addSource(headers, record);
    return new DatumOutcome(
        DatumOutcome.Kind.INVALID,
        null,
        null,
        error,
        List.of(new ProducerRecord<>(failedTopic, null, record.key(), record.value(), headers)));
  }

  private static void addSource(RecordHeaders headers, ConsumerRecord<byte[], byte[]> record) {
    headers.add(Headers.SOURCE_TOPIC, Headers.bytes(record.topic()));
    headers.add(Headers.SOURCE_PARTITION, Headers.bytes(Integer.toString(record.partition())));
    headers.add(Headers.SOURCE_OFFSET, Headers.bytes(Long.toString(record.offset())));
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
    return text.length() <= DatumExecution.MAX_ERROR_CHARS
        ? text
        : text.substring(0, DatumExecution.MAX_ERROR_CHARS) + "...";
  }

  /** Stops the transform (worker processes) and deletes its work directories. */
  @Override
  public void close() {
    execution.close();
  }
}
