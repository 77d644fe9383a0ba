package io.tusk.schemas.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A registry held in memory, with the same ID semantics as a real one (one global ID per distinct
 * schema). For {@code TopologyTestDriver} unit tests and for running transforms on local files
 * without Kafka; services always talk to a real registry.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
  private final Map<String, Integer> idsBySchema = new ConcurrentHashMap<>();
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<String, List<Integer>> versionsBySubject = new ConcurrentHashMap<>();

  @Override
  public synchronized int register(String subject, Schema schema) {
    int id =
        idsBySchema.computeIfAbsent(
            schema.toString(),
            s -> {
              int next = schemasById.size() + 1;
              schemasById.put(next, schema);
              return next;
            });
    List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
    if (!versions.contains(id)) {
      versions.add(id);
    }
    return id;
  }

  @Override
  public Schema getById(int id) {
    Schema schema = schemasById.get(id);
    if (schema == null) {
      throw new SchemaRegistryException(
          "schema " + id + " not found", 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    }
    return schema;
  }

  @Override
  public synchronized OptionalInt lookup(String subject, Schema schema) {
    Integer id = idsBySchema.get(schema.toString());
    List<Integer> versions = versionsBySubject.getOrDefault(subject, List.of());
    return id != null && versions.contains(id) ? OptionalInt.of(id) : OptionalInt.empty();
  }

  @Override
  public synchronized RegisteredSchema latest(String subject) {
    List<Integer> versions = versionsBySubject.get(subject);
    if (versions == null || versions.isEmpty()) {
      throw new SchemaRegistryException(
          "subject " + subject + " not found", 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    }
    int id = versions.get(versions.size() - 1);
    return new RegisteredSchema(subject, id, versions.size(), schemasById.get(id));
  }
}
