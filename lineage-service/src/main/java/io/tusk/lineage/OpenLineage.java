package io.tusk.lineage;

import java.util.Objects;
import java.util.function.Function;

/**
 * What the topology needs to emit OpenLineage events.
 *
 * @param settings namespace, dataset namespace and the optional events topic
 * @param sink where events go over HTTP, or null when only the topic gets them
 * @param updatesTopicOfRepo the topic a repo's rows arrive on (the input dataset's name)
 */
record OpenLineage(
    OpenLineageSettings settings, RunEventSink sink, Function<String, String> updatesTopicOfRepo) {

  OpenLineage {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(updatesTopicOfRepo, "updatesTopicOfRepo");
  }
}
