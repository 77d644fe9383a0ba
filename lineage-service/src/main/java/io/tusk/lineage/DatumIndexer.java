package io.tusk.lineage;

import io.tusk.schemas.DatumResult;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indexes {@code tusk.datum-results} (key: job ID, so one job's results share a partition): the
 * latest result of each (job, member) under {@code <job>\0<member>} in {@link
 * LineageService#DATUMS_STORE}, and the same member under {@code <job>\0<STATE>\0<member>} in
 * {@link LineageService#DATUM_STATES_STORE}, so the failed datums of a job with a million successes
 * are a short range scan.
 *
 * <p>A later result of the same datum (a restart of a failed one) replaces the earlier one and
 * moves the member to its new state.
 */
final class DatumIndexer implements Processor<String, DatumResult, Void, Void> {
  private static final Logger log = LoggerFactory.getLogger(DatumIndexer.class);

  private ProcessorContext<Void, Void> context;
  private KeyValueStore<String, DatumResult> datums;
  private KeyValueStore<String, String> states;

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    this.context = context;
    this.datums = context.getStateStore(LineageStores.DATUMS_STORE);
    this.states = context.getStateStore(LineageStores.DATUM_STATES_STORE);
  }

  @Override
  public void process(Record<String, DatumResult> record) {
    DatumResult result = record.value();
    if (result == null || record.key() == null || !record.key().equals(result.getJobId())) {
      // The store is partitioned by the record key; a result keyed otherwise could not be found.
      RecordMetadata source = context.recordMetadata().orElseThrow();
      log.warn(
          "Skipping a datum result that is empty or not keyed by its job ID on {} partition {}"
              + " offset {}",
          source.topic(),
          source.partition(),
          source.offset());
      return;
    }
    String key = IndexKeys.datum(result.getJobId(), result.getMember());
    DatumResult previous = datums.get(key);
    if (previous != null && previous.getState() != result.getState()) {
      states.delete(
          new IndexKeys.DatumStateKey(result.getJobId(), previous.getState(), result.getMember())
              .encode());
    }
    datums.put(key, result);
    states.put(
        new IndexKeys.DatumStateKey(result.getJobId(), result.getState(), result.getMember())
            .encode(),
        "");
  }
}
