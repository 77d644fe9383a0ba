package io.tusk.lineage;

import java.util.Objects;

/**
 * Where the service sends OpenLineage run events.
 *
 * @param url base URL of the HTTP endpoint (events go to {@code <url>/api/v1/lineage}); empty: none
 * @param namespace the job namespace of every pipeline
 * @param topic Kafka topic the events are also written to; empty: none
 * @param backlog most events waiting in memory for the HTTP endpoint
 * @param bootstrapServers the Kafka bootstrap servers, which name the datasets' namespace
 */
public record OpenLineageSettings(
    String url, String namespace, String topic, int backlog, String bootstrapServers) {

  public OpenLineageSettings {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
  }

  /** Settings that send nothing. */
  public static OpenLineageSettings disabled(String bootstrapServers) {
    return new OpenLineageSettings("", "tusk", "", 1, bootstrapServers);
  }

  /** True if events go anywhere. */
  public boolean enabled() {
    return !url.isEmpty() || !topic.isEmpty();
  }

  /** The dataset namespace of Kafka topics: {@code kafka://<first bootstrap server>}. */
  public String datasetNamespace() {
    return "kafka://" + bootstrapServers.split(",")[0].trim();
  }
}
