package io.tusk.processor;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.ServiceKeys;
import io.tusk.common.security.AuthConfig;
import io.tusk.common.topics.TopicNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of a datum processor, read from the environment: the shared {@link
 * KafkaSettings#KEYS} and the keys below.
 */
public record DatumProcessorConfig(
    KafkaSettings kafka,
    String pipeline,
    int threads,
    String httpHost,
    int httpPort,
    int maxPollRecords,
    Duration pipelineWait,
    AuthConfig auth) {

  public static final ConfigKey PIPELINE =
      ConfigKey.required("TUSK_PIPELINE", "Name of the pipeline this processor runs");
  public static final ConfigKey THREADS =
      ConfigKey.optional(
          "TUSK_PROCESSOR_THREADS",
          "1",
          "Worker threads, each with its own consumer, transactional producer and transform");
  public static final ConfigKey HTTP_HOST = ServiceKeys.HTTP_HOST;
  public static final ConfigKey HTTP_PORT = ServiceKeys.httpPort(8084);
  public static final ConfigKey MAX_POLL_RECORDS =
      ConfigKey.optional(
          "TUSK_MAX_POLL_RECORDS",
          "500",
          "Most datums per poll; one poll's datums are processed in one transaction");
  public static final ConfigKey PIPELINE_WAIT_SECONDS =
      ConfigKey.optional(
          "TUSK_PIPELINE_WAIT_SECONDS",
          "60",
          "How long start waits for the pipeline's spec to appear in tusk.pipelines");

  /** Every key the datum processor reads. */
  public static final List<ConfigKey> KEYS =
      ServiceKeys.withKafkaAndAuthKeys(
          PIPELINE, THREADS, HTTP_HOST, HTTP_PORT, MAX_POLL_RECORDS, PIPELINE_WAIT_SECONDS);

  public DatumProcessorConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(pipeline, "pipeline");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(pipelineWait, "pipelineWait");
    Objects.requireNonNull(auth, "auth");
  }

  /**
   * Reads the configuration from {@code env}.
   *
   * @throws ConfigException naming the key that is missing or invalid
   */
  public static DatumProcessorConfig from(Map<String, String> env) {
    Config config = Config.load(env, KEYS);
    String pipeline = config.string(PIPELINE);
    if (!TopicNames.isValidName(pipeline)) {
      throw new ConfigException(
          PIPELINE.name()
              + " must be a pipeline name matching "
              + TopicNames.NAME_PATTERN.pattern()
              + ", got '"
              + pipeline
              + "'");
    }
    return new DatumProcessorConfig(
        KafkaSettings.from(config),
        pipeline,
        config.integer(THREADS, 1),
        config.string(HTTP_HOST),
        config.port(HTTP_PORT),
        config.integer(MAX_POLL_RECORDS, 1),
        Duration.ofSeconds(config.integer(PIPELINE_WAIT_SECONDS, 0)),
        AuthConfig.from(config));
  }

  /** The consumer group every instance of this pipeline's processor joins. */
  public String groupId() {
    return TopicNames.processorGroup(pipeline);
  }
}
