package io.tusk.lineage;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.InputRef;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@link LineageStores#OUTPUTS_STORE} from the output events of {@link OutputKeyer}, each
 * stored as its {@link IndexKeys#ofOutput} entries (a null value deletes), and purges a member's
 * outputs of a pipeline on the tombstone of its erasure. The events arrive once each, keyed by
 * {@code <pipeline>/<member>}: the entries are made here rather than before the repartition, which
 * would carry every output twice.
 *
 * <p>The purge deletes the latest output and every version {@code <pipeline>/<member>\0<job>}, and
 * forwards what the other indexes must change, which live in other partitions: for every version, a
 * redaction of its rows-index entry {@code <position>\0o} and a null (delete) for every reader edge
 * {@code <upstream position>\0r\0<pipeline>\0<member>\0<job>} it created, keyed by the rows-store
 * key; and the erasure tombstone itself (keyed {@code <pipeline>/<member>}), which the datum
 * indexes act on. Nothing else is forwarded.
 */
final class OutputIndexer implements Processor<String, OutputEvent, String, OutputEvent> {
  private static final Logger log = LoggerFactory.getLogger(OutputIndexer.class);

  private ProcessorContext<String, OutputEvent> context;
  private TimestampedKeyValueStore<String, OutputEvent> outputs;

  @Override
  public void init(ProcessorContext<String, OutputEvent> context) {
    this.context = context;
    this.outputs = context.getStateStore(LineageStores.OUTPUTS_STORE);
  }

  @Override
  public void process(Record<String, OutputEvent> record) {
    OutputEvent event = record.value();
    if (event == null) {
      // Written to the repartition topic by a version that repartitioned the entries themselves:
      // the deletion of a removed member's latest output.
      outputs.delete(record.key());
    } else if (event.erases()) {
      purge(record, event);
    } else {
      // Also right for an entry such a version repartitioned: its own key is among the event's.
      for (KeyValue<String, OutputEvent> entry : IndexKeys.ofOutput(event)) {
        if (entry.value == null) {
          outputs.delete(entry.key);
        } else {
          outputs.put(entry.key, ValueAndTimestamp.make(entry.value, record.timestamp()));
        }
      }
    }
  }

  private void purge(Record<String, OutputEvent> record, OutputEvent erasure) {
    String prefix = StoreKeys.prefix(OutputKeyer.key(erasure.pipeline(), erasure.member()));
    List<KeyValue<String, OutputEvent>> versions = new ArrayList<>();
    try (KeyValueIterator<String, ValueAndTimestamp<OutputEvent>> iterator =
        outputs.range(prefix, StoreKeys.end(prefix))) {
      iterator.forEachRemaining(
          entry -> versions.add(KeyValue.pair(entry.key, entry.value.value())));
    }
    outputs.delete(record.key());
    for (KeyValue<String, OutputEvent> version : versions) {
      outputs.delete(version.key);
      OutputEvent purged = version.value;
      context.forward(
          record
              .withKey(IndexKeys.writtenAt(purged.position()))
              .withValue(
                  OutputEvent.redaction(
                      erasure.pipeline(),
                      erasure.erasure(),
                      purged.topic(),
                      purged.partition(),
                      purged.offset())));
      for (String edge : IndexKeys.readerEdges(purged)) {
        context.forward(record.withKey(edge).withValue(null));
      }
    }
    context.forward(record);
    // Never the member: the request and the counts.
    log.info(
        "Erasure {}: purged {} output versions of pipeline {}",
        erasure.erasure(),
        versions.size(),
        erasure.pipeline());
  }

  /** True for a record this processor forwards to the datum indexes (the erasure tombstone). */
  static boolean isErasure(String key, OutputEvent value) {
    return value != null && value.erases();
  }

  /** The upstream output rows of an output: the rows whose reader entries it has. */
  static List<InputRef> upstreamRows(OutputEvent event) {
    if (event.output() == null) {
      return List.of();
    }
    List<InputRef> rows = new ArrayList<>();
    for (InputRef input : event.output().getInputs()) {
      if (TopicNames.OUTPUT_PATTERN.matcher(input.getTopic()).matches()) {
        rows.add(input);
      }
    }
    return rows;
  }
}
