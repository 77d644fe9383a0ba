package io.tusk.lineage;

import io.tusk.schemas.Job;
import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Emits each job's OpenLineage run events once per state change: START when the job is first seen
 * running (or already ended), then COMPLETE or FAIL when it ends. Runs on the job's partition, so
 * with several instances each job's events come from one of them.
 *
 * <p>Every event is recorded in {@link LineageService#OPENLINEAGE_STORE} under {@code <job>\0<event
 * type>}: its JSON while it waits for the HTTP endpoint, "" once the endpoint took it. A restart or
 * a rebalance therefore re-sends only what was not acknowledged (at least once), never everything.
 * Events the sink cannot take now (backlog full) stay in the store and are offered again by a
 * wall-clock punctuation, which also records the acknowledgements.
 *
 * <p>Each event is also forwarded (key: run ID, value: JSON) for the optional events topic.
 */
final class OpenLineageProcessor implements Processor<String, Job, String, String> {
  /** Value of an event the endpoint took. */
  static final String SENT = "";

  private static final Duration PUNCTUATION = Duration.ofSeconds(1);

  private final OpenLineageEvents events;
  private final RunEventSink sink;
  private final Queue<String> acknowledged = new ConcurrentLinkedQueue<>();
  private final Set<String> inFlight = new HashSet<>();
  private ProcessorContext<String, String> context;
  private KeyValueStore<String, String> store;
  private boolean offerPending = true;

  /**
   * @param sink where events go over HTTP, or null when only the topic gets them
   */
  OpenLineageProcessor(OpenLineageEvents events, RunEventSink sink) {
    this.events = Objects.requireNonNull(events, "events");
    this.sink = sink;
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.store = context.getStateStore(LineageStores.OPENLINEAGE_STORE);
    context.schedule(PUNCTUATION, PunctuationType.WALL_CLOCK_TIME, now -> punctuate());
  }

  @Override
  public void process(Record<String, Job> record) {
    Job job = record.value();
    if (job == null) {
      return;
    }
    for (OpenLineageEvents.Type type : OpenLineageEvents.reached(job)) {
      String key = IndexKeys.openLineageEvent(job.getId(), type.name());
      if (store.get(key) != null) {
        continue;
      }
      String json = events.event(type, job, System.currentTimeMillis()).encode();
      context.forward(new Record<>(OpenLineageEvents.runId(job.getId()), json, record.timestamp()));
      if (sink == null) {
        store.put(key, SENT);
      } else {
        store.put(key, json);
        offer(key, json);
      }
    }
  }

  private boolean offer(String key, String json) {
    if (inFlight.contains(key)) {
      return true;
    }
    if (sink.offer(new RunEventSink.PendingEvent(key, json, () -> acknowledged.add(key)))) {
      inFlight.add(key);
      return true;
    }
    offerPending = true;
    return false;
  }

  private void punctuate() {
    for (String key = acknowledged.poll(); key != null; key = acknowledged.poll()) {
      inFlight.remove(key);
      if (store.get(key) != null) {
        store.put(key, SENT);
      }
    }
    if (sink == null || !offerPending) {
      return;
    }
    // After a start, a rebalance or a full backlog: offer what is still pending, oldest job first
    // within the partition's key order.
    offerPending = false;
    try (KeyValueIterator<String, String> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, String> entry = all.next();
        if (!SENT.equals(entry.value) && !offer(entry.key, entry.value)) {
          return;
        }
      }
    }
  }
}
