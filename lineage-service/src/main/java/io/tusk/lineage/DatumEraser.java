package io.tusk.lineage;

import io.tusk.schemas.DatumResult;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes an erased member's datum results of one pipeline, of every job (failed datums too), from
 * {@link LineageStores#DATUMS_STORE} and {@link LineageStores#DATUM_STATES_STORE}.
 *
 * <p>Those stores are partitioned by job ID, and nothing in this partition lists the jobs of a
 * pipeline (the job indexes live in other partitions). So every task hears every erasure (the
 * erasure tombstone is broadcast to all partitions) and scans its own datums store for the member's
 * results of the pipeline. A scan per erasure costs a pass over the local store, but erasures are
 * rare, and it needs no second index of datums by member that every result would pay for and that
 * existing stores lack.
 */
final class DatumEraser implements Processor<String, OutputEvent, Void, Void> {
  private static final Logger log = LoggerFactory.getLogger(DatumEraser.class);

  private KeyValueStore<String, DatumResult> datums;
  private KeyValueStore<String, String> states;

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    this.datums = context.getStateStore(LineageStores.DATUMS_STORE);
    this.states = context.getStateStore(LineageStores.DATUM_STATES_STORE);
  }

  @Override
  public void process(Record<String, OutputEvent> record) {
    OutputEvent erasure = record.value();
    if (erasure == null || !erasure.erases()) {
      return;
    }
    List<KeyValue<String, DatumResult>> erased = new ArrayList<>();
    try (KeyValueIterator<String, DatumResult> iterator = datums.all()) {
      while (iterator.hasNext()) {
        KeyValue<String, DatumResult> entry = iterator.next();
        DatumResult result = entry.value;
        if (result != null
            && erasure.pipeline().equals(result.getPipeline())
            && erasure.member().equals(result.getMember())) {
          erased.add(entry);
        }
      }
    }
    for (KeyValue<String, DatumResult> entry : erased) {
      DatumResult result = entry.value;
      datums.delete(entry.key);
      states.delete(
          new IndexKeys.DatumStateKey(result.getJobId(), result.getState(), result.getMember())
              .encode());
    }
    if (!erased.isEmpty()) {
      log.info(
          "Erasure {}: deleted {} datum results of pipeline {}",
          erasure.erasure(),
          erased.size(),
          erasure.pipeline());
    }
  }
}
