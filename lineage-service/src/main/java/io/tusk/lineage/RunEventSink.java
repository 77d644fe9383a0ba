package io.tusk.lineage;

/** Where the OpenLineage processor hands events to be sent (the HTTP emitter, or a test's). */
interface RunEventSink {
  /**
   * Takes {@code event} to be sent, unless the backlog is full.
   *
   * @return false if the event was not taken; it stays pending and is offered again later
   */
  boolean offer(PendingEvent event);

  /**
   * A run event waiting to be sent.
   *
   * @param key its key in the OpenLineage store ({@code <job>\0<event type>})
   * @param json the event
   * @param ack called (on any thread) once the endpoint took it
   */
  record PendingEvent(String key, String json, Runnable ack) {}
}
