package io.tusk.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.localstack.LocalStack;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.Job;
import io.tusk.schemas.serde.AvroSerde;
import io.tusk.testfixtures.LocalStackExtension;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The registry client and serde against a real Apicurio Registry's Confluent-compatible API. */
@ExtendWith(LocalStackExtension.class)
class HttpSchemaRegistryClientIT {

  private static String subject(String name) {
    return name + "-" + UUID.randomUUID() + "-value";
  }

  @Test
  void shouldRegisterLookUpAndFetchById(LocalStack stack) {
    // Given a client of the real registry
    HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(stack.registryUrl());
    String subject = subject("jobs");

    // When a schema is registered, then registered again
    int id = client.register(subject, Job.getClassSchema());
    int again =
        new HttpSchemaRegistryClient(stack.registryUrl()).register(subject, Job.getClassSchema());

    // Then the same schema has the same ID, and every read answers it
    assertThat(again).isEqualTo(id);
    assertThat(new HttpSchemaRegistryClient(stack.registryUrl()).getById(id))
        .isEqualTo(Job.getClassSchema());
    assertThat(client.lookup(subject, Job.getClassSchema())).hasValue(id);
    SchemaRegistryClient.RegisteredSchema latest = client.latest(subject);
    assertThat(latest.id()).isEqualTo(id);
    assertThat(latest.version()).isEqualTo(1);
    assertThat(latest.schema()).isEqualTo(Job.getClassSchema());
  }

  @Test
  void shouldAnswerNotFoundWithConfluentCodes(LocalStack stack) {
    HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(stack.registryUrl());
    String subject = subject("missing");

    assertThat(client.lookup(subject, Barrier.getClassSchema())).isEmpty();
    assertThatThrownBy(() -> client.latest(subject))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.isNotFound()).isTrue();
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SUBJECT_NOT_FOUND);
            });
    assertThatThrownBy(() -> client.getById(987654)).isInstanceOf(SchemaRegistryException.class);
  }

  @Test
  void shouldRefuseIncompatibleChangeUnderBackwardCompatibility(LocalStack stack) {
    HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(stack.registryUrl());
    String subject = subject("evolving");
    Schema v1 = SchemaBuilder.record("E").fields().requiredString("a").endRecord();
    Schema v2 =
        SchemaBuilder.record("E").fields().requiredString("a").optionalLong("b").endRecord();
    Schema broken = SchemaBuilder.record("E").fields().requiredLong("a").endRecord();
    client.setCompatibility(subject, "BACKWARD");

    int id1 = client.register(subject, v1);
    int id2 = client.register(subject, v2);

    assertThat(id2).isNotEqualTo(id1);
    assertThat(client.latest(subject).version()).isEqualTo(2);
    assertThatThrownBy(() -> client.register(subject, broken))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.status()).isEqualTo(409));
  }

  @Test
  void shouldFetchAnUnknownIdOnceHoweverManyRecordsCarryIt(LocalStack stack) {
    // Given records serialized by one client
    String topic = "ids-" + UUID.randomUUID();
    AvroSerde<Barrier> writer =
        AvroSerde.forValue(new HttpSchemaRegistryClient(stack.registryUrl()), Barrier.class);
    byte[][] records =
        IntStream.range(0, 500)
            .mapToObj(i -> writer.serialize(topic, new Barrier(i, (long) i)))
            .toArray(byte[][]::new);

    // When a fresh client's deserializer reads all of them
    HttpSchemaRegistryClient readerClient = new HttpSchemaRegistryClient(stack.registryUrl());
    AvroSerde<Barrier> reader = AvroSerde.forValue(readerClient, Barrier.class);
    for (int i = 0; i < records.length; i++) {
      assertThat(reader.deserialize(topic, records[i]).getPosition()).isEqualTo(i);
    }

    // Then the schema was fetched with exactly one request
    assertThat(readerClient.requestCount()).isEqualTo(1);
  }
}
