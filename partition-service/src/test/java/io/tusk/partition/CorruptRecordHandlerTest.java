package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Result;
import org.junit.jupiter.api.Test;

class CorruptRecordHandlerTest {
  private final CorruptRecordHandler handler = new CorruptRecordHandler();
  private final ConsumerRecord<byte[], byte[]> record =
      new ConsumerRecord<>("r.by-member", 0, 5L, new byte[0], new byte[] {9});

  @Test
  void shouldRetryWhenTheRegistryCannotBeReached() {
    // Given a decode failure caused by an unreachable registry
    Exception failure =
        new SerializationException(
            "cannot resolve writer schema id 3",
            new SchemaRegistryException("GET /schemas/ids/3 failed", new IOException("refused")));

    // Then the thread fails (and is replaced) rather than skip the record
    assertThat(handler.handleError(null, record, failure).result()).isEqualTo(Result.FAIL);
  }

  @Test
  void shouldSkipWhenARecordCanNeverBeDecoded() {
    // Given a record that is not in the wire format
    Exception failure = new SerializationException("not Confluent wire format: magic byte 9");

    // Then it is skipped
    assertThat(handler.handleError(null, record, failure).result()).isEqualTo(Result.RESUME);
  }

  @Test
  void shouldSkipWhenTheRegistryDoesNotKnowTheSchemaId() {
    // Given a record whose schema ID the registry answers 404 for
    Exception failure =
        new SerializationException(
            "cannot resolve writer schema id 3",
            new SchemaRegistryException("schema 3 not found", 404, 40403));

    // Then it is skipped: asking again cannot help
    assertThat(handler.handleError(null, record, failure).result()).isEqualTo(Result.RESUME);
  }
}
