package io.tusk.processor;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.processor.DatumAssembler.Decoded;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumDone;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Output;
import io.tusk.schemas.registry.SchemaRegistryException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The pure part of step 5 of the commit protocol: one datum in (a {@link DatumUnit}: the records of
 * a datum, assembled from its parts), the records its transaction writes out
 * (docs/versioning-and-processing.md, "Datum processor"):
 *
 * <ul>
 *   <li>SUCCESS: the {@link Output} on {@code <pipeline>.output} (value and provenance headers);
 *   <li>RECOVERED (every try failed, the error command succeeded): a tombstone on {@code
 *       <pipeline>.output} with provenance headers, so no stale output stays current;
 *   <li>FAILED: the datum's records on {@code <pipeline>.failed} with the error, attempt count and
 *       the end of stderr in headers; also when the transform of the datum's spec hash cannot run
 *       here, or the output record would be larger than the producer may send;
 *   <li>a removal datum (no rows, hash ""): a tombstone on {@code <pipeline>.output} with
 *       provenance headers, SUCCESS, without running the transform;
 * </ul>
 *
 * and for each of them a {@link DatumResult} on {@code tusk.datum-results} (key: job ID) and a
 * {@link DatumDone} on {@code <repo>.by-member} (key: member), so the member side learns the
 * outcome in the same transaction as the output. A compare-only datum writes its result only
 * (output hash and {@code identical}) and, if it fails, its failed records. A record that is not a
 * datum goes to {@code <pipeline>.failed}, with a FAILED result and DatumDone when its headers name
 * its job, datum hash and repo. This class decides the outcome; {@link OutcomeRecords} builds its
 * records. Needs no broker: tests call it directly.
 *
 * <p>Not thread-safe (it drives the thread's transform).
 */
public final class DatumMapper implements AutoCloseable {
  /** The layouts of repos as this processor knows them (a view of {@code tusk.repos}). */
  @FunctionalInterface
  interface Layouts {
    /** The layout of {@code repo}, empty when the repo is unknown. */
    Optional<RepoLayout> of(String repo);

    /**
     * The layout of {@code repo} once the view knows at least {@code version}; it may be older
     * still if the view could not catch up. By default: as known now.
     */
    default Optional<RepoLayout> atLeast(String repo, int version) {
      return of(repo);
    }
  }

  /** Header on {@code <pipeline>.failed}: why the datum failed. */
  public static final String ERROR_HEADER = Headers.ERROR;

  private final String pipeline;
  private final String processorId;
  private final TransformSelector transforms;

  private final Layouts layouts;
  private final Topic<String, Datum> datums;
  private final OutcomeRecords records;
  private final Clock clock;

  /**
   * @param pipeline the pipeline whose datums are mapped
   * @param processorId this worker's ID, stamped on results ({@code <instance>-<thread>})
   * @param transforms this worker's own transforms, picked by spec hash (closed with the mapper)
   * @param layouts the layout of a repo by name, empty when the repo is unknown
   * @param topics typed topics (their serdes use the schema registry)
   * @param clock source of {@code startedAt}
   * @param maxRecordBytes the largest record the producer may send ({@link #maxRecordBytes(Map)})
   */
  DatumMapper(
      String pipeline,
      String processorId,
      TransformSelector transforms,
      Layouts layouts,
      Topics topics,
      Clock clock,
      int maxRecordBytes) {
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.processorId = Objects.requireNonNull(processorId, "processorId");
    this.transforms = Objects.requireNonNull(transforms, "transforms");
    this.layouts = Objects.requireNonNull(layouts, "layouts");
    this.datums = topics.datums(pipeline);
    this.records = new OutcomeRecords(pipeline, topics, maxRecordBytes);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Room kept below the producer's limit: the lineage service copies every output, with its
   * position and timestamp, into a repartition topic and a store changelog whose records must fit
   * the same default limit.
   */
  static final int LINEAGE_HEADROOM_BYTES = 16 * 1024;

  /**
   * The largest output record the processor writes: the producer refuses a record larger than
   * {@code max.request.size} or {@code buffer.memory} (their defaults when not set), less {@link
   * #LINEAGE_HEADROOM_BYTES}.
   */
  static int maxRecordBytes(Map<String, Object> producerSettings) {
    Map<String, Object> parsed = ProducerConfig.configDef().parse(producerSettings);
    int maxRequest = (Integer) parsed.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    long memory = (Long) parsed.get(ProducerConfig.BUFFER_MEMORY_CONFIG);
    return (int) Math.min(maxRequest, memory) - LINEAGE_HEADROOM_BYTES;
  }

  /**
   * Decodes one record of the datum topic.
   *
   * @throws org.apache.kafka.common.KafkaException if the schema registry cannot be reached (a
   *     transient failure: the caller retries the whole poll); never for bad data
   */
  Decoded decode(ConsumerRecord<byte[], byte[]> record) {
    Datum datum;
    try {
      datum = datums.readValue(record.value());
    } catch (RuntimeException e) {
      rethrowIfRegistryUnavailable(e);
      return new Decoded(null, "undecodable datum: " + describe(e));
    }
    return datum == null ? new Decoded(null, "empty datum record") : new Decoded(datum, null);
  }

  /**
   * Maps one record that holds a whole datum (a datum in parts goes through a {@link
   * DatumAssembler} and {@link #map(DatumUnit)}).
   *
   * @throws org.apache.kafka.common.KafkaException if the schema registry cannot be reached (a
   *     transient failure: the caller retries the whole poll); never for bad data or a failing
   *     transform
   */
  public DatumOutcome map(ConsumerRecord<byte[], byte[]> record) {
    Decoded decoded = decode(record);
    Datum datum = decoded.datum();
    if (datum == null) {
      return map(DatumUnit.failed(record, null, decoded.error()));
    }
    if (datum.getParts() != 1) {
      return map(
          DatumUnit.failed(
              record,
              datum,
              "part " + datum.getPart() + " of a datum in " + datum.getParts() + " parts, alone"));
    }
    return map(DatumUnit.started(record, datum));
  }

  /**
   * Maps one ready datum unit.
   *
   * @throws org.apache.kafka.common.errors.InterruptException if the worker is stopped while the
   *     datum waits for its transform
   */
  DatumOutcome map(DatumUnit unit) {
    if (!unit.isReady()) {
      throw new IllegalArgumentException("the unit still waits for parts");
    }
    long startedAt = clock.millis();
    long start = System.nanoTime();
    Datum datum = unit.datum();
    if (unit.error() != null) {
      return invalid(unit, startedAt, start);
    }
    MemberObject member = datum.getMemberObject();
    DatumResult.Builder result = result(datum, startedAt);

    if (isRemoval(member)) {
      result.setState(DatumState.SUCCESS).setAttempts(0).setDurationMicros(micros(start));
      if (datum.getCompareOnly()) {
        // Nothing to compute; an expected output hash means the member had an output, unlike now.
        DatumResult compared =
            result.setIdentical(datum.getExpectedOutputHash() == null ? null : false).build();
        return new DatumOutcome(
            DatumOutcome.Kind.COMPARED, null, compared, null, List.of(records.result(compared)));
      }
      DatumResult removed = result.build();
      return new DatumOutcome(
          DatumOutcome.Kind.REMOVED,
          null,
          removed,
          null,
          List.of(
              records.tombstone(datum), records.result(removed), records.done(datum, true, null)));
    }

    DatumExecution.Result execution = execute(datum);
    result
        .setAttempts(execution.attempts())
        .setDurationMicros(micros(start))
        .setLog(execution.log());

    switch (execution.state()) {
      case SUCCESS -> {
        // A success implies a known repo; its rows may live on another topic than <repo>.updates
        // (a derived repo reads <pipeline>.output), and lineage follows the topic named here.
        RepoLayout layout = layouts.of(member.getRepo()).orElseThrow();
        Output output =
            OutcomeRecords.output(datum, execution.output(), TopicNames.updatesOf(layout.spec()));
        ProducerRecord<byte[], byte[]> outputRecord = records.output(output);
        long size = OutcomeRecords.size(outputRecord);
        if (size > records.maxRecordBytes()) {
          // Deterministic, so no retry: the datum fails here rather than the transaction.
          String error =
              "output of "
                  + size
                  + " bytes exceeds the limit of "
                  + records.maxRecordBytes()
                  + " bytes (the output record with its input list and headers; the producer's"
                  + " max.request.size)";
          return failed(unit, datum, result, error, execution.attempts(), "");
        }
        result.setState(DatumState.SUCCESS).setOutputHash(output.getOutputHash());
        String expected = datum.getExpectedOutputHash();
        if (datum.getCompareOnly()) {
          DatumResult compared =
              result
                  .setIdentical(expected == null ? null : expected.equals(output.getOutputHash()))
                  .build();
          return new DatumOutcome(
              DatumOutcome.Kind.COMPARED, null, compared, null, List.of(records.result(compared)));
        }
        if (datum.getMode() == JobMode.REPROCESS && expected != null) {
          result.setIdentical(expected.equals(output.getOutputHash()));
        }
        DatumResult succeeded = result.build();
        return new DatumOutcome(
            DatumOutcome.Kind.SUCCESS,
            output,
            succeeded,
            null,
            List.of(
                outputRecord,
                records.result(succeeded),
                records.done(datum, true, output.getOutputHash())));
      }
      case RECOVERED -> {
        DatumResult recovered =
            result.setState(DatumState.RECOVERED).setError(execution.error()).build();
        if (datum.getCompareOnly()) {
          return new DatumOutcome(
              DatumOutcome.Kind.RECOVERED,
              null,
              recovered,
              execution.error(),
              List.of(records.result(recovered)));
        }
        // The member's output is removed: an older output must not stay current.
        return new DatumOutcome(
            DatumOutcome.Kind.RECOVERED,
            null,
            recovered,
            execution.error(),
            List.of(
                records.tombstone(datum),
                records.result(recovered),
                records.done(datum, true, null)));
      }
      default -> {
        return failed(
            unit, datum, result, execution.error(), execution.attempts(), execution.stderr());
      }
    }
  }

  /** Runs the datum's own transform, or says why it cannot run here. */
  private DatumExecution.Result execute(Datum datum) {
    MemberObject member = datum.getMemberObject();
    Optional<RepoLayout> layout = layoutOf(datum);
    if (layout.isEmpty()) {
      return notRun(1, "datum names unknown repo " + member.getRepo());
    }
    if (layout.get().version() < datum.getLayoutVersion()) {
      return notRun(
          1,
          "repo "
              + member.getRepo()
              + " layout version "
              + datum.getLayoutVersion()
              + " is not known here yet (known: "
              + layout.get().version()
              + ")");
    }
    TransformSelector.Selection selection;
    try {
      selection = transforms.select(datum.getSpecHash());
    } catch (InterruptedException e) {
      throw new InterruptException(e); // stopping: the datum is left to the partition's next owner
    }
    if (selection.error() != null) {
      return notRun(0, selection.error());
    }
    RepoLayout inForce = layout.get().at(datum.getCommitSequence());
    return selection.execution().execute(fitted(datum, inForce), inForce);
  }

  /**
   * The repo's layout, once this processor's view has the layout version the datum's commit was
   * sealed under (the view follows {@code tusk.repos} and may lag a layout change by moments).
   */
  private Optional<RepoLayout> layoutOf(Datum datum) {
    return layouts.atLeast(datum.getMemberObject().getRepo(), datum.getLayoutVersion());
  }

  /**
   * The datum with its rows fitted to the layout of its commit. In place: the datum was decoded for
   * this execution alone, and a copy of a large member would cost its size.
   */
  private static Datum fitted(Datum datum, RepoLayout layout) {
    MemberObject member = datum.getMemberObject();
    member.setRows(layout.fitted(member.getRows()));
    return datum;
  }

  private static DatumExecution.Result notRun(int attempts, String error) {
    return new DatumExecution.Result(DatumState.FAILED, null, attempts, error, "", null);
  }

  private DatumResult.Builder result(Datum datum, long startedAt) {
    MemberObject member = datum.getMemberObject();
    return DatumResult.newBuilder()
        .setJobId(datum.getJobId())
        .setPipeline(datum.getPipeline())
        .setMember(member.getMember())
        .setRepo(member.getRepo())
        .setDatumHash(datum.getDatumHash())
        .setProcessorId(processorId)
        .setStartedAt(startedAt)
        .setRestart(datum.getMode() == JobMode.FAILED_ONLY);
  }

  /** A FAILED datum: its result, its records on the failed topic and (unless compare-only) done. */
  private DatumOutcome failed(
      DatumUnit unit,
      Datum datum,
      DatumResult.Builder result,
      String error,
      int attempts,
      String stderr) {
    String text = stderr.isEmpty() ? error : error + "\n-- stderr (end) --\n" + stderr;
    DatumResult failed = result.setState(DatumState.FAILED).setError(text).build();
    return new DatumOutcome(
        DatumOutcome.Kind.FAILED,
        null,
        failed,
        error,
        records.failure(unit, datum, failed, error, attempts, stderr));
  }

  /**
   * A unit that is not a datum (undecodable, or parts that do not fit): its records on the failed
   * topic, and a FAILED result with a DatumDone when the datum or the record's headers name the
   * job, so the job does not wait for it forever.
   */
  private DatumOutcome invalid(DatumUnit unit, long startedAt, long start) {
    Datum datum = unit.datum();
    String error = unit.error();
    if (datum != null) {
      DatumResult failed =
          result(datum, startedAt)
              .setState(DatumState.FAILED)
              .setAttempts(0)
              .setDurationMicros(micros(start))
              .setError(error)
              .build();
      return new DatumOutcome(
          DatumOutcome.Kind.INVALID,
          null,
          failed,
          error,
          records.failure(unit, datum, failed, error, 0, ""));
    }
    ConsumerRecord<byte[], byte[]> first = unit.records().get(0);
    RecordHeaders named = new RecordHeaders();
    for (Header header : first.headers()) {
      named.add(header); // the member side's job ID, datum hash and repo, as they came
    }
    String jobId = Headers.text(first.headers(), Headers.JOB_ID);
    String datumHash = Headers.text(first.headers(), Headers.DATUM_HASH);
    String repo = Headers.text(first.headers(), Headers.REPO);
    List<ProducerRecord<byte[], byte[]>> failedRecords =
        records.failedRecords(unit, named, error, 0, "");
    if (jobId == null || datumHash == null || repo == null || first.key() == null) {
      return new DatumOutcome(DatumOutcome.Kind.INVALID, null, null, error, failedRecords);
    }
    String member = new String(first.key(), StandardCharsets.UTF_8);
    DatumResult failed =
        DatumResult.newBuilder()
            .setJobId(jobId)
            .setPipeline(pipeline)
            .setMember(member)
            .setRepo(repo)
            .setDatumHash(datumHash)
            .setProcessorId(processorId)
            .setStartedAt(startedAt)
            .setState(DatumState.FAILED)
            .setAttempts(0)
            .setDurationMicros(micros(start))
            .setError(error)
            .build();
    List<ProducerRecord<byte[], byte[]>> written = new ArrayList<>();
    written.add(records.result(failed));
    written.addAll(failedRecords);
    written.add(records.done(repo, member, jobId, datumHash, false, null));
    return new DatumOutcome(DatumOutcome.Kind.INVALID, null, failed, error, written);
  }

  /** A removal datum: the member's rows were all deleted as of the job's commit. */
  static boolean isRemoval(MemberObject member) {
    return member.getRows().isEmpty() && member.getHash().isEmpty();
  }

  private static long micros(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000;
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
    transforms.close();
  }
}
