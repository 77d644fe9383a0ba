package io.tusk.lineage;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Output;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-keys the records of every {@code <pipeline>.output} topic by {@code <pipeline>/<member>}, so
 * the outputs of all pipelines share one store without clashing (output topics are keyed by member
 * alone).
 *
 * <p>An output names its pipeline and member itself. A tombstone has no value, so its pipeline is
 * taken from the topic it came from and its member from the record key; it then deletes the output
 * from the index as compaction deletes it from the topic.
 */
final class OutputKeyer implements Processor<String, Output, String, Output> {
  private static final Logger log = LoggerFactory.getLogger(OutputKeyer.class);

  private ProcessorContext<String, Output> context;

  /** The outputs-store key of a pipeline's output for a member. */
  static String key(String pipeline, String member) {
    return pipeline + "/" + member;
  }

  @Override
  public void init(ProcessorContext<String, Output> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, Output> record) {
    Output output = record.value();
    if (output != null) {
      context.forward(record.withKey(key(output.getPipeline(), output.getMember())));
      return;
    }
    RecordMetadata source = context.recordMetadata().orElseThrow();
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
    context.forward(record.withKey(key(pipeline, record.key())));
  }
}
