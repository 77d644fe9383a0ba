package io.tusk.lineage;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.StreamsScaling;
import io.tusk.common.security.AuthConfig;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.streams.state.HostInfo;

/** The service's own Kafka Streams properties, for {@code TopologyTestDriver} tests. */
final class TestStreams {
  private TestStreams() {}

  static Properties properties(Path stateDir) {
    LineageServiceConfig config =
        new LineageServiceConfig(
            KafkaSettings.of("unused:9092", "http://unused", "test"),
            stateDir.toString(),
            "127.0.0.1",
            0,
            1,
            0,
            "",
            null,
            OpenLineageSettings.disabled("unused:9092"),
            StreamsScaling.DEFAULT,
            AuthConfig.disabled());
    return LineageService.streamsProperties(config, new HostInfo("127.0.0.1", 1));
  }
}
