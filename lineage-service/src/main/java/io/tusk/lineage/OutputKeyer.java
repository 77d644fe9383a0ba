package io.tusk.lineage;

import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Output;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the records of every {@code <pipeline>.output} topic into {@link OutputEvent}s keyed by
 * {@code <pipeline>/<member>}, so the outputs of all pipelines share the indexes without clashing
 * (output topics are keyed by member alone). The event keeps the record's position, which the
 * repartitioning after this step would lose.
 *
 * <p>An output names its pipeline and member itself. A tombstone (a member removed from the input)
 * has no value: its pipeline is taken from the topic, its member from the record key, and its job,
 * commit, global ID and datum from the provenance headers the datum processor writes, and the
 * erasure request when the member was erased.
 */
final class OutputKeyer implements Processor<String, Output, String, OutputEvent> {
  private static final Logger log = LoggerFactory.getLogger(OutputKeyer.class);

  private ProcessorContext<String, OutputEvent> context;

  /** The outputs-store key of a pipeline's latest output for a member; the routing key. */
  static String key(String pipeline, String member) {
    return pipeline + "/" + member;
  }

  @Override
  public void init(ProcessorContext<String, OutputEvent> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, Output> record) {
    if (record.headers().lastHeader(Headers.ROLL) != null) {
      return; // a roll marker (Headers.ROLL), not an output of any member
    }
    RecordMetadata source = context.recordMetadata().orElseThrow();
    Output output = record.value();
    if (output != null) {
      OutputEvent event =
          OutputEvent.of(
              output, source.topic(), source.partition(), source.offset(), record.timestamp());
      context.forward(
          record.withKey(key(output.getPipeline(), output.getMember())).withValue(event));
      return;
    }
    if (record.key() == null) {
      // Neither a value nor a key: nothing to delete. Logged with its position, never silently.
      log.warn(
          "Skipping a tombstone without key on {} partition {} offset {}",
          source.topic(),
          source.partition(),
          source.offset());
      return;
    }
    String pipeline = TopicNames.owner(source.topic(), TopicNames.OUTPUT_SUFFIX);
    OutputEvent removal =
        new OutputEvent(
            pipeline,
            record.key(),
            Headers.text(record.headers(), Headers.JOB_ID),
            Headers.text(record.headers(), Headers.COMMIT_ID),
            Headers.text(record.headers(), Headers.GLOBAL_ID),
            Headers.text(record.headers(), Headers.DATUM_HASH),
            source.topic(),
            source.partition(),
            source.offset(),
            record.timestamp(),
            true,
            null,
            Headers.text(record.headers(), Headers.ERASURE));
    context.forward(record.withKey(key(pipeline, record.key())).withValue(removal));
  }
}
