package io.tusk.partition;

import io.tusk.schemas.registry.SchemaRegistryException;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what a record that cannot be decoded does to the Kafka Streams application. A registry
 * that cannot be reached (or answers with a server error) is transient: the thread fails and is
 * replaced, and the record is read again, so no row is ever skipped for an outage. Anything else
 * (not the wire format, an unknown schema ID, bytes that are not the schema's Avro) is a corrupt
 * record that will never decode: it is logged by position and skipped, so it cannot stop every
 * repo's commits.
 */
public final class CorruptRecordHandler implements DeserializationExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(CorruptRecordHandler.class);

  @Override
  public void configure(Map<String, ?> configs) {
    // Nothing to configure.
  }

  @Override
  public Response handleError(
      ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (isTransient(exception)) {
      log.warn(
          "Cannot decode {}-{} at offset {} while the registry is unavailable; retrying",
          record.topic(),
          record.partition(),
          record.offset(),
          exception);
      return Response.fail();
    }
    log.error(
        "Skipping corrupt record {}-{} at offset {}",
        record.topic(),
        record.partition(),
        record.offset(),
        exception);
    return Response.resume();
  }

  /** True for a registry that could not be reached or failed on its side. */
  static boolean isTransient(Throwable exception) {
    for (Throwable t = exception; t != null; t = t.getCause()) {
      if (t instanceof SchemaRegistryException registry) {
        return registry.status() < 0 || registry.status() >= 500;
      }
    }
    return false;
  }
}
