package io.tusk.schemas.registry;

import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry REST API that Tusk uses: register a schema under a
 * subject, look a schema up, fetch a schema by its global ID, and read a subject's latest version.
 *
 * <p>Implementations cache: a schema ID never changes meaning, so each ID is fetched at most once.
 */
public interface SchemaRegistryClient {

  /** Registers {@code schema} under {@code subject} (idempotent) and returns its global ID. */
  int register(String subject, Schema schema);

  /** Returns the schema with global ID {@code id}. */
  Schema getById(int id);

  /** Returns the ID of {@code schema} if it is registered under {@code subject}. */
  java.util.OptionalInt lookup(String subject, Schema schema);

  /** Returns the latest version registered under {@code subject}. */
  RegisteredSchema latest(String subject);

  /** A schema as registered under a subject. */
  record RegisteredSchema(String subject, int id, int version, Schema schema) {}
}
